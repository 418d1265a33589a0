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

#include <caf/all.hpp>

#include "actors/message_types.hpp"
#include "actors/messages.hpp"
#include "actors/node_actor.hpp"
#include "nodes/registry.hpp"

using namespace streamlab;

namespace {

Frame frame_with(std::uint64_t seq, float first_sample, std::uint32_t channels = 2,
                 std::uint32_t frames = 4) {
  Frame f;
  f.seq = seq;
  f.timestamp_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(seq);
  f.sample_rate = 48000;
  f.channels = channels;
  f.frames = frames;
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

// Before: CAF failed the whole message, which arrived "unexpected" and
// empty, and the frames vanished without a count (issue 13, item 2).
TEST_CASE("a frame over the codec's limits arrives marked undecodable, its batch intact",
          "[actors][batch]") {
  FrameBatch sent;
  sent.push(frame_with(1, 0.0f, limits::kMaxFrameChannels, 16));      // at the limit
  sent.push(frame_with(2, 0.0f, limits::kMaxFrameChannels + 1, 16));  // one channel over
  sent.push(frame_with(3, 5.0f));
  std::vector<char> bytes = serialized(sent);

  FrameBatch received;
  caf::binary_deserializer source{nullptr, bytes};
  REQUIRE_FALSE(source(received));
  REQUIRE(received.count == 3);
  CHECK(received.decoded(0));
  CHECK(received.frames[0].channels == limits::kMaxFrameChannels);
  CHECK_FALSE(received.decoded(1));
  CHECK(received.frames[1].sample_count() == 0);
  CHECK_THAT(received.undecodable_reason,
             Catch::Contains("channels = 65") && Catch::Contains("max_channels = 64"));
  REQUIRE(received.decoded(2));  // what follows is read in step
  CHECK(received.frames[2].seq == 3);
  CHECK(received.frames[2].samples.data()[0] == 5.0f);
}

TEST_CASE("a sender learns why a frame could not cross, at the limits' edges", "[actors][batch]") {
  CHECK(limit_violation(frame_with(1, 0.0f, limits::kMaxFrameChannels, 1)).empty());
  CHECK(limit_violation(frame_with(1, 0.0f, limits::kMaxFrameChannels, limits::kMaxFrameSize))
            .empty());
  CHECK_THAT(limit_violation(frame_with(1, 0.0f, limits::kMaxFrameChannels + 1, 1)),
             Catch::Contains("max_channels = 64"));
  CHECK_THAT(
      limit_violation(frame_with(1, 0.0f, limits::kMaxFrameChannels, limits::kMaxFrameSize + 1)),
      Catch::Contains("max_samples = 4194304"));
  // The codec's defaults are the validation limits, not numbers of its own.
  CHECK(CodecLimits{}.max_channels == limits::kMaxFrameChannels);
  CHECK(CodecLimits{}.max_samples == limits::kMaxFrameSamples);
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

// The receiving node's half: an undecodable frame is received, consumed and
// counted as dropped (undecodable) with the reason as its last error; the
// frames around it are processed as usual and credits still flow.
TEST_CASE("a node counts an undecodable frame as dropped, with the reason", "[actors][batch]") {
  caf::actor_system_config cfg;
  register_message_types(cfg);
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto setup = std::make_shared<NodeActorSetup>();
  setup->pipeline = "p";
  setup->node_id = "sink";
  setup->type = "null_sink";
  setup->node =
      NodeRegistry::builtin()
          .find("null_sink")
          ->make(with_defaults(NodeRegistry::builtin().find("null_sink")->schema, json::object()),
                 NodeContext{});
  setup->input_capacities = {8};
  setup->supervisor = self;
  caf::actor node = spawn_node_actor(system, setup);

  FrameBatch batch;
  batch.push(frame_with(0, 1.0f));
  batch.push(Frame{});
  batch.push(frame_with(2, 3.0f));
  batch.undecodable = 1u << 1;
  batch.undecodable_reason = "frame codec: channels = 65 exceeds max_channels = 64";
  self->send(node, data_atom::value, std::uint32_t{0}, std::uint64_t{0}, batch);
  self->send(node, eos_atom::value, std::uint32_t{0});
  std::uint64_t credited = 0;
  bool reported = false;
  while (!reported) {
    self->receive(
        [&](credit_atom, std::uint32_t, std::uint64_t consumed) { credited = consumed; },
        [&](report_atom, const NodeReport& r) {
          reported = true;
          CHECK(r.snapshot.frames_in == 3);
          CHECK(r.snapshot.dropped[static_cast<std::size_t>(DropReason::undecodable)] == 1);
          CHECK_THAT(r.snapshot.last_error, Catch::Contains("max_channels = 64"));
          CHECK(r.snapshot.state == "finished");
        },
        caf::after(std::chrono::seconds(10)) >> [&] { FAIL("no report from the node"); });
  }
  CHECK(credited == 3);
  self->send_exit(node, caf::exit_reason::user_shutdown);
}
