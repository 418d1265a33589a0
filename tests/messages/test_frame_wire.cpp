// The frame's wire half used on its own, embedded in a larger message (a
// dead letter): same checks as the whole-message codec.

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <string>

#include "messages/buffer_pool.hpp"
#include "messages/dead_letter.capnp.h"
#include "messages/frame_wire.hpp"

using namespace streamlab;
using Catch::Matchers::Contains;

namespace {

Frame make_frame(BufferPool& pool, std::uint32_t channels, std::uint32_t frames,
                 std::shared_ptr<const Metadata> metadata = nullptr) {
  Frame f;
  f.seq = 9;
  f.timestamp_ns = 1'700'000'000'000'000'000LL;
  f.sample_rate = 44100;
  f.channels = channels;
  f.frames = frames;
  WritableBuffer buf = pool.acquire(f.sample_count());
  for (std::size_t i = 0; i < f.sample_count(); ++i) buf.data()[i] = static_cast<float>(i) - 3.5f;
  f.samples = std::move(buf).freeze();
  f.metadata = std::move(metadata);
  return f;
}

}  // namespace

TEST_CASE("frame wire: a frame embedded in a dead letter round-trips", "[codec][wire]") {
  BufferPool pool;
  Frame original =
      make_frame(pool, 2, 33, std::make_shared<const Metadata>(Metadata{{"source", "mic"}}));

  // frame_words() is exact: one segment of exactly the computed size holds
  // the whole message.
  const std::size_t words = 1 + capnp::sizeInWords<wire::DeadLetter>() + frame_words(original);
  capnp::MallocMessageBuilder message(static_cast<capnp::uint>(words),
                                      capnp::AllocationStrategy::FIXED_SIZE);
  auto root = message.initRoot<wire::DeadLetter>();
  write_frame(original, root.initFrame());
  auto segments = message.getSegmentsForOutput();
  REQUIRE(segments.size() == 1);
  CHECK(segments[0].size() == words);

  auto flat = capnp::messageToFlatArray(message);
  capnp::FlatArrayMessageReader reader(flat);
  Frame decoded = read_frame(reader.getRoot<wire::DeadLetter>().getFrame(), pool, CodecLimits{});
  CHECK(decoded.seq == original.seq);
  CHECK(decoded.timestamp_ns == original.timestamp_ns);
  CHECK(decoded.sample_rate == original.sample_rate);
  CHECK(decoded.channels == original.channels);
  CHECK(decoded.frames == original.frames);
  REQUIRE(decoded.metadata);
  CHECK(*decoded.metadata == *original.metadata);
  REQUIRE(decoded.samples.size() == original.samples.size());
  CHECK(std::memcmp(decoded.samples.data(), original.samples.data(),
                    original.sample_count() * sizeof(float)) == 0);
}

TEST_CASE("frame wire: read_frame applies the codec's limits to an embedded frame",
          "[codec][wire][reject]") {
  BufferPool pool;
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::DeadLetter>();
  write_frame(make_frame(pool, 4, 16), root.initFrame());
  auto flat = capnp::messageToFlatArray(message);
  capnp::FlatArrayMessageReader reader(flat);
  CodecLimits limits;
  limits.max_channels = 2;
  CHECK_THROWS_WITH(read_frame(reader.getRoot<wire::DeadLetter>().getFrame(), pool, limits),
                    Contains("channels = 4") && Contains("max_channels = 2"));

  SECTION("an absent frame is a frame with zero channels, refused") {
    capnp::MallocMessageBuilder empty;
    empty.initRoot<wire::DeadLetter>();
    auto bytes = capnp::messageToFlatArray(empty);
    capnp::FlatArrayMessageReader empty_reader(bytes);
    CHECK_THROWS_WITH(
        read_frame(empty_reader.getRoot<wire::DeadLetter>().getFrame(), pool, CodecLimits{}),
        Contains("channels = 0"));
  }
}

TEST_CASE("frame wire: write_frame refuses inconsistent frames", "[codec][wire][reject]") {
  BufferPool pool;
  Frame f = make_frame(pool, 1, 8);
  f.frames = 9;
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::DeadLetter>();
  CHECK_THROWS_AS(write_frame(f, root.initFrame()), CodecError);
  CHECK_THROWS_WITH(check_encodable(f), Contains("samples buffer holds 8"));
}

TEST_CASE("frame wire: check_within_limits names the field a reader would refuse",
          "[codec][wire]") {
  BufferPool pool;
  CodecLimits limits;
  CHECK_NOTHROW(check_within_limits(make_frame(pool, 2, 64), limits));

  limits.max_frames_per_channel = 32;
  CHECK_THROWS_WITH(check_within_limits(make_frame(pool, 1, 64), limits),
                    Contains("frames = 64") && Contains("max_frames_per_channel = 32"));

  CodecLimits small_samples;
  small_samples.max_samples = 100;
  CHECK_THROWS_WITH(check_within_limits(make_frame(pool, 2, 64), small_samples),
                    Contains("max_samples = 100"));

  CodecLimits few_entries;
  few_entries.max_metadata_entries = 1;
  auto two = std::make_shared<const Metadata>(Metadata{{"a", "1"}, {"b", "2"}});
  CHECK_THROWS_WITH(check_within_limits(make_frame(pool, 1, 4, two), few_entries),
                    Contains("metadata entries = 2"));

  auto long_value = std::make_shared<const Metadata>(Metadata{{"k", std::string(2000, 'v')}});
  CHECK_THROWS_WITH(check_within_limits(make_frame(pool, 1, 4, long_value), CodecLimits{}),
                    Contains("\"k\"") && Contains("max_metadata_text_bytes = 1024"));
}
