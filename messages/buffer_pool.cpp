#include "messages/buffer_pool.hpp"

#include <cstdint>
#include <new>

namespace streamlab {

namespace {
constexpr std::size_t kAlign = 64;  // cache line; also lets the gain loop use aligned SIMD
constexpr std::size_t kHeader = (sizeof(SampleBuffer) + kAlign - 1) / kAlign * kAlign;
constexpr std::size_t kClassCount = BufferPool::kMaxClassBits - BufferPool::kMinClassBits + 1;

#if defined(__SANITIZE_ADDRESS__)
#define STREAMLAB_LEAK_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STREAMLAB_LEAK_CHECKED 1
#endif
#endif

// Treiber stack whose head packs the top buffer's address (48 bits, all a
// user-space pointer needs on x86-64 and AArch64) with a 16-bit counter
// bumped on every change, so a pop that read a stale head cannot succeed
// (the ABA problem). Unlike a bounded ring it has no half-published state:
// a thread preempted in the middle of a push or pop blocks nobody, so an
// acquire never misses while buffers are free. Buffers are only freed when
// the pool dies, so a stale reader never touches freed memory.
class FreeStack {
 public:
  static constexpr std::uint64_t kPointerMask = (std::uint64_t{1} << 48) - 1;

  void push(SampleBuffer* buffer, std::atomic<SampleBuffer*>& link) {
    std::uint64_t old_head = head_.load(std::memory_order_relaxed);
    std::uint64_t new_head;
    do {
      link.store(top(old_head), std::memory_order_relaxed);
      new_head = pack(buffer, old_head);
    } while (!head_.compare_exchange_weak(old_head, new_head, std::memory_order_release,
                                          std::memory_order_relaxed));
    show_top_to_leak_checker();
  }

  template <class Link>
  SampleBuffer* pop(Link link_of) {
    std::uint64_t old_head = head_.load(std::memory_order_acquire);
    while (SampleBuffer* buffer = top(old_head)) {
      SampleBuffer* next = link_of(buffer).load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(old_head, pack(next, old_head), std::memory_order_acquire,
                                      std::memory_order_acquire)) {
        show_top_to_leak_checker();
        return buffer;
      }
    }
    return nullptr;
  }

 private:
  static SampleBuffer* top(std::uint64_t head) {
    return reinterpret_cast<SampleBuffer*>(head & kPointerMask);
  }
  static std::uint64_t pack(SampleBuffer* buffer, std::uint64_t previous) {
    std::uint64_t tag = (previous >> 48) + 1;
    return (tag << 48) | reinterpret_cast<std::uint64_t>(buffer);
  }
  // LeakSanitizer cannot follow the tagged head, so in a sanitized build
  // every free buffer would be reported as leaked at exit (the process pool
  // is never destroyed). An untagged copy of the top makes the whole stack
  // reachable to it; once threads are quiet it is exact. No cost otherwise.
  void show_top_to_leak_checker() {
#ifdef STREAMLAB_LEAK_CHECKED
    top_for_leak_checker_.store(top(head_.load(std::memory_order_relaxed)),
                                std::memory_order_relaxed);
#endif
  }
  std::atomic<std::uint64_t> head_{0};
#ifdef STREAMLAB_LEAK_CHECKED
  std::atomic<SampleBuffer*> top_for_leak_checker_{nullptr};
#endif
};
}  // namespace

struct BufferPool::SizeClass {
  FreeStack free;
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> recycled{0};
};

SampleBuffer* SampleBuffer::allocate(BufferPool* pool, std::size_t capacity) {
  // An absurd request (oversized path) must not wrap the byte count around
  // to a small block that the caller then writes `capacity` floats into.
  if (capacity > (SIZE_MAX - kHeader) / sizeof(float)) throw std::bad_array_new_length();
  void* block = ::operator new(kHeader + capacity * sizeof(float), std::align_val_t(kAlign));
  auto* samples = reinterpret_cast<float*>(static_cast<char*>(block) + kHeader);
  return new (block) SampleBuffer(pool, capacity, samples);
}

void SampleBuffer::deallocate(SampleBuffer* buffer) {
  buffer->~SampleBuffer();
  ::operator delete(static_cast<void*>(buffer), std::align_val_t(kAlign));
}

void SampleBuffer::release(SampleBuffer* buffer) {
  if (buffer->pool_) {
    buffer->pool_->recycle(buffer);
  } else {
    deallocate(buffer);
  }
}

std::atomic<SampleBuffer*>& BufferPool::free_link(SampleBuffer* buffer) {
  return buffer->next_free_;
}

BufferPool::BufferPool() : classes_(new SizeClass[kClassCount]) {}

BufferPool::~BufferPool() {
  // Only buffers resting in the pool are freed; every buffer handed out must
  // have been released before its pool dies (process_pool() never dies).
  for (std::size_t i = 0; i < kClassCount; ++i) {
    while (SampleBuffer* buffer = classes_[i].free.pop(free_link)) SampleBuffer::deallocate(buffer);
  }
}

BufferPool& BufferPool::process_pool() {
  static BufferPool* pool = new BufferPool();
  return *pool;
}

std::size_t BufferPool::class_index(std::size_t samples) {
  std::size_t bits = kMinClassBits;
  while ((std::size_t{1} << bits) < samples) ++bits;
  return bits - kMinClassBits;
}

WritableBuffer BufferPool::acquire(std::size_t samples) {
  if (samples > (std::size_t{1} << kMaxClassBits)) {
    oversized_misses_.fetch_add(1, std::memory_order_relaxed);
    SampleBuffer* buffer = SampleBuffer::allocate(nullptr, samples);
    buffer->size_ = samples;
    return WritableBuffer(buffer);
  }
  std::size_t index = class_index(samples);
  SizeClass& size_class = classes_[index];
  SampleBuffer* buffer = size_class.free.pop(free_link);
  if (buffer) {
    size_class.hits.fetch_add(1, std::memory_order_relaxed);
    buffer->refs_.store(1, std::memory_order_relaxed);
  } else {
    size_class.misses.fetch_add(1, std::memory_order_relaxed);
    buffer = SampleBuffer::allocate(this, std::size_t{1} << (index + kMinClassBits));
  }
  buffer->size_ = samples;
  return WritableBuffer(buffer);
}

void BufferPool::recycle(SampleBuffer* buffer) {
  SizeClass& size_class = classes_[class_index(buffer->capacity_)];
  size_class.free.push(buffer, buffer->next_free_);
  size_class.recycled.fetch_add(1, std::memory_order_relaxed);
}

PoolStats BufferPool::stats() const {
  PoolStats total;
  total.misses = oversized_misses_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kClassCount; ++i) {
    total.hits += classes_[i].hits.load(std::memory_order_relaxed);
    total.misses += classes_[i].misses.load(std::memory_order_relaxed);
    total.recycled += classes_[i].recycled.load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace streamlab
