#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include "node_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

namespace {

// Reference tone with the phase reduced in long double, so the reference
// itself stays exact for sample indices in the tens of millions.
double reference(double amplitude, double hz, double rate, std::uint64_t n) {
  const long double cycles =
      std::fmod(static_cast<long double>(hz) * static_cast<long double>(n), (long double)rate) /
      (long double)rate;
  return amplitude * static_cast<double>(std::sin(static_cast<long double>(kTwoPi) * cycles));
}

double max_error(const std::vector<float>& x, double amplitude, double hz, double rate) {
  double worst = 0.0;
  for (std::size_t n = 0; n < x.size(); ++n)
    worst = std::max(worst, std::abs(x[n] - reference(amplitude, hz, rate, n)));
  return worst;
}

}  // namespace

TEST_CASE("sine frames carry seq, format and a wall-clock timestamp", "[nodes][sine]") {
  auto node = make_node("sine", json::object());
  const auto before = std::chrono::system_clock::now().time_since_epoch();
  FrameList out;
  bool eos = true;
  for (int i = 0; i < 3; ++i) REQUIRE(node->generate(out, eos).is_ok());
  const auto after = std::chrono::system_clock::now().time_since_epoch();
  REQUIRE_FALSE(eos);
  REQUIRE(out.size() == 3);
  for (std::uint64_t i = 0; i < 3; ++i) {
    const Frame& f = out[i];
    CHECK(f.seq == i);
    CHECK(f.sample_rate == 48000);
    CHECK(f.channels == 1);
    CHECK(f.frames == 1024);
    CHECK(f.samples.size() == 1024);
    CHECK(f.timestamp_ns >= std::chrono::duration_cast<std::chrono::nanoseconds>(before).count());
    CHECK(f.timestamp_ns <= std::chrono::duration_cast<std::chrono::nanoseconds>(after).count());
  }
  CHECK(out[0].timestamp_ns <= out[2].timestamp_ns);
}

TEST_CASE("sine has the configured frequency and amplitude", "[nodes][sine]") {
  const double hz = 1000.0, rate = 48000.0, amplitude = 0.5;
  auto node = make_node(
      "sine",
      {{"frequency", hz}, {"amplitude", amplitude}, {"sample_rate", 48000}, {"frame_size", 480}});
  FrameList frames = drain(*node, 100);  // one second: exactly 1000 periods
  std::vector<float> x = concat_channel(frames, 0);
  REQUIRE(x.size() == 48000);

  CHECK(tone_amplitude(x, hz, rate) == Approx(amplitude).margin(1e-4));
  // Neighbouring whole-period bins see nothing: the energy is at hz alone.
  CHECK(tone_amplitude(x, hz - 10.0, rate) < 1e-4);
  CHECK(tone_amplitude(x, hz + 10.0, rate) < 1e-4);

  std::size_t rising = 0;
  for (std::size_t n = 1; n < x.size(); ++n) rising += (x[n - 1] < 0.0f && x[n] >= 0.0f);
  CHECK(rising >= 999);
  CHECK(rising <= 1000);

  double peak = 0.0, sum_sq = 0.0;
  for (float v : x) {
    peak = std::max(peak, static_cast<double>(std::abs(v)));
    sum_sq += static_cast<double>(v) * v;
  }
  CHECK(peak == Approx(amplitude).margin(1e-3));
  CHECK(std::sqrt(sum_sq / x.size()) == Approx(amplitude / std::sqrt(2.0)).margin(1e-3));
}

TEST_CASE("sine phase is continuous across frame boundaries", "[nodes][sine]") {
  // Frame sizes that are not multiples of the phasor lanes, and smaller than them.
  for (int frame_size : {100, 3, 1, 31, 32, 33, 1024}) {
    DYNAMIC_SECTION("frame_size " << frame_size) {
      const double hz = 997.0, rate = 44100.0, amplitude = 0.8;
      auto node = make_node("sine", {{"frequency", hz},
                                     {"amplitude", amplitude},
                                     {"sample_rate", 44100},
                                     {"frame_size", frame_size},
                                     {"channels", 2}});
      FrameList frames = drain(*node, 50);
      REQUIRE(frames.size() == 50);
      std::vector<float> left = concat_channel(frames, 0);
      std::vector<float> right = concat_channel(frames, 1);
      REQUIRE(left.size() == 50u * static_cast<unsigned>(frame_size));
      CHECK(max_error(left, amplitude, hz, rate) < 1e-5);
      CHECK(left == right);
    }
  }
}

TEST_CASE("sine stays phase-exact over 10^7 samples", "[nodes][sine]") {
  const double hz = 1234.5, rate = 48000.0;
  auto node = make_node(
      "sine",
      {{"frequency", hz}, {"amplitude", 1.0}, {"sample_rate", 48000}, {"frame_size", 4096}});
  FrameList out;
  bool eos = false;
  double worst = 0.0;
  std::uint64_t n = 0;
  while (n < 10'000'000) {
    out.clear();
    REQUIRE(node->generate(out, eos).is_ok());
    REQUIRE(out.size() == 1);
    const float* s = out[0].channel(0);
    for (std::uint32_t i = 0; i < out[0].frames; ++i, ++n)
      worst = std::max(worst, std::abs(s[i] - reference(1.0, hz, rate, n)));
  }
  // Full scale, so this is the float32 rounding plus any phase drift.
  CHECK(worst < 1e-6);
}

TEST_CASE("sine with several channels carries the same tone on each", "[nodes][sine]") {
  auto node = make_node("sine", {{"channels", 5}, {"frame_size", 37}});
  FrameList frames = drain(*node, 3);
  for (const Frame& f : frames) {
    REQUIRE(f.channels == 5);
    REQUIRE(f.samples.size() == 5u * 37u);
    for (std::uint32_t c = 1; c < 5; ++c)
      CHECK(std::equal(f.channel(0), f.channel(0) + f.frames, f.channel(c)));
  }
}

TEST_CASE("sine config is validated", "[nodes][sine]") {
  SECTION("defaults are valid") { CHECK(validate("sine", json::object()).empty()); }
  SECTION("frequency at or above Nyquist names both values") {
    Problems p = validate("sine", {{"frequency", 30000}, {"sample_rate", 48000}});
    REQUIRE(p.size() == 1);
    CHECK(p[0].path == "/frequency");
    CHECK_THAT(p[0].message, Catch::Contains("30000") && Catch::Contains("48000"));
    CHECK(validate("sine", {{"frequency", 24000}, {"sample_rate", 48000}}).size() == 1);
    CHECK(validate("sine", {{"frequency", 23999.5}, {"sample_rate", 48000}}).empty());
  }
  SECTION("frequency must be positive") {
    Problems p = validate("sine", {{"frequency", 0}});
    REQUIRE(p.size() == 1);
    CHECK(p[0].path == "/frequency");
    CHECK(validate("sine", {{"frequency", -5}}).size() == 1);
  }
  SECTION("a bad frequency and a bad sample_rate are both reported") {
    Problems p = validate("sine", {{"frequency", -5}, {"sample_rate", 0}});
    REQUIRE(p.size() == 2);
    CHECK(p[0].path == "/frequency");
    CHECK_THAT(p[0].message, Catch::Contains("> 0") && Catch::Contains("-5"));
    CHECK(p[1].path == "/sample_rate");
  }
  SECTION("field bounds") {
    CHECK(validate("sine", {{"amplitude", 1.5}}).size() == 1);
    CHECK(validate("sine", {{"sample_rate", 500}}).size() == 1);
    CHECK(validate("sine", {{"sample_rate", 44100.5}}).size() == 1);
    CHECK(validate("sine", {{"frame_size", 0}}).size() == 1);
    CHECK(validate("sine", {{"channels", 65}}).size() == 1);
    CHECK(validate("sine", {{"volume", 1}}).size() == 1);
  }
}

TEST_CASE("sine with num_frames ends its stream after that many frames", "[nodes][sine]") {
  auto node = streamlab::test::make_node("sine", {{"num_frames", 3}, {"frame_size", 16}});
  streamlab::FrameList out;
  bool end = false;
  for (int i = 0; i < 3; ++i) {
    REQUIRE_FALSE(end);
    REQUIRE(node->generate(out, end).is_ok());
  }
  CHECK(end);
  REQUIRE(out.size() == 3);
  CHECK(out.back().seq == 2);
  out.clear();
  REQUIRE(node->generate(out, end).is_ok());
  CHECK(end);
  CHECK(out.empty());
}
