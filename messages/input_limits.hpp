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

// Bytes of pipeline text read from a file or accepted in a deploy message.
// A 10,000-node pipeline is about 1.5 MB; 4 MiB leaves room for configs
// and comments while keeping one hostile message's cost small.
constexpr std::size_t kMaxPipelineTextBytes = 4u << 20;
// Nesting of JSON arrays and objects in pipeline text, enforced while
// parsing. A pipeline needs about 5 levels; 64 leaves room, and no walk of
// the document (copy, dump, destructor) can recurse deeper than this.
constexpr std::size_t kMaxPipelineNesting = 64;
// Nodes in one pipeline. Two members on loopback start 10,000 nodes in
// about 3 s and 20,000 in about 7.5 s (under 10 s with the machine busy,
// far inside the member's 30 s start timeout, so nothing half-starts);
// 40,000 took 11.5 to 30 s, about 3.5 GB, and made members flap.
constexpr std::size_t kMaxPipelineNodes = 20000;

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

// Largest BASP message the gate lets through: bigger than any message
// members exchange (a frame is ~4 KB, a failed node's handover a few MB),
// far below what hurts (CAF allocates whatever a header announces).
inline constexpr std::uint32_t kMaxBaspPayload = 64u << 20;
// Time a new connection has to prove itself (a complete BASP handshake
// message, a finished TLS handshake, a complete HTTP request head): peers
// on any network do it in milliseconds; idle sockets are closed after it.
inline constexpr std::chrono::milliseconds kHandshakeTimeout{5000};
// Connections one port holds at once (handshaking or established): a
// cluster has a handful of peers and clients; beyond this, new ones are
// accepted and closed, so a flood costs one descriptor per port, no more.
inline constexpr std::size_t kMaxConnectionsPerPort = 256;
// Largest HTTP request head (request line and headers): probes and
// scrapes send a few hundred bytes.
inline constexpr std::size_t kMaxHttpRequestHead = 8192;
// Threads civetweb answers requests on: the gate hands it only complete
// request heads, so no idle or slow client can hold one.
inline constexpr int kHttpServerThreads = 4;
// What civetweb waits for the rest of a request whose head it has: the
// gate already bounds the head; this bounds a body that never comes.
inline constexpr std::chrono::milliseconds kHttpRequestTimeout{2000};
// A TLS record's largest length (2^14 plaintext + 2048 expansion, RFC 5246).
inline constexpr std::size_t kMaxTlsRecord = (1u << 14) + 2048;
// How long a port stops accepting after the process ran out of file
// descriptors and could not even accept-and-close: no busy loop meanwhile.
inline constexpr std::chrono::milliseconds kOutOfDescriptorsBackoff{100};

// --- Member file system (deployed pipelines' paths) ---

}  // namespace streamlab::limits
