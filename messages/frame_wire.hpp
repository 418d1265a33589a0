#pragma once
// The Frame <-> wire::Frame half of the frame codec, for messages that embed
// a Frame in a larger struct (messages/dead_letter.capnp). Internal: unlike
// frame_codec.hpp this pulls in the generated capnp code, so only code that
// builds or reads such messages includes it.
//
// The checks are the codec's own: read_frame() is as strict with an embedded
// frame as decode_frame() is with a whole message. Bounding the work a
// hostile message causes (traversal and nesting limits) is the job of whoever
// creates the capnp message reader, since only it knows the message's size.

#include <cstddef>

#include "messages/buffer_pool.hpp"
#include "messages/frame.capnp.h"
#include "messages/frame.hpp"
#include "messages/frame_codec.hpp"

namespace streamlab {

// Throws CodecError when `frame` is inconsistent (samples buffer size !=
// channels * frames, zero channels or sample rate) or too large for a
// Cap'n Proto list.
void check_encodable(const Frame& frame);

// Throws CodecError naming the first field of `frame` that a reader with
// these limits would refuse. A writer of records that are read back later
// (a file) calls it so that it never writes what cannot be read.
void check_within_limits(const Frame& frame, const CodecLimits& limits);

// Words `frame` occupies in a message, excluding the pointer to it: its
// struct, samples and metadata. Lets a builder allocate one segment that fits.
std::size_t frame_words(const Frame& frame);

// Fills `out` (freshly initialised) from `frame`. Throws CodecError as
// check_encodable() does; nothing is written then.
void write_frame(const Frame& frame, wire::Frame::Builder out);

// Reads and checks `in` against `limits`, copying the samples into a buffer
// from `pool` only once every size has been checked. Throws CodecError, also
// for what capnp itself rejects (bad pointers, traversal limit).
Frame read_frame(wire::Frame::Reader in, BufferPool& pool, const CodecLimits& limits);

}  // namespace streamlab
