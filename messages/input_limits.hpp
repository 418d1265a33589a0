#pragma once
// Every size, depth, count and timeout that bounds what StreamLab accepts
// from outside: pipeline files and deploy messages, frames and dead letters
// read back, connections to the ports a process opens. One header, so that
// a reviewer sees the whole attack surface's bounds at once and the README's
// security section can list them; each is tested at its edge.
//
// It lives in messages/, the lowest layer, so that every layer can use it
// without an arrow pointing up. No CAF, no third-party headers.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace streamlab::limits {

// --- Pipeline files and deploy messages (JSON) ---

// --- Frames (Cap'n Proto, across processes and in dead-letter files) ---

// Channels in one frame: what every node's validation allows (sine, capture,
// a wav_source's file) and what the frame decoder accepts, so whatever
// validates also crosses members. 64 covers any realistic interface.
constexpr std::uint32_t kMaxFrameChannels = 64;
// Samples per channel in one frame (a generator's frame_size, a wav_source's
// frame_size): ~1.4 s at 48 kHz, far past any useful block size.
constexpr std::uint32_t kMaxFrameSize = 65536;
// Samples (channels * frames) in one frame: 16 MiB of floats, what the
// decoder may allocate for one frame. Exactly the two bounds above combined,
// so any frame validation allows is within it.
constexpr std::size_t kMaxFrameSamples = std::size_t{kMaxFrameChannels} * kMaxFrameSize;
// Per-channel frames the decoder accepts (a mono frame can be longer than
// kMaxFrameSize when a node merges frames; kMaxFrameSamples still bounds it).
constexpr std::uint32_t kMaxDecodedFramesPerChannel = std::uint32_t{1} << 20;
// Sample bytes a cross-process edge may have sent and not yet had consumed
// (besides its frame-count window): BASP carries heartbeats and control on
// the same connection as data, so this is how much data can queue ahead of a
// heartbeat. One frame is always allowed, however large.
constexpr std::uint64_t kMaxRemoteEdgeBytesInFlight = std::uint64_t{4} << 20;

// --- Connections (BASP gate, monitor port, HTTP endpoints, TLS) ---

// --- Member file system (deployed pipelines' paths) ---

}  // namespace streamlab::limits
