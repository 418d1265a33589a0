#pragma once
// Where a live stream cuts its frames so that streams captured side by side
// line up: every stream of a pipeline cuts on one grid of the wall clock,
// slots of frame_size / rate seconds counted from the pipeline's epoch, and
// numbers each frame by its slot. A mix (which aligns by sequence number)
// then adds samples taken at the same time, whichever stream started first.
//
// A device's position is mapped to the wall clock from the callbacks' times:
// the earliest-looking of the last 64 blocks (a callback runs late, never
// early, and a loaded machine delays whole bursts of them by tens of ms).
// The mapping is taken once, at the first block half a second past the
// epoch, late enough that every stream of the run has started: streams of
// one server are called back in the same cycles, so they take it from the
// same blocks and agree to the callbacks' jitter. (A minimum over all
// blocks did not: a device clock that drifts against the wall clock, as
// JACK's dummy backend does by thousands of ppm, made streams that had seen
// different stretches disagree by a frame.) What a stream captures before
// then is not part of it.
//
// The first frame starts at the device block boundary nearest its slot's
// instant: every client of a server has its blocks cut at the same
// instants, so streams whose mappings differ by less than half a block
// (callback jitter is tens of microseconds) start at the very same sample.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace streamlab {

class FrameGrid {
 public:
  static constexpr std::int64_t kSettleNs = 500'000'000;  // after the epoch
  static constexpr std::size_t kRecent = 64;              // blocks the mapping is taken from
  static constexpr std::uint64_t kMinBlocks = 16;         // for a stream started late

  // `block`: the device's block (period) size in frames; 0 or 1 when unknown.
  FrameGrid(std::int64_t epoch_ns, std::uint32_t rate, std::uint32_t frame_size,
            std::uint32_t block)
      : epoch_ns_(epoch_ns),
        rate_(rate),
        slot_ns_(1e9 * frame_size / rate),
        block_(std::max<std::uint32_t>(block, 1)) {}

  // A block that ends at device position `end` was handed over at `wall_ns`.
  void observe(std::uint64_t end, std::int64_t wall_ns) {
    recent_[blocks_ % kRecent] = static_cast<double>(wall_ns) - position_ns(end);
    ++blocks_;
    last_wall_ns_ = wall_ns;
  }

  // Whether the mapping can be taken now (and then never again).
  bool settled() const { return blocks_ >= kMinBlocks && last_wall_ns_ >= epoch_ns_ + kSettleNs; }

  struct Start {
    std::uint64_t position;  // device position of the slot's first sample
    std::uint64_t slot;      // the first frame's sequence number
  };
  // The first slot whose first sample (on a block boundary) is at
  // `position` or later.
  Start first_slot_from(std::uint64_t position) const {
    const double zero_ns =
        *std::min_element(recent_, recent_ + std::min<std::uint64_t>(blocks_, kRecent));
    const double since_epoch = zero_ns + position_ns(position) - static_cast<double>(epoch_ns_);
    double slot = std::max(0.0, std::ceil(since_epoch / slot_ns_));
    for (;;) {
      const double at = static_cast<double>(epoch_ns_) + slot * slot_ns_ - zero_ns;
      const auto blocks = static_cast<std::uint64_t>(
          std::llround(std::max(0.0, at) * rate_ / 1e9 / static_cast<double>(block_)));
      const std::uint64_t start = blocks * block_;
      if (start >= position) return {start, static_cast<std::uint64_t>(slot)};
      slot += 1;  // rounding put it before `position`
    }
  }

 private:
  double position_ns(std::uint64_t position) const {
    return static_cast<double>(position) * 1e9 / rate_;
  }

  std::int64_t epoch_ns_;
  std::uint32_t rate_;
  double slot_ns_;
  std::uint64_t block_;
  double recent_[kRecent] = {};  // wall time of device position 0, from the last blocks
  std::uint64_t blocks_ = 0;
  std::int64_t last_wall_ns_ = 0;
};

}  // namespace streamlab
