#pragma once
// Pool of sample buffers in power-of-two size classes. Buffers are often
// acquired on one thread and released on another (producer and consumer
// actors), which is why each class is a lock-free stack: a cross-thread
// free through the allocator costs 4-5 us per frame here
// (docs/architecture.md#the-frame), a pool round trip well under a microsecond. The
// stack is last-in first-out, so the buffer handed out next is the one most
// likely still in cache. A pool keeps every buffer returned to it (as many
// as were ever in use at once) until it is destroyed.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "messages/sample_buffer.hpp"

namespace streamlab {

struct PoolStats {
  std::uint64_t hits = 0;      // acquire served from the pool
  std::uint64_t misses = 0;    // acquire that had to allocate
  std::uint64_t recycled = 0;  // release that went back to the pool
};

class BufferPool {
 public:
  static constexpr std::size_t kMinClassBits = 6;   // 64 samples
  static constexpr std::size_t kMaxClassBits = 24;  // 16 M samples

  BufferPool();
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // The process-wide pool. Never destroyed, so buffers released during
  // shutdown (in mailboxes of exiting actors) always have a pool to go to.
  static BufferPool& process_pool();

  // A buffer holding exactly `samples` floats (contents unspecified).
  // Larger than the biggest class: allocated outside the pool, counted as a miss.
  WritableBuffer acquire(std::size_t samples);

  PoolStats stats() const;

 private:
  friend class SampleBuffer;
  struct SizeClass;
  void recycle(SampleBuffer* buffer);
  static std::atomic<SampleBuffer*>& free_link(SampleBuffer* buffer);
  static std::size_t class_index(std::size_t samples);

  std::unique_ptr<SizeClass[]> classes_;
  std::atomic<std::uint64_t> oversized_misses_{0};
};

}  // namespace streamlab
