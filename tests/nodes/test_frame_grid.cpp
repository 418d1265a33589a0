// The frame grid live captures cut on, so that streams started at different
// times number the same instant alike.

#include <catch2/catch.hpp>

#include "nodes/frame_grid.hpp"

using namespace streamlab;

namespace {

constexpr std::int64_t kEpoch = 1'700'000'000'000'000'000;  // a wall-clock time, ns
constexpr std::uint32_t kRate = 48000;
constexpr std::uint32_t kFrame = 256;
constexpr double kSlotNs = 1e9 * kFrame / kRate;  // 5.33 ms

// A stream whose position 0 was at wall time `zero`: blocks of 256 handed
// over `late[i]` ns after their last sample.
FrameGrid grid_of(std::int64_t zero, const std::vector<std::int64_t>& late) {
  FrameGrid g(kEpoch, kRate, kFrame, kFrame);
  std::uint64_t end = 0;
  for (auto l : late) {
    end += 256;
    g.observe(end, zero + static_cast<std::int64_t>(end * 1e9 / kRate) + l);
  }
  return g;
}

std::vector<std::int64_t> blocks(std::size_t n, std::int64_t late) {
  return std::vector<std::int64_t>(n, late);
}

}  // namespace

TEST_CASE("a frame grid settles at the first block half a second past the epoch", "[nodes][grid]") {
  CHECK_FALSE(grid_of(kEpoch, blocks(93, 0)).settled());  // its last block ends at 496 ms
  CHECK(grid_of(kEpoch, blocks(94, 0)).settled());        // 501 ms
  // A stream that starts long after the epoch: 16 blocks are enough.
  CHECK_FALSE(grid_of(kEpoch + 1'000'000'000, blocks(15, 0)).settled());
  CHECK(grid_of(kEpoch + 1'000'000'000, blocks(16, 0)).settled());
}

TEST_CASE("a stream that starts at the epoch numbers its slots from 0", "[nodes][grid]") {
  const FrameGrid g = grid_of(kEpoch, blocks(20, 0));
  const auto start = g.first_slot_from(0);
  CHECK(start.position == 0);
  CHECK(start.slot == 0);
  const auto later = g.first_slot_from(1);  // slot 0 has begun: the next whole one
  CHECK(later.slot == 1);
  CHECK(later.position == 256);
}

TEST_CASE("two streams of one server started apart start slots at the same sample",
          "[nodes][grid]") {
  // a started 3.1 slots after the epoch; b joined the server 5 blocks
  // later (so b's position 0 is a's position 1280), and is called back
  // 40 us after a in every cycle.
  const auto a_zero = kEpoch + static_cast<std::int64_t>(3.1 * kSlotNs);
  const auto b_zero = a_zero + static_cast<std::int64_t>(5 * kSlotNs);
  const FrameGrid a = grid_of(a_zero, blocks(40, 50'000));
  const FrameGrid b = grid_of(b_zero, blocks(40, 90'000));
  const auto sa = a.first_slot_from(0);
  const auto sb = b.first_slot_from(0);
  CHECK(sa.slot == 4);
  CHECK(sb.slot == 9);
  // Slot 9 begins at the same device sample in both, counted in a's positions.
  CHECK(sa.position + (9 - sa.slot) * kFrame == sb.position + 5 * kFrame);
  CHECK(sa.position % kFrame == 0);  // on a block boundary
}

TEST_CASE("the earliest of the last blocks sets the mapping: late callbacks do not move the grid",
          "[nodes][grid]") {
  std::vector<std::int64_t> late = blocks(40, 3'000'000);  // a loaded machine: 3 ms late
  late[30] = 20'000;  // one of the last 4 callbacks nearly on time
  const FrameGrid noisy = grid_of(kEpoch, late);
  const FrameGrid exact = grid_of(kEpoch, blocks(40, 20'000));
  CHECK(noisy.first_slot_from(1000).position == exact.first_slot_from(1000).position);
  CHECK(noisy.first_slot_from(1000).slot == exact.first_slot_from(1000).slot);
}

TEST_CASE("a stream started before the epoch begins at slot 0", "[nodes][grid]") {
  const FrameGrid g = grid_of(kEpoch - 1'000'000'000, blocks(20, 0));
  const auto start = g.first_slot_from(0);
  CHECK(start.slot == 0);
  // One second of samples before the epoch, to the nearest block boundary.
  CHECK(start.position % kFrame == 0);
  CHECK(std::abs(static_cast<double>(start.position) - 48000) <= kFrame / 2);
}

TEST_CASE("streams of a drifting device clock that settle together agree", "[nodes][grid]") {
  // The device runs 0.3% slow against the wall clock (JACK's dummy backend
  // under load does): the mapping moves 3 ms a second. b joined the server
  // 7 blocks after a.
  auto drifting = [](std::int64_t zero, std::size_t n) {
    FrameGrid g(kEpoch, kRate, kFrame, kFrame);
    for (std::size_t i = 1; i <= n; ++i) {
      const std::uint64_t end = i * 256;
      g.observe(end, zero + static_cast<std::int64_t>(end * 1e9 / kRate * 1.003) + 40'000);
    }
    return g;
  };
  const auto a_zero = kEpoch + static_cast<std::int64_t>(2.3 * kSlotNs);
  const auto b_zero = a_zero + static_cast<std::int64_t>(7 * kSlotNs * 1.003);
  // Each takes its mapping at its first block ending half a second past the epoch.
  std::size_t na = 1, nb = 1;
  while (!drifting(a_zero, na).settled()) ++na;
  while (!drifting(b_zero, nb).settled()) ++nb;
  const auto sa = drifting(a_zero, na).first_slot_from(na * 256);
  const auto sb = drifting(b_zero, nb).first_slot_from(nb * 256);
  const std::uint64_t slot = std::max(sa.slot, sb.slot);
  CHECK(sa.position + (slot - sa.slot) * kFrame ==
        sb.position + (slot - sb.slot) * kFrame + 7 * kFrame);
}
