#pragma once
// A worker's job queue for the scheduler (actors/stealing_policy.hpp).
// CAF 0.17's work stealing keeps each worker's jobs in a linked list that
// allocates a node for every job it is given, i.e. every time an actor is
// scheduled. This one keeps them in a ring buffer that only grows: once it
// has seen the most jobs a worker ever holds at once, nothing is allocated.
//
// The owning worker takes from and prepends at the head; other threads
// append at the tail (enqueueing) and take from it (stealing). Both ends
// move within the same array, so unlike a list's ends they cannot have a
// lock each; one lock guards all, held for a few loads and stores.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>

#include <caf/resumable.hpp>

namespace streamlab {

class JobQueue {
 public:
  using job_ptr = caf::resumable*;

  explicit JobQueue(std::size_t initial_capacity = 64)
      : capacity_(round_up_to_power_of_two(initial_capacity)),
        slots_(std::make_unique<job_ptr[]>(capacity_)) {}
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // Thread-safe. CAF's sleeping worker asks this in its condition
  // variable's predicate and thieves may ask it before they lock, so it
  // reads the size without the lock. An enqueuer stores the new size before
  // it takes the worker's wait lock, and the sleeper reads it under that
  // lock, so a wake-up is not lost.
  bool empty() const noexcept { return size_.load(std::memory_order_acquire) == 0; }

  std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }

  std::size_t capacity() const {
    std::lock_guard<Spinlock> guard(lock_);
    return capacity_;
  }

  void append(job_ptr job) {
    std::lock_guard<Spinlock> guard(lock_);
    std::size_t n = size_.load(std::memory_order_relaxed);
    if (n == capacity_) grow(n);
    slots_[(head_ + n) & (capacity_ - 1)] = job;
    size_.store(n + 1, std::memory_order_release);
  }

  void prepend(job_ptr job) {
    std::lock_guard<Spinlock> guard(lock_);
    std::size_t n = size_.load(std::memory_order_relaxed);
    if (n == capacity_) grow(n);
    head_ = (head_ - 1) & (capacity_ - 1);
    slots_[head_] = job;
    size_.store(n + 1, std::memory_order_release);
  }

  // Returns nullptr if the queue is empty.
  job_ptr take_head() {
    if (empty()) return nullptr;  // idle workers poll this; spare them the lock
    std::lock_guard<Spinlock> guard(lock_);
    std::size_t n = size_.load(std::memory_order_relaxed);
    if (n == 0) return nullptr;
    job_ptr job = slots_[head_];
    head_ = (head_ + 1) & (capacity_ - 1);
    size_.store(n - 1, std::memory_order_release);
    return job;
  }

  // Returns nullptr if the queue is empty.
  job_ptr take_tail() {
    if (empty()) return nullptr;  // most raids find nothing; spare the owner
    std::lock_guard<Spinlock> guard(lock_);
    std::size_t n = size_.load(std::memory_order_relaxed);
    if (n == 0) return nullptr;
    job_ptr job = slots_[(head_ + n - 1) & (capacity_ - 1)];
    size_.store(n - 1, std::memory_order_release);
    return job;
  }

 private:
  // As CAF's own queue locks: critical sections are a handful of
  // instructions, so a waiter spins (yielding) rather than sleeping in the
  // kernel, which is what a contended std::mutex would do.
  class Spinlock {
   public:
    void lock() noexcept {
      while (locked_.exchange(true, std::memory_order_acquire))
        while (locked_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

   private:
    std::atomic<bool> locked_{false};
  };

  static std::size_t round_up_to_power_of_two(std::size_t n) {
    std::size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }

  // Doubles the capacity, unrolling the ring so that the head is at 0.
  // Called with the lock held and the queue full (n == capacity_).
  void grow(std::size_t n) {
    const std::size_t bigger = capacity_ * 2;
    auto slots = std::make_unique<job_ptr[]>(bigger);
    for (std::size_t i = 0; i < n; ++i) slots[i] = slots_[(head_ + i) & (capacity_ - 1)];
    slots_ = std::move(slots);
    capacity_ = bigger;
    head_ = 0;
  }

  mutable Spinlock lock_;
  std::size_t capacity_;              // a power of two; guarded by lock_
  std::unique_ptr<job_ptr[]> slots_;  // guarded by lock_
  std::size_t head_ = 0;              // index of the first job; guarded by lock_
  // Written only under lock_, read without it by empty() and size().
  std::atomic<std::size_t> size_{0};
};

}  // namespace streamlab
