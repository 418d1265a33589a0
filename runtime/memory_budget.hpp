#pragma once
// A pipeline's bound on the sample bytes its edges may hold at once
// (pipeline_config.max_memory_bytes). Shared by the pipeline's node actors;
// one atomic add per frame sent and one subtract per frame consumed. Edges
// are already bounded in frames; this bounds them in bytes, so frames
// larger than expected fail the run with a clear error instead of the
// process being killed for lack of memory.

#include <atomic>
#include <cstdint>

namespace streamlab {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::uint64_t limit_bytes) : limit_(limit_bytes) {}

  // Reserves `bytes`; false (and nothing reserved) when that would pass the limit.
  bool reserve(std::uint64_t bytes) {
    std::uint64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (limit_ && used + bytes > limit_) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void release(std::uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  std::uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  std::uint64_t limit() const { return limit_; }

 private:
  const std::uint64_t limit_;  // 0: no limit
  std::atomic<std::uint64_t> used_{0};
};

}  // namespace streamlab
