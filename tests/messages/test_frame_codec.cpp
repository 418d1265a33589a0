// The frame codec: round trips, and decode as the trust boundary (every
// malformed or oversized message is a CodecError, never a crash).

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "messages/buffer_pool.hpp"
#include "messages/frame.capnp.h"
#include "messages/frame.hpp"
#include "messages/frame_codec.hpp"

using namespace streamlab;
using Catch::Matchers::Contains;

namespace {

using Bytes = std::vector<std::uint8_t>;

// A frame with recognisable, bit-exact sample values (including values that
// a lossy or reordering codec would alter: -0, denormal, inf, NaN).
Frame make_frame(BufferPool& pool, std::uint32_t channels, std::uint32_t frames,
                 std::shared_ptr<const Metadata> metadata = nullptr) {
  Frame f;
  f.seq = 42;
  f.timestamp_ns = -1'234'567'890'123LL;
  f.sample_rate = 48000;
  f.channels = channels;
  f.frames = frames;
  WritableBuffer buf = pool.acquire(f.sample_count());
  for (std::size_t i = 0; i < f.sample_count(); ++i) {
    buf.data()[i] = static_cast<float>(i) * 0.5f - 100.0f;
  }
  if (f.sample_count() >= 4) {
    buf.data()[0] = -0.0f;
    buf.data()[1] = std::numeric_limits<float>::denorm_min();
    buf.data()[2] = std::numeric_limits<float>::infinity();
    buf.data()[3] = std::numeric_limits<float>::quiet_NaN();
  }
  f.samples = std::move(buf).freeze();
  f.metadata = std::move(metadata);
  return f;
}

void require_same(const Frame& a, const Frame& b) {
  REQUIRE(a.seq == b.seq);
  REQUIRE(a.timestamp_ns == b.timestamp_ns);
  REQUIRE(a.sample_rate == b.sample_rate);
  REQUIRE(a.channels == b.channels);
  REQUIRE(a.frames == b.frames);
  REQUIRE(a.samples.size() == b.samples.size());
  REQUIRE(b.samples.size() == b.sample_count());
  if (a.sample_count() > 0) {
    REQUIRE(std::memcmp(a.samples.data(), b.samples.data(), a.sample_count() * sizeof(float)) == 0);
  }
  REQUIRE(bool(a.metadata) == bool(b.metadata));
  if (a.metadata) REQUIRE(*a.metadata == *b.metadata);
}

Frame decode(const Bytes& bytes, BufferPool& pool, const CodecLimits& limits = {}) {
  return decode_frame(bytes.data(), bytes.size(), pool, limits);
}

// Serializes a hand-built message, bypassing encode_frame's own checks.
Bytes flatten(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return Bytes(bytes.begin(), bytes.end());
}

// A structurally valid wire frame that the caller then bends out of shape.
wire::Frame::Builder init_wire_frame(capnp::MessageBuilder& message, std::uint32_t channels,
                                     std::uint32_t frames, std::size_t samples) {
  auto root = message.initRoot<wire::Frame>();
  root.setSeq(7);
  root.setSampleRate(48000);
  root.setChannels(channels);
  root.setFrames(frames);
  root.initSamples(static_cast<capnp::uint>(samples));
  return root;
}

std::string decode_error(const Bytes& bytes, const CodecLimits& limits = {}) {
  BufferPool pool;
  try {
    decode(bytes, pool, limits);
  } catch (const CodecError& e) {
    return e.what();
  }
  FAIL("decode accepted a message it should have rejected");
  return {};
}

// Decode must either throw CodecError or return a frame that is internally
// consistent and within the limits; anything else (crash, other exception)
// fails the test.
bool decode_is_safe(const std::uint8_t* data, std::size_t size, BufferPool& pool,
                    const CodecLimits& limits = {}) {
  try {
    Frame f = decode_frame(data, size, pool, limits);
    REQUIRE(f.channels >= 1);
    REQUIRE(f.channels <= limits.max_channels);
    REQUIRE(f.frames <= limits.max_frames_per_channel);
    REQUIRE(f.sample_rate > 0);
    REQUIRE(f.samples.size() == f.sample_count());
    REQUIRE(f.sample_count() <= limits.max_samples);
    if (f.metadata) REQUIRE(f.metadata->size() <= limits.max_metadata_entries);
    return true;
  } catch (const CodecError&) {
    return false;
  }
}

std::uint64_t load_word(const Bytes& b, std::size_t word) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[word * 8 + static_cast<std::size_t>(i)];
  return v;
}

void store_word(Bytes& b, std::size_t word, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    b[word * 8 + static_cast<std::size_t>(i)] = std::uint8_t(v >> (8 * i));
}

std::int64_t pointer_offset(std::uint64_t ptr) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(ptr)) >> 2;
}

}  // namespace

TEST_CASE("codec round trip keeps every field, bit for bit", "[codec]") {
  BufferPool pool;
  auto metadata = std::make_shared<const Metadata>(
      Metadata{{"source", "mic-3"}, {"gain", "0.5"}, {"", "empty key"}, {"note", ""}});
  Frame original = make_frame(pool, 2, 480, metadata);

  Bytes bytes = encode_frame(original);
  REQUIRE(bytes.size() % 8 == 0);
  REQUIRE(load_word(bytes, 0) == (bytes.size() / 8 - 1) << 32);  // one segment, exact size

  PoolStats before = pool.stats();
  Frame decoded = decode(bytes, pool);
  require_same(original, decoded);
  REQUIRE(decoded.samples.id() != original.samples.id());  // its own buffer...
  PoolStats after = pool.stats();
  REQUIRE(after.hits + after.misses == before.hits + before.misses + 1);  // ...from the pool
  REQUIRE(std::isnan(decoded.samples.data()[3]));
  REQUIRE(std::signbit(decoded.samples.data()[0]));
}

TEST_CASE("codec round trip: many channels, planar layout preserved", "[codec]") {
  BufferPool pool;
  Frame original = make_frame(pool, 64, 16);
  Frame decoded = decode(encode_frame(original), pool);
  require_same(original, decoded);
  for (std::uint32_t c = 0; c < 64; ++c) {
    REQUIRE(decoded.channel(c)[5] == original.channel(c)[5]);
  }
}

TEST_CASE("codec: frames without metadata decode with null metadata", "[codec]") {
  BufferPool pool;
  Frame none = make_frame(pool, 1, 64);
  REQUIRE_FALSE(decode(encode_frame(none), pool).metadata);

  Frame empty = make_frame(pool, 1, 64, std::make_shared<const Metadata>());
  Bytes empty_bytes = encode_frame(empty);
  REQUIRE(empty_bytes == encode_frame(none));  // an empty map is not written at all
  REQUIRE_FALSE(decode(empty_bytes, pool).metadata);
}

TEST_CASE("codec: a zero-frame frame round-trips", "[codec]") {
  BufferPool pool;
  Frame pooled = make_frame(pool, 2, 0, std::make_shared<const Metadata>(Metadata{{"eos", "1"}}));
  Frame decoded = decode(encode_frame(pooled), pool);
  require_same(pooled, decoded);
  REQUIRE(decoded.samples);  // always a (zero-length) buffer after decode

  Frame unbacked = pooled;
  unbacked.samples = BufferRef();  // no buffer at all is also zero samples
  REQUIRE(encode_frame(unbacked) == encode_frame(pooled));
}

TEST_CASE("codec: encode overwrites the output and reuses its capacity", "[codec]") {
  BufferPool pool;
  Frame big = make_frame(pool, 2, 1024);
  Frame small = make_frame(pool, 1, 8, std::make_shared<const Metadata>(Metadata{{"k", "v"}}));
  Bytes out;
  encode_frame(big, out);
  const std::size_t capacity = out.capacity();
  const std::uint8_t* storage = out.data();
  encode_frame(small, out);
  REQUIRE(out.capacity() == capacity);
  REQUIRE(out.data() == storage);
  REQUIRE(out == encode_frame(small));
  require_same(small, decode(out, pool));
}

TEST_CASE("codec: encode refuses inconsistent frames", "[codec]") {
  BufferPool pool;
  Frame f = make_frame(pool, 2, 10);
  SECTION("samples buffer of the wrong size") {
    f.frames = 11;
    REQUIRE_THROWS_WITH(encode_frame(f), Contains("samples buffer holds 20"));
  }
  SECTION("zero channels") {
    f.channels = 0;
    f.samples = BufferRef();
    REQUIRE_THROWS_AS(encode_frame(f), CodecError);
  }
  SECTION("zero sample rate") {
    f.sample_rate = 0;
    REQUIRE_THROWS_WITH(encode_frame(f), Contains("sample_rate = 0"));
  }
}

TEST_CASE("codec: decodes from a misaligned pointer", "[codec]") {
  BufferPool pool;
  Frame original = make_frame(pool, 2, 100, std::make_shared<const Metadata>(Metadata{{"a", "b"}}));
  Bytes bytes = encode_frame(original);
  for (std::size_t shift = 1; shift < 8; ++shift) {
    Bytes storage(bytes.size() + 8);
    std::uint8_t* misaligned = storage.data() + shift;
    if (reinterpret_cast<std::uintptr_t>(misaligned) % 8 == 0) continue;
    std::memcpy(misaligned, bytes.data(), bytes.size());
    require_same(original, decode_frame(misaligned, bytes.size(), pool));
  }
}

TEST_CASE("codec: samples sent as a struct list (capnp upgrade rule) still decode", "[codec]") {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::Frame>();
  root.setSampleRate(8000);
  root.setChannels(1);
  root.setFrames(3);
  // Pointer 0 is `samples`: write it as a list of one-word structs whose
  // first 4 bytes are the float, as a newer schema could.
  auto pointers = capnp::toAny(root).getPointerSection();
  auto list = pointers[0].initAsListOfAnyStruct(1, 0, 3);
  const float values[3] = {1.5f, -2.0f, 3.25f};
  for (capnp::uint i = 0; i < 3; ++i) {
    std::memcpy(list[i].getDataSection().begin(), &values[i], sizeof(float));
  }
  BufferPool pool;
  Frame f = decode(flatten(message), pool);
  REQUIRE(f.samples.size() == 3);
  REQUIRE(f.samples.data()[0] == 1.5f);
  REQUIRE(f.samples.data()[1] == -2.0f);
  REQUIRE(f.samples.data()[2] == 3.25f);
}

TEST_CASE("codec rejects messages by size before parsing", "[codec][reject]") {
  BufferPool pool;
  Bytes valid = encode_frame(make_frame(pool, 1, 64));

  SECTION("empty") {
    REQUIRE_THROWS_WITH(decode_frame(valid.data(), 0, pool), Contains("size = 0"));
    REQUIRE_THROWS_AS(decode_frame(nullptr, 0, pool), CodecError);
    REQUIRE_THROWS_WITH(decode_frame(nullptr, 8, pool), Contains("null"));
  }
  SECTION("not whole words") {
    REQUIRE_THROWS_WITH(decode_frame(valid.data(), valid.size() - 3, pool),
                        Contains("not a multiple of 8"));
  }
  SECTION("over max_message_bytes (configured)") {
    CodecLimits limits;
    limits.max_message_bytes = 64;
    REQUIRE_THROWS_WITH(decode(valid, pool, limits), Contains("exceeds max_message_bytes = 64"));
  }
  SECTION("over max_message_bytes (default), even when it is all zeros") {
    Bytes huge(CodecLimits{}.max_message_bytes + 8, 0);
    REQUIRE_THROWS_WITH(decode(huge, pool), Contains("max_message_bytes"));
  }
}

TEST_CASE("codec: default limits are consistent", "[codec]") {
  CodecLimits limits;
  REQUIRE(limits.max_message_bytes == limits.derived_max_message_bytes());
  CodecLimits small{2, 1024, 2048, 4, 16};  // aggregate init derives the message limit
  REQUIRE(small.max_message_bytes == CodecLimits::message_bytes_for(2048, 4, 16));
  REQUIRE(small.max_message_bytes < limits.max_message_bytes);
  REQUIRE(limits.max_message_bytes > limits.max_samples * sizeof(float));
  REQUIRE(limits.max_samples <= std::size_t{limits.max_channels} * limits.max_frames_per_channel);

  // The largest frame the limits allow fits the message limit.
  BufferPool pool;
  auto metadata = std::make_shared<Metadata>();
  for (int i = 0; i < 64; ++i) {
    std::string key(1024, 'k');
    key.replace(0, std::to_string(i).size(), std::to_string(i));
    (*metadata)[key] = std::string(1024, 'v');
  }
  Frame largest = make_frame(pool, 4, 1 << 20, metadata);
  Bytes bytes = encode_frame(largest);
  REQUIRE(bytes.size() <= limits.max_message_bytes);
  require_same(largest, decode(bytes, pool));
}

TEST_CASE("codec rejects a bad segment table", "[codec][reject]") {
  Bytes bytes(16, 0);
  SECTION("segment longer than the message") {
    store_word(bytes, 0, std::uint64_t{1000} << 32);  // 1 segment of 1000 words
    CHECK_THAT(decode_error(bytes), Contains("malformed message"));
  }
  SECTION("more segments than the message has room for") {
    store_word(bytes, 0, 999);  // 1000 segments
    CHECK_THAT(decode_error(bytes), Contains("malformed message"));
  }
  SECTION("segment count that wraps to zero") {
    store_word(bytes, 0, 0xffffffffu);
    Bytes table_only(bytes.begin(), bytes.begin() + 8);
    CHECK_THAT(decode_error(table_only), Contains("malformed message"));
  }
  SECTION("trailing bytes after the message") {
    BufferPool pool;
    Bytes valid = encode_frame(make_frame(pool, 1, 8));
    valid.resize(valid.size() + 8, 0);
    CHECK_THAT(decode_error(valid), Contains("trailing"));
  }
}

TEST_CASE("codec rejects out-of-range fields, naming field, value and limit", "[codec][reject]") {
  capnp::MallocMessageBuilder message;

  SECTION("unknown version") {
    init_wire_frame(message, 1, 4, 4).setVersion(2);
    CHECK_THAT(decode_error(flatten(message)), Contains("version = 2"));
  }
  SECTION("zero channels") {
    init_wire_frame(message, 0, 4, 0);
    CHECK_THAT(decode_error(flatten(message)), Contains("channels = 0"));
  }
  SECTION("channels = 1000") {
    init_wire_frame(message, 1000, 1, 1000);
    std::string error = decode_error(flatten(message));
    CHECK_THAT(error, Contains("channels = 1000") && Contains("max_channels = 64"));
  }
  SECTION("frames over the limit") {
    init_wire_frame(message, 1, 5000, 5000);
    CodecLimits limits;
    limits.max_frames_per_channel = 4096;
    CHECK_THAT(decode_error(flatten(message), limits),
               Contains("frames = 5000") && Contains("max_frames_per_channel = 4096"));
  }
  SECTION("channels * frames over max_samples, without any samples sent") {
    init_wire_frame(message, 64, 1 << 20, 0);
    CHECK_THAT(decode_error(flatten(message)),
               Contains("67108864") && Contains("max_samples = 4194304"));
  }
  SECTION("zero sample rate") {
    init_wire_frame(message, 1, 4, 4).setSampleRate(0);
    CHECK_THAT(decode_error(flatten(message)), Contains("sample_rate = 0"));
  }
  SECTION("samples length does not match channels * frames") {
    init_wire_frame(message, 2, 4, 7);
    CHECK_THAT(decode_error(flatten(message)),
               Contains("samples list length = 7") && Contains("= 8"));
  }
  SECTION("too many metadata entries") {
    auto entries = init_wire_frame(message, 1, 4, 4).initMetadata(65);
    for (capnp::uint i = 0; i < 65; ++i) entries[i].setKey(std::to_string(i));
    CHECK_THAT(decode_error(flatten(message)),
               Contains("metadata entries = 65") && Contains("max_metadata_entries = 64"));
  }
  SECTION("oversized key") {
    auto entries = init_wire_frame(message, 1, 4, 4).initMetadata(1);
    entries[0].setKey(std::string(1025, 'k'));
    CHECK_THAT(decode_error(flatten(message)),
               Contains("key size = 1025") && Contains("max_metadata_text_bytes = 1024"));
  }
  SECTION("oversized value") {
    auto entries = init_wire_frame(message, 1, 4, 4).initMetadata(1);
    entries[0].setKey("big");
    entries[0].setValue(std::string(5000, 'v'));
    CHECK_THAT(decode_error(flatten(message)),
               Contains("\"big\"") && Contains("value size = 5000"));
  }
  SECTION("repeated key") {
    auto entries = init_wire_frame(message, 1, 4, 4).initMetadata(2);
    entries[0].setKey("k");
    entries[1].setKey("k");
    CHECK_THAT(decode_error(flatten(message)), Contains("repeats key \"k\""));
  }
  SECTION("samples of the wrong element type") {
    auto root = init_wire_frame(message, 1, 4, 0);
    capnp::toAny(root).getPointerSection()[0].initAsAnyList(capnp::ElementSize::BYTE, 16);
    CHECK_THAT(decode_error(flatten(message)), Contains("malformed message"));
  }
}

TEST_CASE("codec: a message cannot make decode read more than its own size", "[codec][reject]") {
  // 64 metadata values that all point at the same 1000-byte text: legal
  // pointers, but reading them would traverse ~20x the message's words.
  capnp::MallocMessageBuilder message;
  auto entries = init_wire_frame(message, 1, 4, 4).initMetadata(64);
  for (capnp::uint i = 0; i < 64; ++i) {
    entries[i].setKey("k" + std::to_string(i));
    entries[i].setValue(i == 0 ? std::string(1000, 'v') : std::string());
  }
  Bytes bytes = flatten(message);
  BufferPool pool;
  REQUIRE(decode(bytes, pool).metadata->size() == 64);  // well-formed before the edit

  // Walk the wire layout (single segment, after the 8-byte table) to the
  // entries and redirect every value pointer to entry 0's text.
  const std::size_t base = 1;
  const std::uint64_t root_ptr = load_word(bytes, base);
  const std::size_t root_struct = base + 1 + pointer_offset(root_ptr);
  const std::size_t data_words = (root_ptr >> 32) & 0xffff;
  const std::size_t metadata_ptr_at = root_struct + data_words + 1;  // pointer #1
  const std::size_t tag = metadata_ptr_at + 1 + pointer_offset(load_word(bytes, metadata_ptr_at));
  auto value_ptr_at = [&](std::size_t i) { return tag + 1 + 2 * i + 1; };
  const std::uint64_t first = load_word(bytes, value_ptr_at(0));
  const std::size_t text = value_ptr_at(0) + 1 + pointer_offset(first);
  for (std::size_t i = 1; i < 64; ++i) {
    const auto offset =
        static_cast<std::int64_t>(text) - static_cast<std::int64_t>(value_ptr_at(i) + 1);
    std::uint64_t ptr = (first & 0xffffffff00000000ull) |
                        (static_cast<std::uint32_t>(offset * 4) & 0xfffffffcu) | 1u;
    store_word(bytes, value_ptr_at(i), ptr);
  }
  CHECK_THAT(decode_error(bytes), Contains("malformed message") && Contains("traversal"));
}

TEST_CASE("codec: every truncation of a valid message is rejected cleanly", "[codec][fuzz]") {
  BufferPool pool;
  Frame original = make_frame(pool, 2, 32,
                              std::make_shared<const Metadata>(
                                  Metadata{{"source", "file.wav"}, {"channel-layout", "stereo"}}));
  Bytes bytes = encode_frame(original);
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    Bytes prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    INFO("length " << len);
    try {
      require_same(original, decode(prefix, pool));
    } catch (const CodecError&) {
    }
  }
  require_same(original, decode(bytes, pool));
}

TEST_CASE("codec: random garbage never crashes the decoder", "[codec][fuzz]") {
  BufferPool pool;
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);

  SECTION("random bytes of random length") {
    for (int iteration = 0; iteration < 1000; ++iteration) {
      Bytes garbage(8 * std::uniform_int_distribution<std::size_t>(0, 64)(rng));
      for (auto& b : garbage) b = static_cast<std::uint8_t>(byte(rng));
      decode_is_safe(garbage.data(), garbage.size(), pool);
    }
  }
  SECTION("random segment body behind a valid segment table") {
    for (int iteration = 0; iteration < 1000; ++iteration) {
      std::size_t words = std::uniform_int_distribution<std::size_t>(1, 64)(rng);
      Bytes garbage(8 * (words + 1));
      for (auto& b : garbage) b = static_cast<std::uint8_t>(byte(rng));
      store_word(garbage, 0, std::uint64_t{words} << 32);
      decode_is_safe(garbage.data(), garbage.size(), pool);
    }
  }
  SECTION("random byte corruptions of a valid message") {
    Frame original =
        make_frame(pool, 2, 16, std::make_shared<const Metadata>(Metadata{{"k", "v"}}));
    const Bytes valid = encode_frame(original);
    std::uniform_int_distribution<std::size_t> position(0, valid.size() - 1);
    int decoded = 0;
    for (int iteration = 0; iteration < 1000; ++iteration) {
      Bytes corrupt = valid;
      for (int flips = 0; flips < 1 + iteration % 4; ++flips) {
        corrupt[position(rng)] = static_cast<std::uint8_t>(byte(rng));
      }
      decoded += decode_is_safe(corrupt.data(), corrupt.size(), pool) ? 1 : 0;
    }
    // Most corruptions land in sample bytes and still decode; the rest are errors.
    CHECK(decoded > 0);
  }
  // Every buffer acquired by a decode went back (nothing leaked on errors).
  PoolStats stats = pool.stats();
  CHECK(stats.hits + stats.misses == stats.recycled);
}

TEST_CASE("codec: the capnp tool decodes our bytes", "[codec][wire]") {
  BufferPool pool;
  Frame f = make_frame(pool, 1, 4, std::make_shared<const Metadata>(Metadata{{"source", "mic"}}));
  Bytes bytes = encode_frame(f);

  char path[] = "/tmp/streamlab_frame_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  close(fd);

  const std::string command = std::string("capnp decode ") + STREAMLAB_SOURCE_DIR +
                              "/messages/frame.capnp Frame < " + path + " 2>&1";
  std::string output;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char chunk[512];
    std::size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, pipe)) > 0) output.append(chunk, n);
    int status = pclose(pipe);
    CHECK(status == 0);
  }
  unlink(path);
  INFO(output);
  CHECK_THAT(output, Contains("seq = 42"));
  CHECK_THAT(output, Contains("sampleRate = 48000"));
  CHECK_THAT(output, Contains("key = \"source\""));
}
