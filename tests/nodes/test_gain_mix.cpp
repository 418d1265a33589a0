#include <catch2/catch.hpp>

#include <random>

#include "node_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

namespace {

std::vector<float> random_samples(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> out(n);
  for (auto& v : out) v = dist(rng);
  return out;
}

}  // namespace

TEST_CASE("gain multiplies into a fresh buffer and keeps the frame's identity", "[nodes][gain]") {
  BufferPool pool;
  NodeContext ctx;
  ctx.pool = &pool;
  const float g = GENERATE(0.7f, -3.25f, 0.0f, 1.0f);
  auto node = make_node("gain", {{"gain", g}}, ctx);

  const std::vector<float> original = random_samples(2 * 1000, 1);
  Frame in = make_frame(pool, 42, 44100, 2, original);
  in.metadata = std::make_shared<const Metadata>(Metadata{{"source", "test"}});
  FrameList out;
  REQUIRE(step(*node, in, out).is_ok());
  REQUIRE(out.size() == 1);
  const Frame& f = out[0];
  CHECK(f.seq == 42);
  CHECK(f.timestamp_ns == in.timestamp_ns);
  CHECK(f.sample_rate == 44100);
  CHECK(f.channels == 2);
  CHECK(f.frames == 1000);
  CHECK(f.metadata == in.metadata);
  CHECK(f.samples.id() != in.samples.id());
  CHECK(samples_of(in) == original);  // input untouched
  const std::vector<float> got = samples_of(f);
  bool exact = true;
  for (std::size_t i = 0; i < got.size(); ++i) exact = exact && got[i] == original[i] * g;
  CHECK(exact);
}

TEST_CASE("gain config bounds", "[nodes][gain]") {
  CHECK(validate("gain", json::object()).empty());
  CHECK(validate("gain", {{"gain", -1000}}).empty());
  CHECK(validate("gain", {{"gain", 1000.5}}).size() == 1);
  CHECK(validate("gain", {{"gain", "loud"}}).size() == 1);
}

TEST_CASE("mix sums the present inputs", "[nodes][mix]") {
  BufferPool pool;
  NodeContext ctx;
  ctx.pool = &pool;
  const auto a = random_samples(512, 1), b = random_samples(512, 2), c = random_samples(512, 3);
  Frame fa = make_frame(pool, 5, 48000, 2, a);
  Frame fb = make_frame(pool, 5, 48000, 2, b);
  Frame fc = make_frame(pool, 5, 48000, 2, c);
  fb.timestamp_ns += 100;
  FrameList out;

  SECTION("plain sum, exact") {
    auto node = make_node("mix", json::object(), ctx);
    REQUIRE(step(*node, {&fa, &fb, &fc}, out).is_ok());
    REQUIRE(out.size() == 1);
    const auto got = samples_of(out[0]);
    REQUIRE(got.size() == 512);
    bool exact = true;
    for (std::size_t i = 0; i < got.size(); ++i) exact = exact && got[i] == (a[i] + b[i]) + c[i];
    CHECK(exact);
    CHECK(out[0].seq == 5);
    CHECK(out[0].timestamp_ns == fa.timestamp_ns);
    CHECK(out[0].channels == 2);
    CHECK(out[0].frames == 256);
  }
  SECTION("normalize divides by the number of inputs") {
    auto node = make_node("mix", {{"normalize", true}}, ctx);
    REQUIRE(step(*node, {&fa, &fb}, out).is_ok());
    const auto got = samples_of(out[0]);
    for (std::size_t i = 0; i < got.size(); ++i)
      REQUIRE(got[i] == Approx((a[i] + b[i]) / 2.0).margin(1e-6));
  }
  SECTION("a missing input counts as silence, and the first present one gives seq and time") {
    auto node = make_node("mix", {{"normalize", true}}, ctx);
    REQUIRE(step(*node, {nullptr, &fb, &fc}, out).is_ok());
    REQUIRE(out.size() == 1);
    CHECK(out[0].timestamp_ns == fb.timestamp_ns);
    const auto got = samples_of(out[0]);
    for (std::size_t i = 0; i < got.size(); ++i)
      REQUIRE(got[i] == Approx((b[i] + c[i]) / 3.0).margin(1e-6));
  }
  SECTION("a single present input without normalize is forwarded, not copied") {
    auto node = make_node("mix", json::object(), ctx);
    REQUIRE(step(*node, {nullptr, &fb}, out).is_ok());
    REQUIRE(out.size() == 1);
    CHECK(out[0].samples.id() == fb.samples.id());
    CHECK(out[0].seq == fb.seq);
  }
  SECTION("no input present emits nothing") {
    auto node = make_node("mix", json::object(), ctx);
    REQUIRE(step(*node, {nullptr, nullptr}, out).is_ok());
    CHECK(out.empty());
  }
  SECTION("inputs are never modified") {
    auto node = make_node("mix", {{"normalize", true}}, ctx);
    REQUIRE(step(*node, {&fa, &fb, &fc}, out).is_ok());
    CHECK(samples_of(fa) == a);
    CHECK(samples_of(fb) == b);
    CHECK(samples_of(fc) == c);
  }
}

TEST_CASE("mix rejects inputs of different formats, naming the port and both formats",
          "[nodes][mix]") {
  BufferPool pool;
  NodeContext ctx;
  ctx.pool = &pool;
  auto node = make_node("mix", json::object(), ctx);
  Frame mono = make_frame(pool, 1, 48000, 1, random_samples(256, 1));
  FrameList out;

  SECTION("channels") {
    Frame stereo = make_frame(pool, 1, 48000, 2, random_samples(256, 2));
    Status s = step(*node, {&mono, nullptr, &stereo}, out);
    REQUIRE_FALSE(s.is_ok());
    CHECK_THAT(s.message(), Catch::Contains("input 2") && Catch::Contains("input 0") &&
                                Catch::Contains("48000 Hz, 2 ch, 128 frames") &&
                                Catch::Contains("48000 Hz, 1 ch, 256 frames"));
  }
  SECTION("sample rate") {
    Frame other = make_frame(pool, 1, 44100, 1, random_samples(256, 2));
    Status s = step(*node, {&mono, &other}, out);
    REQUIRE_FALSE(s.is_ok());
    CHECK_THAT(s.message(), Catch::Contains("input 1") && Catch::Contains("44100 Hz"));
  }
  SECTION("frame count") {
    Frame shorter = make_frame(pool, 1, 48000, 1, random_samples(200, 2));
    CHECK_FALSE(step(*node, {&mono, &shorter}, out).is_ok());
  }
  CHECK(out.empty());
}

TEST_CASE("mix takes 2 to 16 inputs", "[nodes][mix]") {
  const NodeType* type = NodeRegistry::builtin().find("mix");
  REQUIRE(type);
  CHECK(type->schema.min_inputs == 2);
  CHECK(type->schema.max_inputs == 16);
  CHECK(validate("mix", {{"normalize", 1}}).size() == 1);  // a boolean, not a number
}

TEST_CASE("sine -> gain allocates nothing per frame once warm", "[nodes][pool]") {
  BufferPool pool;
  NodeContext ctx;
  ctx.pool = &pool;
  auto sine = make_node("sine", {{"channels", 2}}, ctx);
  auto gain = make_node("gain", {{"gain", 0.5}}, ctx);
  FrameList generated, processed;
  generated.reserve(4);
  processed.reserve(4);
  auto run = [&](int frames) {
    bool eos = false;
    for (int i = 0; i < frames; ++i) {
      generated.clear();
      processed.clear();
      REQUIRE(sine->generate(generated, eos).is_ok());
      REQUIRE(step(*gain, generated[0], processed).is_ok());
    }
    generated.clear();
    processed.clear();
  };
  run(100);
  const PoolStats warm = pool.stats();
  run(10'000);
  const PoolStats after = pool.stats();
  CHECK(after.misses == warm.misses);
  CHECK(after.hits - warm.hits == 20'000);
}
