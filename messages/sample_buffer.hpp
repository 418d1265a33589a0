#pragma once
// Ref-counted, pooled sample storage. A buffer is written once through a
// WritableBuffer (sole owner), then frozen into a BufferRef that any number of
// frames and threads may share; the last BufferRef to drop hands the block
// back to its pool, so steady-state streaming allocates nothing.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace streamlab {

class BufferPool;

class SampleBuffer {
 public:
  SampleBuffer(const SampleBuffer&) = delete;
  SampleBuffer& operator=(const SampleBuffer&) = delete;

  const float* data() const { return samples_; }
  float* data() { return samples_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

 private:
  friend class BufferPool;
  friend class BufferRef;
  friend class WritableBuffer;

  SampleBuffer(BufferPool* pool, std::size_t capacity, float* samples)
      : pool_(pool), capacity_(capacity), samples_(samples) {}

  static SampleBuffer* allocate(BufferPool* pool, std::size_t capacity);
  static void deallocate(SampleBuffer* buffer);
  // Called when the last owner lets go: back to the pool, or freed.
  static void release(SampleBuffer* buffer);

  std::atomic<std::uint32_t> refs_{1};
  std::atomic<SampleBuffer*> next_free_{nullptr};  // link in its pool's free list
  BufferPool* pool_;
  std::size_t capacity_;
  std::size_t size_ = 0;
  float* samples_;
};

// Shared, read-only handle. Copying it costs one atomic increment.
class BufferRef {
 public:
  BufferRef() = default;
  BufferRef(const BufferRef& other) noexcept : buf_(other.buf_) {
    if (buf_) buf_->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  BufferRef(BufferRef&& other) noexcept : buf_(std::exchange(other.buf_, nullptr)) {}
  BufferRef& operator=(BufferRef other) noexcept {
    std::swap(buf_, other.buf_);
    return *this;
  }
  ~BufferRef() { reset(); }

  void reset() noexcept {
    if (buf_ && buf_->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      SampleBuffer::release(buf_);
    }
    buf_ = nullptr;
  }

  const float* data() const { return buf_ ? buf_->data() : nullptr; }
  std::size_t size() const { return buf_ ? buf_->size() : 0; }
  explicit operator bool() const { return buf_ != nullptr; }
  // Identity of the underlying block: equal for all frames sharing it.
  const void* id() const { return buf_; }
  std::uint32_t use_count() const { return buf_ ? buf_->refs_.load(std::memory_order_relaxed) : 0; }

 private:
  friend class WritableBuffer;
  explicit BufferRef(SampleBuffer* adopted) : buf_(adopted) {}
  SampleBuffer* buf_ = nullptr;
};

// Sole owner of a buffer being filled. freeze() makes it immutable and shareable.
class WritableBuffer {
 public:
  WritableBuffer() = default;
  WritableBuffer(const WritableBuffer&) = delete;
  WritableBuffer& operator=(const WritableBuffer&) = delete;
  WritableBuffer(WritableBuffer&& other) noexcept : buf_(std::exchange(other.buf_, nullptr)) {}
  WritableBuffer& operator=(WritableBuffer&& other) noexcept {
    if (this != &other) {
      drop();
      buf_ = std::exchange(other.buf_, nullptr);
    }
    return *this;
  }
  ~WritableBuffer() { drop(); }

  float* data() { return buf_->data(); }
  std::size_t size() const { return buf_->size(); }
  explicit operator bool() const { return buf_ != nullptr; }

  BufferRef freeze() && { return BufferRef(std::exchange(buf_, nullptr)); }

 private:
  friend class BufferPool;
  explicit WritableBuffer(SampleBuffer* owned) : buf_(owned) {}
  void drop() noexcept {
    if (buf_) SampleBuffer::release(std::exchange(buf_, nullptr));
  }
  SampleBuffer* buf_ = nullptr;
};

}  // namespace streamlab
