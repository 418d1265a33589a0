#pragma once
// The input side of a node: one bounded queue per input port, and the rule
// that turns several inputs into aligned sets for the node. A set is ready
// when every port either has a frame waiting or has ended; it holds the
// waiting frames with the smallest sequence number, and null for ports whose
// head is later (a gap) or that have ended. So inputs are aligned by
// sequence, a gap on one input never stalls the others forever, and no
// frame is ever discarded here.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "messages/frame.hpp"

namespace streamlab {

// Fixed-capacity FIFO of frames; never allocates after construction.
class FrameRing {
 public:
  explicit FrameRing(std::size_t capacity) : slots_(capacity) {}
  bool push(Frame frame);  // false when full
  Frame pop();             // precondition: !empty()
  const Frame& front() const { return slots_[head_]; }
  const Frame& at(std::size_t i) const { return slots_[(head_ + i) % slots_.size()]; }  // 0 = front
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }
  std::size_t capacity() const { return slots_.size(); }

 private:
  std::vector<Frame> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

class InputAligner {
 public:
  explicit InputAligner(const std::vector<std::size_t>& capacities);

  // False when the port's queue is full: the producer sent more than it
  // was granted (a flow-control bug, never a normal condition).
  bool push(std::size_t port, Frame frame);
  void end(std::size_t port) { ended_[port] = true; }

  // Fills `slots` (resized to the port count) with the next aligned set;
  // false when none is ready yet.
  bool next(std::vector<const Frame*>& slots) const;
  // Removes the frame `next` offered for this port.
  void pop(std::size_t port) { rings_[port].pop(); }

  // Every port has ended and nothing is queued: the node may finish.
  bool drained() const;
  std::size_t ports() const { return rings_.size(); }
  std::size_t queued(std::size_t port) const { return rings_[port].size(); }
  std::size_t queued_total() const;
  // Drops everything still queued (a forced stop); returns how many per port.
  std::vector<std::uint64_t> clear();

 private:
  std::vector<FrameRing> rings_;
  std::vector<bool> ended_;
};

}  // namespace streamlab
