#pragma once
// What the audio node types share about a running RtAudio stream: noticing
// that it died without a word, and closing it safely. Internal to nodes/.
//
// RtAudio 5.2 on Linux, as measured (docs/architecture.md#audio-capture):
//  - JACK server gone: RtAudio closes the stream from a thread of its own,
//    with no error callback; isStreamOpen() turns false within ~250 ms.
//  - PulseAudio server gone: the stream keeps "running" and the callback
//    spins with read errors, reported (as warnings) to the error callback.
//    That callback carries no user data, so errors are counted per process;
//    a stream's callback that sees the count move returns 2 (abort).
//  - Either way, a stream whose callbacks stop for many periods is dead.

#include <rtaudio/RtAudio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "nodes/audio_device.hpp"

namespace streamlab::audio {

// Errors RtAudio reported on running streams (PulseAudio only), process-wide.
std::atomic<std::uint64_t>& stream_error_count();
// The error callback given to RtAudio for PulseAudio streams: counts, and
// nothing else (it must never stop the stream itself).
void count_stream_error(RtAudioError::Type type, const std::string& text);

// Stops and closes `rt`'s stream if it is still open. Never throws.
void close_stream(RtAudio& rt);

// The same for a stream found dead. When a JACK server shuts down, RtAudio
// closes the stream itself, from a thread of its own; closing it here at
// the same time would close the JACK client twice, concurrently. So this
// first waits, for at most `bound_ms`, for that close to finish.
void close_dead_stream(RtAudio& rt, int bound_ms = 3000);

// How long without a callback before a stream counts as dead: many
// periods, and never less than a second (a loaded machine delays them).
std::int64_t stall_limit_ns(unsigned period_frames, unsigned sample_rate);

}  // namespace streamlab::audio
