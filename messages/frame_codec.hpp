#pragma once
// Encoding of a Frame as a Cap'n Proto message (messages/frame.capnp).
//
// That schema is the only format a frame has outside one process: whatever
// crosses a process boundary (socket, file, capture for debugging) is one
// flat Cap'n Proto message that `capnp decode messages/frame.capnp Frame`
// can print. Inside a process frames are never encoded; they share buffers.
//
// decode_frame() is the trust boundary: its input comes from another process
// or from disk, so every size in it is checked against CodecLimits before
// anything is allocated, and a malformed message is a CodecError, never a
// crash, an unbounded allocation or an unbounded loop.
//
// capnp headers stay out of this interface on purpose: users of frames
// should not need the generated code.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "messages/buffer_pool.hpp"
#include "messages/frame.hpp"
#include "messages/input_limits.hpp"

namespace streamlab {

namespace codec_detail {
constexpr std::size_t round_up8(std::size_t n) { return (n + 7) / 8 * 8; }
}  // namespace codec_detail

// What decode_frame() accepts. The defaults are the frame bounds of
// messages/input_limits.hpp, the same numbers node validation enforces, so a
// frame a validated pipeline makes also decodes on another member.
struct CodecLimits {
  std::uint32_t max_channels = limits::kMaxFrameChannels;
  std::uint32_t max_frames_per_channel = limits::kMaxDecodedFramesPerChannel;
  std::size_t max_samples = limits::kMaxFrameSamples;  // channels * frames
  std::size_t max_metadata_entries = 64;
  std::size_t max_metadata_text_bytes = 1024;  // per key and per value

  // Upper bound on the byte size of a message a frame within the limits
  // above encodes to: the samples, the largest metadata, and 64 KiB for the
  // segment table, the fixed-size fields and fields added by later schema
  // revisions. Checked first, before the message is even parsed.
  static constexpr std::size_t message_bytes_for(std::size_t samples, std::size_t entries,
                                                 std::size_t text_bytes) {
    // Per entry: 2 list pointers, then key and value each NUL-terminated and
    // padded to a word.
    return codec_detail::round_up8(samples * sizeof(float)) +
           entries * (16 + 2 * codec_detail::round_up8(text_bytes + 1)) + 64 * 1024;
  }
  // Derived from the fields above when the limits are constructed (also by
  // aggregate initialization); after assigning to one of them, refresh it
  // with `limits.max_message_bytes = limits.derived_max_message_bytes()`.
  std::size_t max_message_bytes =
      message_bytes_for(max_samples, max_metadata_entries, max_metadata_text_bytes);

  constexpr std::size_t derived_max_message_bytes() const {
    return message_bytes_for(max_samples, max_metadata_entries, max_metadata_text_bytes);
  }
};

// A message that cannot be decoded (or a frame that cannot be encoded). The
// text names the offending field, its value and the limit it broke.
class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Encodes `frame` as one flat single-segment message (segment table followed
// by the segment) into `out`, replacing its contents and reusing its
// capacity. Throws CodecError if the frame is inconsistent (samples buffer
// size != channels * frames, zero channels or sample rate): such a frame
// would only be rejected by the receiver, so it is caught at the sender.
void encode_frame(const Frame& frame, std::vector<std::uint8_t>& out);
std::vector<std::uint8_t> encode_frame(const Frame& frame);

// Decodes one message, exactly `size` bytes (trailing bytes are an error).
// `data` need not be aligned. Samples are copied into a buffer from `pool`;
// metadata is null when the message carries none. Throws CodecError.
Frame decode_frame(const std::uint8_t* data, std::size_t size, BufferPool& pool,
                   const CodecLimits& limits = {});

// Empty when a decoder with `limits` accepts `frame`; otherwise why not,
// naming the field, its value and the limit. A sender calls it before a
// frame leaves the process, so what the receiver would refuse is counted
// where it was made rather than lost in transit. Allocates only to say no.
std::string limit_violation(const Frame& frame, const CodecLimits& limits = {});

// The wire version this code writes and the only one it accepts.
constexpr std::uint16_t kFrameWireVersion = 1;

}  // namespace streamlab
