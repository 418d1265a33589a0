#pragma once
// How many frames a device overrun lost. RtAudio flags the block after an
// overrun (RTAUDIO_INPUT_OVERFLOW) but not how much went missing: a JACK
// client that misses a cycle is simply not called for it, so its count of
// frames falls a period behind the server's, and a capture that numbers its
// frames by that count runs a period early from then on: against the wall
// clock and against another capture of the same server that did not miss
// the cycle. JACK also flags every client on any xrun of the server, so a
// flag alone does not say that this client lost anything.
//
// The wall clock does: every block implies the wall time of device position
// 0 (when it was handed over, minus the duration of the frames before its
// end). A callback runs late, never early, so the earliest of a few blocks
// is close to the truth. The earliest of the kWindow blocks before the flag
// against the earliest of the kWindow blocks after it is what was lost,
// rounded to whole blocks: lost cycles are whole blocks, while callback
// jitter and the device's drift over the windows are far below half a
// block (JACK's dummy backend drifts by ~1.4%: 0.6 ms over 16 blocks of
// 5.3 ms). A second flag within the window restarts the window after it,
// so both losses are counted at once.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace streamlab {

class OverrunLoss {
 public:
  static constexpr std::size_t kWindow = 8;

  explicit OverrunLoss(std::uint32_t rate) : rate_(rate) {}

  // A block of `frames` ending at device position `end` (with the losses
  // reported so far added back) was handed over at `wall_ns`; `overrun`:
  // the device flagged a loss before it. Returns the frames lost, once
  // known (kWindow blocks after the latest flag); otherwise 0.
  std::uint64_t observe(std::uint64_t end, std::uint32_t frames, std::int64_t wall_ns,
                        bool overrun) {
    const double zero = static_cast<double>(wall_ns) - static_cast<double>(end) * 1e9 / rate_;
    if (overrun) {
      if (!pending_) before_ = earliest();  // with none before, nothing can be told
      pending_ = true;
      after_ = std::numeric_limits<double>::infinity();
      after_blocks_ = 0;
    }
    recent_[blocks_++ % kWindow] = zero;
    if (!pending_) return 0;
    after_ = std::min(after_, zero);
    frames_ = frames;
    if (++after_blocks_ < kWindow) return 0;
    return settle();
  }

  // A flag was seen and what it lost is not known yet.
  bool pending() const { return pending_; }

  // What the latest flags lost, from the blocks seen after them so far
  // (kWindow of them when observe() settles it; fewer when the caller
  // cannot wait any longer).
  std::uint64_t settle() {
    if (!pending_) return 0;
    pending_ = false;
    const double lost_blocks = std::round((after_ - before_) * rate_ / 1e9 / frames_);
    if (!(lost_blocks >= 1)) return 0;  // nothing lost (or nothing to compare with)
    const std::uint64_t lost = static_cast<std::uint64_t>(lost_blocks) * frames_;
    // The blocks since the flag are counted from now on with the lost
    // frames added back: so are the ones of the window.
    for (std::size_t i = 0; i < std::min<std::size_t>(after_blocks_, kWindow); ++i)
      recent_[(blocks_ - 1 - i) % kWindow] -= static_cast<double>(lost) * 1e9 / rate_;
    return lost;
  }

 private:
  double earliest() const {
    if (blocks_ == 0) return std::numeric_limits<double>::infinity();
    return *std::min_element(recent_, recent_ + std::min<std::uint64_t>(blocks_, kWindow));
  }

  std::uint32_t rate_;
  double recent_[kWindow] = {};  // wall time of position 0, from the last blocks
  std::uint64_t blocks_ = 0;
  bool pending_ = false;  // a flag whose loss is not known yet
  double before_ = 0;     // position 0 as the blocks before the first flag put it
  double after_ = 0;      // ... and as those since the latest flag put it
  std::size_t after_blocks_ = 0;
  std::uint32_t frames_ = 1;  // per block, lately
};

}  // namespace streamlab
