#pragma once
// A lock-free ring for exactly one producer thread and one consumer thread,
// with all its storage allocated up front: what an audio callback (which
// must never allocate, lock or block) uses to hand samples to the rest of
// the program, and back. Writes are all-or-nothing, so a block of
// interleaved samples is never torn; the caller decides what a full ring
// means (drop and count, wait, ...).
//
// Positions are 64-bit counters that only grow (they cannot wrap in
// practice), so "full" and "empty" need no spare slot. Each side caches the
// other side's position and reloads it only when the cached value says
// there is no room (or nothing to read), which keeps the two cache lines
// from bouncing on every call.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

namespace streamlab {

template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable<T>::value, "SpscRing copies its items with memcpy");

 public:
  explicit SpscRing(std::size_t capacity)
      : capacity_(capacity), slots_(std::make_unique<T[]>(capacity)) {}
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  std::size_t capacity() const { return capacity_; }

  // Producer side -------------------------------------------------------

  std::size_t write_available() {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    producer_tail_cache_ = tail_.load(std::memory_order_acquire);
    return capacity_ - static_cast<std::size_t>(head - producer_tail_cache_);
  }

  // Appends all `n` items, or none of them (false) when they do not fit.
  bool push(const T* items, std::size_t n) {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (capacity_ - static_cast<std::size_t>(head - producer_tail_cache_) < n) {
      producer_tail_cache_ = tail_.load(std::memory_order_acquire);
      if (capacity_ - static_cast<std::size_t>(head - producer_tail_cache_) < n) return false;
    }
    copy_in(static_cast<std::size_t>(head % capacity_), items, n);
    head_.store(head + n, std::memory_order_release);
    return true;
  }
  bool push(const T& item) { return push(&item, 1); }

  // Consumer side -------------------------------------------------------

  std::size_t read_available() {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    consumer_head_cache_ = head_.load(std::memory_order_acquire);
    return static_cast<std::size_t>(consumer_head_cache_ - tail);
  }

  // Removes up to `max` items into `out`; returns how many.
  std::size_t pop(T* out, std::size_t max) {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (consumer_head_cache_ - tail < max)
      consumer_head_cache_ = head_.load(std::memory_order_acquire);
    const std::size_t n = std::min(max, static_cast<std::size_t>(consumer_head_cache_ - tail));
    if (n == 0) return 0;
    copy_out(static_cast<std::size_t>(tail % capacity_), out, n);
    tail_.store(tail + n, std::memory_order_release);
    return n;
  }
  bool pop(T& item) { return pop(&item, 1) == 1; }

  // Either side, for figures only: a moment's view, possibly stale.
  std::size_t size_approx() const {
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    return head > tail ? static_cast<std::size_t>(head - tail) : 0;
  }

 private:
  void copy_in(std::size_t at, const T* items, std::size_t n) {
    const std::size_t first = std::min(n, capacity_ - at);
    std::memcpy(slots_.get() + at, items, first * sizeof(T));
    if (n > first) std::memcpy(slots_.get(), items + first, (n - first) * sizeof(T));
  }
  void copy_out(std::size_t at, T* out, std::size_t n) const {
    const std::size_t first = std::min(n, capacity_ - at);
    std::memcpy(out, slots_.get() + at, first * sizeof(T));
    if (n > first) std::memcpy(out + first, slots_.get(), (n - first) * sizeof(T));
  }

  const std::size_t capacity_;
  const std::unique_ptr<T[]> slots_;
  // Written by the producer.
  alignas(64) std::atomic<std::uint64_t> head_{0};
  std::uint64_t producer_tail_cache_ = 0;
  // Written by the consumer.
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  std::uint64_t consumer_head_cache_ = 0;
};

}  // namespace streamlab
