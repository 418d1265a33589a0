#pragma once
// Small helpers the built-in node types share: building schema fields
// without positional aggregate initialisers, reading validated config
// values, and the wall clock frames are stamped with. Internal to nodes/.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "messages/frame.hpp"
#include "messages/input_limits.hpp"
#include "nodes/node.hpp"
#include "runtime/config_schema.hpp"

namespace streamlab::node_support {

inline FieldSpec number_field(std::string name, std::string help, double default_value,
                              std::optional<double> min = std::nullopt,
                              std::optional<double> max = std::nullopt) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = FieldType::number;
  f.help = std::move(help);
  f.default_value = default_value;
  f.min = min;
  f.max = max;
  return f;
}

inline FieldSpec integer_field(std::string name, std::string help, std::int64_t default_value,
                               std::optional<double> min = std::nullopt,
                               std::optional<double> max = std::nullopt) {
  FieldSpec f = number_field(std::move(name), std::move(help), 0.0, min, max);
  f.type = FieldType::integer;
  f.default_value = default_value;
  return f;
}

inline FieldSpec boolean_field(std::string name, std::string help, bool default_value) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = FieldType::boolean;
  f.help = std::move(help);
  f.default_value = default_value;
  return f;
}

// Required (no default): a file name has no sensible default.
inline FieldSpec path_field(std::string name, std::string help, PathCheck check) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = FieldType::string;
  f.help = std::move(help);
  f.path_check = check;
  return f;
}

inline FieldSpec choice_field(std::string name, std::string help, std::string default_value,
                              std::vector<std::string> choices) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = FieldType::choice;
  f.help = std::move(help);
  f.default_value = std::move(default_value);
  f.choices = std::move(choices);
  return f;
}

// Integer fields are validated as whole numbers within their bounds but may
// arrive as JSON floats (3.0); casting through double is exact up to 2^53.
inline std::uint32_t small_uint_field(const json& value) {
  return static_cast<std::uint32_t>(value.get<double>());
}

// For unbounded non-negative integer fields (counts, seeds), which may be
// beyond what a double holds exactly, or a float too large to cast.
inline std::uint64_t count_field(const json& value) {
  if (value.is_number_integer()) return value.get<std::uint64_t>();
  const double v = value.get<double>();
  constexpr double kLimit = 9.2e18;  // below 2^63, so the cast is defined
  return v >= kLimit ? static_cast<std::uint64_t>(kLimit) : static_cast<std::uint64_t>(v);
}

// Frames carry wall-clock time so timestamps compare across processes.
inline std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t steady_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The stream format of a generator source (sine, constant), defined once so
// every generator takes the same fields with the same ranges.
inline void add_generator_fields(std::vector<FieldSpec>& fields) {
  fields.push_back(integer_field("sample_rate", "samples per second", 48000, 1000.0, 384000.0));
  fields.push_back(integer_field("frame_size", "samples per channel in each frame", 1024, 1.0,
                                 limits::kMaxFrameSize));
  fields.push_back(integer_field("channels", "number of channels, all carrying the same signal", 1,
                                 1.0, limits::kMaxFrameChannels));
  // Like GStreamer's num-buffers: lets a pipeline file end by itself.
  fields.push_back(integer_field(
      "num_frames", "frames to emit before ending the stream (0 = endless)", 0, 0.0, 1e15));
  fields.push_back(boolean_field(
      "realtime",
      "live source: emit each frame when its time comes (frame_size / sample_rate apart), "
      "stamped with that time; a full output drops the oldest frame",
      false));
}

struct GeneratorFormat {
  explicit GeneratorFormat(const json& config)
      : sample_rate(small_uint_field(config.at("sample_rate"))),
        frame_size(small_uint_field(config.at("frame_size"))),
        channels(small_uint_field(config.at("channels"))),
        num_frames(count_field(config.at("num_frames"))),
        realtime(config.at("realtime").get<bool>()) {}

  std::size_t samples() const { return std::size_t{channels} * frame_size; }
  // True once `next_seq` frames have been emitted and the stream is limited.
  bool ended(std::uint64_t next_seq) const { return num_frames != 0 && next_seq >= num_frames; }

  // When frame `seq` is due, relative to the first frame: seq * frame_size /
  // sample_rate, in whole nanoseconds (exact integer arithmetic, no drift).
  std::int64_t offset_ns(std::uint64_t seq) const {
    const std::uint64_t samples = seq * frame_size;
    return static_cast<std::int64_t>((samples / sample_rate) * 1'000'000'000ULL +
                                     (samples % sample_rate) * 1'000'000'000ULL / sample_rate);
  }

  // A real-time generator is live: its actor wakes when the next frame is
  // due (due_ns), which is never more than a frame period away, the poll
  // interval (so one wake-up per frame, not blind polls in between); when
  // the output is full, it drops the oldest held frame.
  std::optional<LivePacing> live() const {
    if (!realtime) return std::nullopt;
    LivePacing pacing;
    pacing.poll_interval_ns = std::max<std::int64_t>(1, offset_ns(1));
    pacing.overflow = Overflow::drop_oldest;
    return pacing;
  }

  // When frame `seq` is due on the steady clock (ns), for a real-time
  // generator whose clock has started (at its first ready()); else empty.
  std::optional<std::int64_t> due_ns(std::uint64_t seq) const {
    if (!realtime || !started_ || ended(seq)) return std::nullopt;
    return start_steady_ns_ + offset_ns(seq);
  }

  // Whether frame `seq` may be emitted now. Always for a generator that is
  // not real-time; for a real-time one, once start + offset_ns(seq) has
  // passed on the steady clock, where start is the first call. The frame is
  // then stamped with the wall-clock time it became due, not when it was asked for.
  bool ready(std::uint64_t seq) {
    if (!realtime) return true;
    const std::int64_t now = steady_clock_ns();
    if (!started_) {
      started_ = true;
      start_steady_ns_ = now;
      start_wall_ns_ = wall_clock_ns();
    }
    const std::int64_t offset = offset_ns(seq);
    if (now - start_steady_ns_ < offset) return false;
    due_wall_ns_ = start_wall_ns_ + offset;
    return true;
  }

  Frame frame(std::uint64_t seq, BufferRef samples) const {
    Frame f;
    f.seq = seq;
    f.timestamp_ns = realtime ? due_wall_ns_ : wall_clock_ns();
    f.sample_rate = sample_rate;
    f.channels = channels;
    f.frames = frame_size;
    f.samples = std::move(samples);
    return f;
  }

  std::uint32_t sample_rate;
  std::uint32_t frame_size;
  std::uint32_t channels;
  std::uint64_t num_frames;
  bool realtime;

 private:
  bool started_ = false;
  std::int64_t start_steady_ns_ = 0;
  std::int64_t start_wall_ns_ = 0;
  std::int64_t due_wall_ns_ = 0;  // of the frame `ready` last allowed
};

}  // namespace streamlab::node_support
