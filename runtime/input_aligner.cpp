#include "runtime/input_aligner.hpp"

#include <limits>

namespace streamlab {

bool FrameRing::push(Frame frame) {
  if (count_ == slots_.size()) return false;
  slots_[(head_ + count_) % slots_.size()] = std::move(frame);
  ++count_;
  return true;
}

Frame FrameRing::pop() {
  Frame out = std::move(slots_[head_]);
  slots_[head_] = Frame{};  // let go of the buffer now, not when the slot is reused
  head_ = (head_ + 1) % slots_.size();
  --count_;
  return out;
}

InputAligner::InputAligner(const std::vector<std::size_t>& capacities) : ended_(capacities.size()) {
  rings_.reserve(capacities.size());
  for (auto capacity : capacities) rings_.emplace_back(capacity);
}

bool InputAligner::push(std::size_t port, Frame frame) {
  return rings_[port].push(std::move(frame));
}

bool InputAligner::next(std::vector<const Frame*>& slots) const {
  slots.resize(rings_.size());
  std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
  bool any = false;
  for (std::size_t i = 0; i < rings_.size(); ++i) {
    if (rings_[i].empty()) {
      if (!ended_[i]) return false;  // this input may still deliver the lowest seq
      continue;
    }
    any = true;
    if (rings_[i].front().seq < lowest) lowest = rings_[i].front().seq;
  }
  if (!any) return false;
  for (std::size_t i = 0; i < rings_.size(); ++i) {
    bool match = !rings_[i].empty() && rings_[i].front().seq == lowest;
    slots[i] = match ? &rings_[i].front() : nullptr;
  }
  return true;
}

bool InputAligner::drained() const {
  for (std::size_t i = 0; i < rings_.size(); ++i)
    if (!ended_[i] || !rings_[i].empty()) return false;
  return true;
}

std::size_t InputAligner::queued_total() const {
  std::size_t total = 0;
  for (const auto& ring : rings_) total += ring.size();
  return total;
}

std::vector<std::uint64_t> InputAligner::clear() {
  std::vector<std::uint64_t> dropped(rings_.size());
  for (std::size_t i = 0; i < rings_.size(); ++i) {
    while (!rings_[i].empty()) {
      rings_[i].pop();
      ++dropped[i];
    }
  }
  return dropped;
}

}  // namespace streamlab
