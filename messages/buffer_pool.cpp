#include "messages/buffer_pool.hpp"

#include <cstdint>
#include <new>

#include "messages/mpmc_queue.hpp"

namespace streamlab {

namespace {
constexpr std::size_t kAlign = 64;  // cache line; also lets the gain loop use aligned SIMD
constexpr std::size_t kHeader = (sizeof(SampleBuffer) + kAlign - 1) / kAlign * kAlign;
constexpr std::size_t kClassCount = BufferPool::kMaxClassBits - BufferPool::kMinClassBits + 1;
}  // namespace

struct BufferPool::SizeClass {
  SizeClass() : free(kSlotsPerClass) {}
  MpmcQueue<SampleBuffer*> free;
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> recycled{0};
  std::atomic<std::uint64_t> discarded{0};
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

BufferPool::BufferPool() : classes_(new SizeClass[kClassCount]) {}

BufferPool::~BufferPool() {
  // Only buffers resting in the pool are freed; every buffer handed out must
  // have been released before its pool dies (process_pool() never dies).
  for (std::size_t i = 0; i < kClassCount; ++i) {
    SampleBuffer* buffer = nullptr;
    while (classes_[i].free.try_pop(buffer)) SampleBuffer::deallocate(buffer);
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
  SampleBuffer* buffer = nullptr;
  if (size_class.free.try_pop(buffer)) {
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
  if (size_class.free.try_push(buffer)) {
    size_class.recycled.fetch_add(1, std::memory_order_relaxed);
  } else {
    size_class.discarded.fetch_add(1, std::memory_order_relaxed);
    SampleBuffer::deallocate(buffer);
  }
}

PoolStats BufferPool::stats() const {
  PoolStats total;
  total.misses = oversized_misses_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kClassCount; ++i) {
    total.hits += classes_[i].hits.load(std::memory_order_relaxed);
    total.misses += classes_[i].misses.load(std::memory_order_relaxed);
    total.recycled += classes_[i].recycled.load(std::memory_order_relaxed);
    total.discarded += classes_[i].discarded.load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace streamlab
