// A batch of frames as it crosses a process: CAF's binary serializer over
// FrameBatch's inspect, each frame one Cap'n Proto message. What comes out
// is what went in, and a count past the capacity (a corrupt or hostile
// peer) is refused before a single frame is read.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/messages.hpp"

using namespace streamlab;

namespace {

Frame frame_with(std::uint64_t seq, float first_sample) {
  Frame f;
  f.seq = seq;
  f.timestamp_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(seq);
  f.sample_rate = 48000;
  f.channels = 2;
  f.frames = 4;
  WritableBuffer buffer = BufferPool::process_pool().acquire(f.sample_count());
  for (std::size_t i = 0; i < f.sample_count(); ++i) buffer.data()[i] = first_sample + i;
  f.samples = std::move(buffer).freeze();
  return f;
}

std::vector<char> serialized(FrameBatch& batch) {
  std::vector<char> bytes;
  caf::binary_serializer sink{nullptr, bytes};
  REQUIRE_FALSE(sink(batch));
  return bytes;
}

}  // namespace

TEST_CASE("a frame batch crosses a process boundary intact", "[actors][batch]") {
  FrameBatch sent;
  for (std::uint64_t i = 0; i < 3; ++i) sent.push(frame_with(10 + i, 100.0f * i));
  std::vector<char> bytes = serialized(sent);

  FrameBatch received;
  caf::binary_deserializer source{nullptr, bytes};
  REQUIRE_FALSE(source(received));
  REQUIRE(received.count == 3);
  for (std::uint32_t i = 0; i < 3; ++i) {
    const Frame& a = sent.frames[i];
    const Frame& b = received.frames[i];
    CHECK(b.seq == a.seq);
    CHECK(b.timestamp_ns == a.timestamp_ns);
    CHECK(b.channels == 2);
    CHECK(b.frames == 4);
    REQUIRE(b.sample_count() == a.sample_count());
    CHECK(std::memcmp(b.samples.data(), a.samples.data(), a.sample_count() * sizeof(float)) == 0);
  }
}

TEST_CASE("a frame batch claiming more frames than it can hold is refused", "[actors][batch]") {
  FrameBatch one;
  one.push(frame_with(1, 0.0f));
  std::vector<char> bytes = serialized(one);
  // The count is the first field, a uint32: all ones is far past the
  // capacity in either byte order.
  std::memset(bytes.data(), 0xff, sizeof(std::uint32_t));

  FrameBatch received;
  caf::binary_deserializer source{nullptr, bytes};
  const caf::error err = source(received);
  REQUIRE(err);
  CHECK(err == caf::sec::invalid_argument);
}

TEST_CASE("serializing frames reuses one scratch message per thread, short of huge frames",
          "[actors][batch]") {
  FrameBatch small;
  small.push(frame_with(1, 0.0f));
  serialized(small);
  const std::uint8_t* scratch = frame_scratch().data();
  const std::size_t capacity = frame_scratch().capacity();
  REQUIRE(capacity > 0);
  serialized(small);
  CHECK(frame_scratch().data() == scratch);  // the same bytes, not new ones
  CHECK(frame_scratch().capacity() == capacity);

  // A 2 MiB frame: its scratch is let go once it has been written and read.
  Frame huge;
  huge.seq = 2;
  huge.sample_rate = 48000;
  huge.channels = 1;
  huge.frames = 1 << 19;
  WritableBuffer buffer = BufferPool::process_pool().acquire(huge.sample_count());
  std::fill(buffer.data(), buffer.data() + huge.sample_count(), 0.5f);
  huge.samples = std::move(buffer).freeze();
  FrameBatch big;
  big.push(huge);
  std::vector<char> bytes = serialized(big);
  CHECK(frame_scratch().capacity() <= std::size_t{1} << 20);
  FrameBatch received;
  caf::binary_deserializer source{nullptr, bytes};
  REQUIRE_FALSE(source(received));
  CHECK(received.frames[0].sample_count() == huge.sample_count());
  CHECK(frame_scratch().capacity() <= std::size_t{1} << 20);
}

TEST_CASE("a frame claiming more bytes than any frame can have is refused before allocating",
          "[actors][batch]") {
  FrameBatch one;
  one.push(frame_with(1, 0.0f));
  const std::vector<char> valid = serialized(one);
  // The count (4 bytes) as it was, then a frame whose length, in CAF's
  // variable-length encoding, claims 2^32 - 1 bytes, and a few bytes of it.
  // CAF alone would resize its buffer to that length before reading.
  std::vector<char> bytes(valid.begin(), valid.begin() + 4);
  for (char c : {'\xff', '\xff', '\xff', '\xff', '\x0f'}) bytes.push_back(c);
  bytes.insert(bytes.end(), 16, '\0');

  FrameBatch received;
  caf::binary_deserializer source{nullptr, bytes};
  const caf::error err = source(received);
  REQUIRE(err);
  // Not end_of_stream (what reading past the 16 bytes would give): the
  // length itself is refused.
  CHECK(err == caf::sec::invalid_argument);
  CHECK(frame_scratch().capacity() <= std::size_t{1} << 20);
}
