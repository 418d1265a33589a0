// How many frames a flagged overrun lost, told from the blocks' wall times:
// a missed JACK cycle, a flag with nothing lost (JACK flags every client on
// any xrun of the server), late callbacks, a drifting device clock, and two
// losses close together.

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "nodes/overrun_loss.hpp"

using namespace streamlab;

namespace {

constexpr std::uint32_t kRate = 48000;
constexpr std::uint32_t kBlock = 256;
constexpr double kBlockNs = 1e9 * kBlock / kRate;  // 5.33 ms

// A device of `kRate * (1 + drift)` frames per wall second, called back for
// each block between 20 and 300 us after its last frame (seeded jitter),
// that skips the cycles in `missed` (counted in blocks of the server).
// Feeds an OverrunLoss the way the capture node does and returns every
// loss it reported, with the block it was reported at.
struct Reported {
  std::uint64_t block;
  std::uint64_t frames;
};

std::vector<Reported> run(std::uint64_t cycles, const std::vector<std::uint64_t>& missed,
                          double drift = 0.0, bool flag_without_loss_at_20 = false,
                          std::int64_t extra_late_ns_at_flag = 0) {
  OverrunLoss loss(kRate);
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::int64_t> jitter(20'000, 300'000);
  std::vector<Reported> out;
  std::uint64_t counted = 0;  // the client's own count of frames, as RtAudio's callbacks see it
  std::uint64_t added_back = 0;
  bool flag_next = false;
  const std::int64_t zero = 1'700'000'000'000'000'000;
  for (std::uint64_t cycle = 0; cycle < cycles; ++cycle) {
    if (std::find(missed.begin(), missed.end(), cycle) != missed.end()) {
      flag_next = true;  // not called: the next callback carries the flag
      continue;
    }
    bool flag = flag_next || (flag_without_loss_at_20 && cycle == 20);
    flag_next = false;
    const double server_end_ns = (cycle + 1) * kBlockNs / (1.0 + drift);
    std::int64_t wall = zero + static_cast<std::int64_t>(server_end_ns) + jitter(rng);
    if (flag) wall += extra_late_ns_at_flag;
    counted += kBlock;
    const std::uint64_t lost = loss.observe(counted + added_back, kBlock, wall, flag);
    if (lost) out.push_back({cycle, lost});
    added_back += lost;
  }
  return out;
}

}  // namespace

TEST_CASE("a stream without overruns loses nothing", "[nodes][overrun]") {
  CHECK(run(500, {}).empty());
}

TEST_CASE("a missed cycle is one block lost, known a window later", "[nodes][overrun]") {
  const auto reported = run(200, {100});
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].frames == kBlock);
  CHECK(reported[0].block == 100 + OverrunLoss::kWindow);
}

TEST_CASE("three cycles missed in a row are three blocks", "[nodes][overrun]") {
  const auto reported = run(200, {50, 51, 52});
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].frames == 3 * kBlock);
}

TEST_CASE("a flag on a client that lost nothing changes nothing, even if that callback is late",
          "[nodes][overrun]") {
  CHECK(run(200, {}, 0.0, true).empty());
  // 2 ms late on top of the jitter: still well under half a block.
  CHECK(run(200, {}, 0.0, true, 2'000'000).empty());
}

TEST_CASE("a device clock 1.4% off the wall clock still counts whole blocks", "[nodes][overrun]") {
  for (double drift : {-0.014, 0.014}) {
    INFO("drift " << drift);
    const auto reported = run(400, {150, 300}, drift);
    REQUIRE(reported.size() == 2);
    CHECK(reported[0].frames == kBlock);
    CHECK(reported[1].frames == kBlock);
  }
}

TEST_CASE("two losses within one window are counted together", "[nodes][overrun]") {
  const auto reported = run(200, {100, 104});
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].frames == 2 * kBlock);
  CHECK(reported[0].block == 104 + OverrunLoss::kWindow);
}

TEST_CASE("losses far apart are each counted once", "[nodes][overrun]") {
  const auto reported = run(300, {40, 120, 121, 250});
  REQUIRE(reported.size() == 3);
  CHECK(reported[0].frames == kBlock);
  CHECK(reported[1].frames == 2 * kBlock);
  CHECK(reported[2].frames == kBlock);
}

TEST_CASE("a loss can be settled before its window is full", "[nodes][overrun]") {
  OverrunLoss loss(kRate);
  const std::int64_t zero = 1'700'000'000'000'000'000;
  std::uint64_t end = 0;
  auto block_at = [&](std::uint64_t cycle) {
    return zero + static_cast<std::int64_t>((cycle + 1) * kBlockNs) + 50'000;
  };
  for (std::uint64_t cycle = 0; cycle < 20; ++cycle) {
    end += kBlock;
    CHECK(loss.observe(end, kBlock, block_at(cycle), false) == 0);
  }
  CHECK_FALSE(loss.pending());
  CHECK(loss.settle() == 0);  // nothing to settle
  // Cycles 20 and 21 missed; 22 comes flagged, then two more.
  for (std::uint64_t cycle = 22; cycle < 25; ++cycle) {
    end += kBlock;
    CHECK(loss.observe(end, kBlock, block_at(cycle), cycle == 22) == 0);
    CHECK(loss.pending());
  }
  CHECK(loss.settle() == 2 * kBlock);
  CHECK_FALSE(loss.pending());
  // Counted from now on with the loss added back, the stream goes on clean.
  end += 2 * kBlock;
  for (std::uint64_t cycle = 25; cycle < 60; ++cycle) {
    end += kBlock;
    CHECK(loss.observe(end, kBlock, block_at(cycle), cycle == 40) == 0);
  }
}
