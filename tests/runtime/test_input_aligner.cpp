#include <catch2/catch.hpp>

#include "runtime/input_aligner.hpp"

using namespace streamlab;

namespace {
Frame frame_with_seq(std::uint64_t seq) {
  Frame f;
  f.seq = seq;
  return f;
}
}  // namespace

TEST_CASE("FrameRing is a bounded FIFO", "[runtime][aligner]") {
  FrameRing ring(3);
  REQUIRE(ring.push(frame_with_seq(1)));
  REQUIRE(ring.push(frame_with_seq(2)));
  REQUIRE(ring.push(frame_with_seq(3)));
  CHECK_FALSE(ring.push(frame_with_seq(4)));
  CHECK(ring.pop().seq == 1);
  REQUIRE(ring.push(frame_with_seq(5)));  // wraps around
  CHECK(ring.pop().seq == 2);
  CHECK(ring.pop().seq == 3);
  CHECK(ring.pop().seq == 5);
  CHECK(ring.empty());
}

TEST_CASE("a single input is handed on frame by frame", "[runtime][aligner]") {
  InputAligner in({4});
  std::vector<const Frame*> slots;
  CHECK_FALSE(in.next(slots));
  in.push(0, frame_with_seq(7));
  REQUIRE(in.next(slots));
  REQUIRE(slots.size() == 1);
  CHECK(slots[0]->seq == 7);
  in.pop(0);
  CHECK_FALSE(in.next(slots));
  CHECK_FALSE(in.drained());
  in.end(0);
  CHECK(in.drained());
}

TEST_CASE("inputs are aligned by sequence number", "[runtime][aligner]") {
  InputAligner in({4, 4});
  std::vector<const Frame*> slots;
  in.push(0, frame_with_seq(0));
  CHECK_FALSE(in.next(slots));  // port 1 may still deliver seq 0
  in.push(1, frame_with_seq(0));
  REQUIRE(in.next(slots));
  CHECK(slots[0]->seq == 0);
  CHECK(slots[1]->seq == 0);
  in.pop(0);
  in.pop(1);

  SECTION("a gap on one input yields a set with a null slot") {
    in.push(0, frame_with_seq(1));
    in.push(1, frame_with_seq(2));  // seq 1 was lost upstream on port 1
    REQUIRE(in.next(slots));
    CHECK(slots[0]->seq == 1);
    CHECK(slots[1] == nullptr);
    in.pop(0);
    CHECK_FALSE(in.next(slots));  // port 0 may still deliver seq 2
    in.push(0, frame_with_seq(2));
    REQUIRE(in.next(slots));
    CHECK(slots[0]->seq == 2);
    CHECK(slots[1]->seq == 2);
  }

  SECTION("an ended input no longer holds the others back") {
    in.end(1);
    in.push(0, frame_with_seq(1));
    REQUIRE(in.next(slots));
    CHECK(slots[0]->seq == 1);
    CHECK(slots[1] == nullptr);
    in.pop(0);
    CHECK_FALSE(in.drained());
    in.end(0);
    CHECK(in.drained());
  }
}

TEST_CASE("a full port refuses more and clear counts what was queued", "[runtime][aligner]") {
  InputAligner in({2, 1});
  CHECK(in.push(0, frame_with_seq(0)));
  CHECK(in.push(0, frame_with_seq(1)));
  CHECK_FALSE(in.push(0, frame_with_seq(2)));
  CHECK(in.push(1, frame_with_seq(0)));
  CHECK(in.queued_total() == 3);
  auto dropped = in.clear();
  CHECK(dropped == std::vector<std::uint64_t>{2, 1});
  CHECK(in.queued_total() == 0);
}
