#include "messages/frame_codec.hpp"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <kj/exception.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "messages/frame.capnp.h"
#include "messages/frame_wire.hpp"

namespace streamlab {

namespace {

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
// The wire is little-endian: on such hosts a Float32 list is byte for byte
// the float array, and samples are copied with memcpy instead of per element.
constexpr bool kHostIsWireOrder = true;
#else
constexpr bool kHostIsWireOrder = false;
#endif

// Largest element count a Cap'n Proto list can have (29-bit count).
constexpr std::size_t kMaxListElements = (std::size_t{1} << 29) - 1;

// Traversal limit slack beyond the message's own size: a well-formed
// message is read exactly once (each getter below is called once), so the
// words traversed never exceed the words received; the margin only covers
// capnp's per-element accounting for zero-sized structs.
constexpr std::uint64_t kTraversalMarginWords = 64;
// Frame -> metadata list -> Entry -> Text is the deepest path; anything
// nested deeper is not a message this schema produces.
constexpr int kNestingLimit = 8;

std::size_t text_words(std::size_t bytes) { return (bytes + 1 + 7) / 8; }  // + NUL, padded

// Metadata text comes from the untrusted message: quote a bounded, printable
// excerpt of it in error messages.
std::string excerpt(const char* text, std::size_t size) {
  constexpr std::size_t kMax = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < size && i < kMax; ++i) {
    char c = text[i];
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  out += size > kMax ? "...\"" : "\"";
  return out;
}

[[noreturn]] void fail(const std::string& what) { throw CodecError("frame codec: " + what); }

void write_u32_le(std::uint8_t* at, std::uint32_t v) {
  at[0] = static_cast<std::uint8_t>(v);
  at[1] = static_cast<std::uint8_t>(v >> 8);
  at[2] = static_cast<std::uint8_t>(v >> 16);
  at[3] = static_cast<std::uint8_t>(v >> 24);
}

void write_samples(capnp::List<float>::Builder list, const float* src, std::size_t n) {
  if (n == 0) return;
  if constexpr (kHostIsWireOrder) {
    // The list was just allocated in the builder's own (writable) segment;
    // AnyList only hands out a const view of its bytes, hence the const_cast.
    auto bytes = capnp::toAny(list.asReader()).getRawBytes();
    std::memcpy(const_cast<kj::byte*>(bytes.begin()), src, n * sizeof(float));
  } else {
    for (std::size_t i = 0; i < n; ++i) list.set(static_cast<capnp::uint>(i), src[i]);
  }
}

void read_samples(capnp::List<float>::Reader list, float* dst, std::size_t n) {
  if (n == 0) return;
  auto any = capnp::toAny(list);
  // A sender may legally encode the list as a struct list (capnp's upgrade
  // rule: a list of structs whose first field is the float); the element
  // reader handles that, only the plain four-byte layout is a raw copy.
  if (kHostIsWireOrder && any.getElementSize() == capnp::ElementSize::FOUR_BYTES) {
    std::memcpy(dst, any.getRawBytes().begin(), n * sizeof(float));
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[i] = list[static_cast<capnp::uint>(i)];
  }
}

}  // namespace

void check_encodable(const Frame& frame) {
  const std::size_t n = frame.sample_count();
  if (frame.channels == 0) fail("cannot encode a frame with channels = 0");
  if (frame.sample_rate == 0) fail("cannot encode a frame with sample_rate = 0");
  if (frame.samples.size() != n) {
    fail("cannot encode frame: samples buffer holds " + std::to_string(frame.samples.size()) +
         " values but channels * frames = " + std::to_string(frame.channels) + " * " +
         std::to_string(frame.frames) + " = " + std::to_string(n));
  }
  if (n > kMaxListElements) {
    fail("cannot encode frame: " + std::to_string(n) +
         " samples exceed the Cap'n Proto list limit " + std::to_string(kMaxListElements));
  }
  if (frame.metadata && frame.metadata->size() > kMaxListElements) {
    fail("cannot encode frame: too many metadata entries");
  }
}

void check_within_limits(const Frame& frame, const CodecLimits& limits) {
  if (frame.channels > limits.max_channels) {
    fail("channels = " + std::to_string(frame.channels) +
         " exceeds max_channels = " + std::to_string(limits.max_channels));
  }
  if (frame.frames > limits.max_frames_per_channel) {
    fail("frames = " + std::to_string(frame.frames) +
         " exceeds max_frames_per_channel = " + std::to_string(limits.max_frames_per_channel));
  }
  if (frame.sample_count() > limits.max_samples) {
    fail("channels * frames = " + std::to_string(frame.sample_count()) +
         " exceeds max_samples = " + std::to_string(limits.max_samples));
  }
  if (!frame.metadata) return;
  if (frame.metadata->size() > limits.max_metadata_entries) {
    fail("metadata entries = " + std::to_string(frame.metadata->size()) +
         " exceeds max_metadata_entries = " + std::to_string(limits.max_metadata_entries));
  }
  for (const auto& [key, value] : *frame.metadata) {
    if (key.size() > limits.max_metadata_text_bytes ||
        value.size() > limits.max_metadata_text_bytes)
      fail("metadata entry " + excerpt(key.data(), key.size()) + " has a key or value over " +
           "max_metadata_text_bytes = " + std::to_string(limits.max_metadata_text_bytes));
  }
}

std::string limit_violation(const Frame& frame, const CodecLimits& limits) {
  if (frame.channels <= limits.max_channels && frame.frames <= limits.max_frames_per_channel &&
      frame.sample_count() <= limits.max_samples && (!frame.metadata || frame.metadata->empty()))
    return {};  // the common case, without a throw
  try {
    check_within_limits(frame, limits);
  } catch (const CodecError& e) {
    return e.what();
  }
  return {};
}

std::size_t frame_words(const Frame& frame) {
  std::size_t words = capnp::sizeInWords<wire::Frame>() + (frame.sample_count() + 1) / 2;
  if (frame.metadata && !frame.metadata->empty()) {
    words += 1 /* list tag */ + frame.metadata->size() * capnp::sizeInWords<wire::Frame::Entry>();
    for (const auto& [key, value] : *frame.metadata) {
      words += text_words(key.size()) + text_words(value.size());
    }
  }
  return words;
}

void write_frame(const Frame& frame, wire::Frame::Builder root) {
  check_encodable(frame);
  const std::size_t n = frame.sample_count();
  try {
    root.setVersion(kFrameWireVersion);
    root.setSeq(frame.seq);
    root.setTimestampNs(frame.timestamp_ns);
    root.setSampleRate(frame.sample_rate);
    root.setChannels(frame.channels);
    root.setFrames(frame.frames);
    write_samples(root.initSamples(static_cast<capnp::uint>(n)), frame.samples.data(), n);
    if (frame.metadata && !frame.metadata->empty()) {
      auto entries = root.initMetadata(static_cast<capnp::uint>(frame.metadata->size()));
      capnp::uint i = 0;
      for (const auto& [key, value] : *frame.metadata) {
        auto entry = entries[i++];
        entry.setKey(capnp::Text::Reader(key.data(), key.size()));
        entry.setValue(capnp::Text::Reader(value.data(), value.size()));
      }
    }
  } catch (const kj::Exception& e) {
    fail(std::string("cannot encode frame: ") + e.getDescription().cStr());
  }
}

void encode_frame(const Frame& frame, std::vector<std::uint8_t>& out) {
  // Checked before sizing the segment, which trusts channels * frames.
  check_encodable(frame);
  try {
    // Exact size of the segment `frame` encodes to, so that
    // MallocMessageBuilder allocates one segment that fits it and the
    // message stays single-segment.
    const std::size_t words = 1 /* root pointer */ + frame_words(frame);
    capnp::MallocMessageBuilder message(static_cast<capnp::uint>(words),
                                        capnp::AllocationStrategy::FIXED_SIZE);
    write_frame(frame, message.initRoot<wire::Frame>());

    // Flat serialization: segment table (segment count - 1, each segment's
    // size in words, padded to a word), then the segments. With the size
    // computed above there is one segment; more are still written correctly.
    auto segments = message.getSegmentsForOutput();
    const std::size_t table_bytes = (segments.size() / 2 + 1) * 8;
    std::size_t total = table_bytes;
    for (auto segment : segments) total += segment.size() * sizeof(capnp::word);
    out.resize(total);
    std::uint8_t* at = out.data();
    std::memset(at, 0, table_bytes);
    write_u32_le(at, static_cast<std::uint32_t>(segments.size() - 1));
    for (std::size_t s = 0; s < segments.size(); ++s) {
      write_u32_le(at + 4 * (s + 1), static_cast<std::uint32_t>(segments[s].size()));
    }
    at += table_bytes;
    for (auto segment : segments) {
      std::memcpy(at, segment.begin(), segment.size() * sizeof(capnp::word));
      at += segment.size() * sizeof(capnp::word);
    }
  } catch (const kj::Exception& e) {
    fail(std::string("cannot encode frame: ") + e.getDescription().cStr());
  }
}

std::vector<std::uint8_t> encode_frame(const Frame& frame) {
  std::vector<std::uint8_t> out;
  encode_frame(frame, out);
  return out;
}

Frame read_frame(wire::Frame::Reader root, BufferPool& pool, const CodecLimits& limits) {
  try {
    if (root.getVersion() != kFrameWireVersion) {
      fail("version = " + std::to_string(root.getVersion()) + " is not supported (only version " +
           std::to_string(kFrameWireVersion) + ")");
    }
    Frame frame;
    frame.seq = root.getSeq();
    frame.timestamp_ns = root.getTimestampNs();
    frame.sample_rate = root.getSampleRate();
    frame.channels = root.getChannels();
    frame.frames = root.getFrames();
    if (frame.channels == 0) fail("channels = 0 (must be at least 1)");
    if (frame.channels > limits.max_channels) {
      fail("channels = " + std::to_string(frame.channels) +
           " exceeds max_channels = " + std::to_string(limits.max_channels));
    }
    if (frame.frames > limits.max_frames_per_channel) {
      fail("frames = " + std::to_string(frame.frames) +
           " exceeds max_frames_per_channel = " + std::to_string(limits.max_frames_per_channel));
    }
    const std::size_t n = frame.sample_count();  // both factors are bounded: no overflow
    if (n > limits.max_samples) {
      fail("channels * frames = " + std::to_string(n) +
           " exceeds max_samples = " + std::to_string(limits.max_samples));
    }
    if (frame.sample_rate == 0) fail("sample_rate = 0 (must be positive)");

    auto samples = root.getSamples();
    if (samples.size() != n) {
      fail("samples list length = " + std::to_string(samples.size()) +
           " does not match channels * frames = " + std::to_string(frame.channels) + " * " +
           std::to_string(frame.frames) + " = " + std::to_string(n));
    }

    if (root.hasMetadata()) {
      auto entries = root.getMetadata();
      if (entries.size() > limits.max_metadata_entries) {
        fail("metadata entries = " + std::to_string(entries.size()) +
             " exceeds max_metadata_entries = " + std::to_string(limits.max_metadata_entries));
      }
      if (entries.size() > 0) {
        auto metadata = std::make_shared<Metadata>();
        for (capnp::uint i = 0; i < entries.size(); ++i) {
          auto entry = entries[i];
          capnp::Text::Reader key = entry.getKey();
          capnp::Text::Reader value = entry.getValue();
          if (key.size() > limits.max_metadata_text_bytes) {
            fail("metadata entry " + std::to_string(i) + " key size = " +
                 std::to_string(key.size()) + " bytes exceeds max_metadata_text_bytes = " +
                 std::to_string(limits.max_metadata_text_bytes));
          }
          if (value.size() > limits.max_metadata_text_bytes) {
            fail("metadata entry " + std::to_string(i) + " (key " +
                 excerpt(key.begin(), key.size()) + ") value size = " +
                 std::to_string(value.size()) + " bytes exceeds max_metadata_text_bytes = " +
                 std::to_string(limits.max_metadata_text_bytes));
          }
          bool inserted = metadata
                              ->emplace(std::string(key.begin(), key.size()),
                                        std::string(value.begin(), value.size()))
                              .second;
          if (!inserted) {
            fail("metadata entry " + std::to_string(i) + " repeats key " +
                 excerpt(key.begin(), key.size()));
          }
        }
        frame.metadata = std::move(metadata);
      }
    }

    // Only now, with every size checked, is sample storage taken.
    WritableBuffer buffer = pool.acquire(n);
    read_samples(samples, buffer.data(), n);
    frame.samples = std::move(buffer).freeze();
    return frame;
  } catch (const kj::Exception& e) {
    fail(std::string("malformed message: ") + e.getDescription().cStr());
  }
}

Frame decode_frame(const std::uint8_t* data, std::size_t size, BufferPool& pool,
                   const CodecLimits& limits) {
  // Cheap checks on the raw size first: nothing is parsed or allocated for a
  // message that cannot be valid.
  if (size == 0) fail("message is empty (size = 0 bytes)");
  if (data == nullptr) fail("message data is null (size = " + std::to_string(size) + " bytes)");
  if (size % sizeof(capnp::word) != 0) {
    fail("message size = " + std::to_string(size) +
         " bytes is not a multiple of 8 (a Cap'n Proto message is whole words)");
  }
  if (size > limits.max_message_bytes) {
    fail("message size = " + std::to_string(size) +
         " bytes exceeds max_message_bytes = " + std::to_string(limits.max_message_bytes));
  }
  const std::size_t word_count = size / sizeof(capnp::word);

  // capnp reads words in place and requires them aligned; a buffer sliced
  // out of a stream need not be, so copy it (bounded by the check above).
  const capnp::word* words = reinterpret_cast<const capnp::word*>(data);
  kj::Array<capnp::word> aligned;
  if (reinterpret_cast<std::uintptr_t>(data) % alignof(capnp::word) != 0) {
    aligned = kj::heapArray<capnp::word>(word_count);
    std::memcpy(aligned.begin(), data, size);
    words = aligned.begin();
  }

  // Bound the work a hostile message can cause to its own size: it can make
  // the reader traverse no more words than it contains (no amplification
  // through shared or overlapping pointers) and nest no deeper than the
  // schema does.
  capnp::ReaderOptions options;
  options.traversalLimitInWords = word_count + kTraversalMarginWords;
  options.nestingLimit = kNestingLimit;

  try {
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(words, word_count), options);
    if (reader.getEnd() != words + word_count) {
      fail("message size = " + std::to_string(size) + " bytes but its segment table describes " +
           std::to_string((reader.getEnd() - words) * sizeof(capnp::word)) +
           " bytes (trailing data)");
    }
    return read_frame(reader.getRoot<wire::Frame>(), pool, limits);
  } catch (const kj::Exception& e) {
    // Bad segment table, out-of-bounds pointer, traversal or nesting limit
    // hit, wrong element type, unterminated text...
    fail(std::string("malformed message: ") + e.getDescription().cStr());
  }
}

}  // namespace streamlab
