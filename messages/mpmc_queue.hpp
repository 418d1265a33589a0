#pragma once
// Bounded lock-free multi-producer multi-consumer queue (Vyukov's design):
// one CAS per operation, no ABA problem because each cell carries a sequence.

#include <atomic>
#include <cstddef>
#include <memory>
#include <stdexcept>

namespace streamlab {

template <class T>
class MpmcQueue {
 public:
  // capacity must be a power of two, at least 2: the cell sequence numbers
  // cannot tell a full cell from an empty one in a one-cell ring, and a
  // non-power-of-two capacity breaks the index mask.
  explicit MpmcQueue(std::size_t capacity)
      : mask_(checked(capacity) - 1), cells_(new Cell[capacity]) {
    for (std::size_t i = 0; i < capacity; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  bool try_push(T value) {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      std::size_t seq = cell->seq.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    cell->value = std::move(value);
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  bool try_pop(T& out) {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    Cell* cell;
    int waits = 0;
    for (;;) {
      cell = &cells_[pos & mask_];
      std::size_t seq = cell->seq.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        // Not published yet: either empty, or a push has claimed this cell
        // and is writing it (a few instructions). Reporting "empty" then
        // would make the pool allocate although buffers are coming back, so
        // wait a little for the push; give up only if it stalls (preempted).
        if (tail_.load(std::memory_order_acquire) == pos || ++waits > kMaxWaits) return false;
        pause();
        pos = head_.load(std::memory_order_relaxed);
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    out = std::move(cell->value);
    cell->seq.store(pos + mask_ + 1, std::memory_order_release);
    return true;
  }

 private:
  static constexpr int kMaxWaits = 256;
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  static std::size_t checked(std::size_t capacity) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
      throw std::invalid_argument("MpmcQueue capacity must be a power of two >= 2");
    }
    return capacity;
  }
  struct Cell {
    std::atomic<std::size_t> seq;
    T value;
  };
  const std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::size_t> tail_{0};
};

}  // namespace streamlab
