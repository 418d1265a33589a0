#include <catch2/catch.hpp>

#include <chrono>
#include <sstream>
#include <stdexcept>

#include "node_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

TEST_CASE("print writes seq, rms and peak with 6 significant digits", "[nodes][print]") {
  BufferPool pool;
  std::ostringstream text;
  NodeContext ctx;
  ctx.text_out = &text;
  auto node = make_node("print", json::object(), ctx);
  FrameList out;
  // Two channels; rms and peak are over both: sqrt((0.25 + 1 + 0.0625 + 0) / 4).
  REQUIRE(step(*node, make_frame(pool, 7, 48000, 2, {0.5f, -1.0f, 0.25f, 0.0f}), out).is_ok());
  REQUIRE(step(*node, make_frame(pool, 8, 48000, 1, {0.0f, 0.0f}), out).is_ok());
  REQUIRE(step(*node, make_frame(pool, 9, 48000, 1, {0.1f, -0.2f, 0.3f}), out).is_ok());
  CHECK(out.empty());
  CHECK(text.str() ==
        "seq=7 rms=0.572822 peak=1\n"
        "seq=8 rms=0 peak=0\n"
        "seq=9 rms=0.216025 peak=0.3\n");
}

TEST_CASE("print every N prints the first frame and every Nth after it", "[nodes][print]") {
  BufferPool pool;
  std::ostringstream text;
  NodeContext ctx;
  ctx.text_out = &text;
  auto node = make_node("print", {{"every", 3}}, ctx);
  FrameList out;
  for (std::uint64_t seq = 0; seq < 7; ++seq)
    REQUIRE(step(*node, make_frame(pool, seq, 48000, 1, {0.5f}), out).is_ok());
  CHECK(text.str() ==
        "seq=0 rms=0.5 peak=0.5\n"
        "seq=3 rms=0.5 peak=0.5\n"
        "seq=6 rms=0.5 peak=0.5\n");
  CHECK(validate("print", {{"every", 0}}).size() == 1);
}

TEST_CASE("print on a closed output stops printing and counts, without failing", "[nodes][print]") {
  BufferPool pool;
  std::ostringstream text;
  NodeContext ctx;
  ctx.text_out = &text;
  auto node = make_node("print", json::object(), ctx);
  FrameList out;
  REQUIRE(step(*node, make_frame(pool, 0, 48000, 1, {0.5f}), out).is_ok());
  text.setstate(std::ios::badbit);  // what a write to a closed pipe (EPIPE) leaves
  for (std::uint64_t seq = 1; seq < 4; ++seq)
    CHECK(step(*node, make_frame(pool, seq, 48000, 1, {0.5f}), out).is_ok());
  std::vector<NamedFigure> figures;
  node->figures(figures);
  REQUIRE(figures.size() == 2);
  CHECK(figures[0].name == "output_closed");
  CHECK(figures[0].value == 1);
  CHECK(figures[1].name == "frames_not_printed");
  CHECK(figures[1].value == 3);
}

TEST_CASE("null_sink accepts and discards", "[nodes][null_sink]") {
  BufferPool pool;
  auto node = make_node("null_sink", json::object());
  FrameList out;
  Frame f = make_frame(pool, 0, 48000, 1, {0.1f, 0.2f});
  for (int i = 0; i < 3; ++i) REQUIRE(step(*node, f, out).is_ok());
  CHECK(out.empty());
  CHECK(f.samples.use_count() == 1);  // kept no reference
  CHECK(node->finish(out).is_ok());
  CHECK(validate("null_sink", {{"anything", 1}}).size() == 1);
}

namespace {

// Feeds frames with seq first_seq.. and records, per frame, whether it failed.
std::vector<bool> schedule(Node& node, std::size_t frames, std::uint64_t first_seq = 0) {
  BufferPool pool;
  Frame f = make_frame(pool, 0, 48000, 1, {0.25f});
  std::vector<bool> failed;
  FrameList out;
  for (std::size_t i = 0; i < frames; ++i) {
    f.seq = first_seq + i;
    out.clear();
    Status s = step(node, f, out);
    failed.push_back(!s.is_ok());
    if (s.is_ok()) {
      REQUIRE(out.size() == 1);
      REQUIRE(out[0].samples.id() == f.samples.id());  // passed through, not copied
      REQUIRE(out[0].seq == f.seq);
    } else {
      REQUIRE(out.empty());
      REQUIRE(s.message() == "injected fault at seq " + std::to_string(f.seq));
    }
  }
  return failed;
}

}  // namespace

TEST_CASE("fault fail_every fails every Nth frame, counting from 1", "[nodes][fault]") {
  auto node = make_node("fault", {{"fail_every", 3}, {"action", "error"}});
  const std::vector<bool> failed = schedule(*node, 9, 10);
  CHECK(failed == std::vector<bool>{false, false, true, false, false, true, false, false, true});
}

TEST_CASE("fault default config never fails", "[nodes][fault]") {
  auto node = make_node("fault", json::object());
  const auto failed = schedule(*node, 1000);
  CHECK(std::count(failed.begin(), failed.end(), true) == 0);
}

TEST_CASE("fault throw action throws a runtime_error naming the seq", "[nodes][fault]") {
  BufferPool pool;
  auto node = make_node("fault", {{"fail_every", 2}});
  FrameList out;
  REQUIRE(step(*node, make_frame(pool, 1, 48000, 1, {0.0f}), out).is_ok());
  Frame second = make_frame(pool, 2, 48000, 1, {0.0f});
  CHECK_THROWS_AS(step(*node, second, out), std::runtime_error);
  REQUIRE(step(*node, make_frame(pool, 3, 48000, 1, {0.0f}), out).is_ok());
  Frame fourth = make_frame(pool, 9, 48000, 1, {0.0f});
  CHECK_THROWS_WITH(step(*node, fourth, out), "injected fault at seq 9");
}

TEST_CASE("fault probability schedule is deterministic for a seed", "[nodes][fault]") {
  const json config = {{"fail_probability", 0.3}, {"seed", 42}, {"action", "error"}};
  auto a = make_node("fault", config);
  auto b = make_node("fault", config);
  json other = config;
  other["seed"] = 43;
  auto c = make_node("fault", other);
  const auto fa = schedule(*a, 2000);
  const auto fb = schedule(*b, 2000);
  const auto fc = schedule(*c, 2000);
  CHECK(fa == fb);
  CHECK(fa != fc);
  const auto failures = std::count(fa.begin(), fa.end(), true);
  CHECK(failures > 500);  // 600 expected; 5 standard deviations either side
  CHECK(failures < 700);

  SECTION("fail_every adds to the random failures without shifting them") {
    json both = config;
    both["fail_every"] = 10;
    auto d = make_node("fault", both);
    const auto fd = schedule(*d, 2000);
    for (std::size_t i = 0; i < fd.size(); ++i) REQUIRE(fd[i] == (fa[i] || (i + 1) % 10 == 0));
  }
}

TEST_CASE("fault delay_ms slows every frame down", "[nodes][fault]") {
  BufferPool pool;
  auto node = make_node("fault", {{"delay_ms", 15}});
  Frame f = make_frame(pool, 0, 48000, 1, {0.0f});
  FrameList out;
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(step(*node, f, out).is_ok());
  REQUIRE(step(*node, f, out).is_ok());
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(30));
  CHECK(out.size() == 2);
}

TEST_CASE("fault config bounds", "[nodes][fault]") {
  CHECK(validate("fault", {{"fail_probability", 1.5}}).size() == 1);
  CHECK(validate("fault", {{"fail_every", -1}}).size() == 1);
  CHECK(validate("fault", {{"seed", -1}}).size() == 1);
  CHECK(validate("fault", {{"delay_ms", 60001}}).size() == 1);
  CHECK(validate("fault", {{"action", "crash"}}).size() == 1);
  CHECK(validate("fault", {{"seed", 18446744073709551615ull}}).empty());
  auto node = make_node("fault", {{"seed", 18446744073709551615ull}, {"fail_every", 3.0}});
  CHECK(node != nullptr);
}

TEST_CASE("constant emits frames of one value and ends after num_frames", "[nodes][constant]") {
  auto node = streamlab::test::make_node(
      "constant", {{"value", 0.25}, {"frame_size", 8}, {"channels", 2}, {"num_frames", 2}});
  streamlab::FrameList out;
  bool end = false;
  REQUIRE(node->generate(out, end).is_ok());
  CHECK_FALSE(end);
  REQUIRE(node->generate(out, end).is_ok());
  CHECK(end);
  REQUIRE(out.size() == 2);
  CHECK(out[1].seq == 1);
  CHECK(out[0].channels == 2);
  CHECK(out[0].frames == 8);
  REQUIRE(out[0].samples.size() == 16);
  for (std::size_t i = 0; i < 16; ++i) CHECK(out[0].samples.data()[i] == 0.25f);

  auto silence = streamlab::test::make_node("constant", streamlab::json::object());
  out.clear();
  REQUIRE(silence->generate(out, end).is_ok());
  CHECK_FALSE(end);  // endless by default
  REQUIRE(out[0].samples.size() == 1024);
  CHECK(out[0].samples.data()[1023] == 0.0f);
}

TEST_CASE("fault poison_every fails the same frames by seq, in every instance and attempt",
          "[nodes][fault]") {
  auto first = make_node("fault", {{"poison_every", 4}, {"action", "error"}});
  CHECK(schedule(*first, 8) ==
        std::vector<bool>{false, false, false, true, false, false, false, true});
  // A replacement that starts at the failed frame fails it again, and a
  // retry of the same frame on the same instance fails too: a poison frame.
  auto replacement = make_node("fault", {{"poison_every", 4}, {"action", "error"}});
  CHECK(schedule(*replacement, 2, 3) == std::vector<bool>{true, false});
  CHECK(schedule(*replacement, 1, 3) == std::vector<bool>{true});
  CHECK(validate("fault", {{"poison_every", -1}}).size() == 1);
}
