// audio_playback: a sink playing its input on an output device through
// RtAudio. process() writes each frame into a preallocated single-producer/
// single-consumer ring that the audio callback reads; the callback only
// copies (silence when the ring runs dry, counted as an underrun). The
// device sets the pace: when the ring is full, process() waits for room, so
// a faster source is held back by the credits upstream, as with any slow sink.

#include <rtaudio/RtAudio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "nodes/audio_device.hpp"
#include "nodes/audio_stream.hpp"
#include "nodes/builtin_types.hpp"
#include "nodes/node_support.hpp"
#include "runtime/spsc_ring.hpp"

namespace streamlab {

namespace {

using namespace node_support;

struct PlaybackState {
  PlaybackState(std::size_t ring_samples, unsigned ch, bool watch_errors)
      : samples(ring_samples),
        channels(ch),
        errors(watch_errors ? &audio::stream_error_count() : nullptr),
        errors_at_open(errors ? errors->load() : 0) {}

  SpscRing<float> samples;  // interleaved
  const unsigned channels;
  const std::atomic<std::uint64_t>* errors;
  const std::uint64_t errors_at_open;

  std::atomic<std::uint64_t> callbacks{0};
  std::atomic<std::uint64_t> device_underflows{0};  // callbacks flagged RTAUDIO_OUTPUT_UNDERFLOW
  std::atomic<std::uint64_t> underruns{0};          // callbacks the ring could not fill
  std::atomic<std::uint64_t> underrun_frames{0};
  std::atomic<std::uint64_t> frames_played{0};
  std::atomic<std::int64_t> last_callback_ns{0};
  std::atomic<bool> aborted{false};
  std::atomic<bool> ending{false};  // the input has ended: a dry ring is no underrun
};

// The real-time side: copies out of the ring, silence for what is missing.
int playback_callback(void* output, void*, unsigned int frames, double, RtAudioStreamStatus status,
                      void* user) {
  auto& s = *static_cast<PlaybackState*>(user);
  const std::int64_t steady = steady_clock_ns();
  if (s.errors && s.errors->load(std::memory_order_relaxed) != s.errors_at_open) {
    s.aborted.store(true, std::memory_order_release);
    return 2;
  }
  if (status & RTAUDIO_OUTPUT_UNDERFLOW)
    s.device_underflows.fetch_add(1, std::memory_order_relaxed);
  auto* out = static_cast<float*>(output);
  const std::size_t want = std::size_t{frames} * s.channels;
  const std::size_t got = out ? s.samples.pop(out, want) : 0;
  if (out && got < want) {
    std::memset(out + got, 0, (want - got) * sizeof(float));
    if (!s.ending.load(std::memory_order_relaxed)) {
      s.underruns.fetch_add(1, std::memory_order_relaxed);
      s.underrun_frames.fetch_add((want - got) / s.channels, std::memory_order_relaxed);
    }
  }
  s.frames_played.fetch_add(got / s.channels, std::memory_order_relaxed);
  s.last_callback_ns.store(steady, std::memory_order_release);
  s.callbacks.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

class AudioPlaybackNode final : public Node {
 public:
  AudioPlaybackNode(const json& config, const NodeContext& ctx)
      : who_("audio_playback \"" + ctx.node_id + "\""),
        stream_name_(ctx.node_id.empty() ? "streamlab" : ctx.node_id),
        buffer_ms_(config.at("buffer_ms").get<double>()) {
    request_.who = who_;
    request_.device = config.at("device").get<std::string>();
    request_.direction = audio::Direction::output;
    // The format comes with the first frame; the device must exist now.
    const std::string api = config.at("api").get<std::string>();
    if (api == "default") {
      std::string tried;
      for (const auto& candidate : audio::compiled_apis()) {
        auto rt = audio::open_api(candidate, who_);
        listing_ = audio::list_devices(*rt, candidate);
        if (listing_.problem.empty()) {
          rt_ = std::move(rt);
          break;
        }
        tried += (tried.empty() ? "" : "; ") + candidate + ": " + listing_.problem;
      }
      if (!rt_)
        throw std::runtime_error(who_ + ": no audio API has a device (" +
                                 (tried.empty() ? std::string("none compiled in") : tried) + ")");
    } else {
      rt_ = audio::open_api(api, who_);
      listing_ = audio::list_devices(*rt_, api);
    }
    request_.api = listing_.api;
    device_ = audio::choose_device(request_, listing_);
  }

  ~AudioPlaybackNode() override {
    if (!rt_) return;
    if (!state_ || dead().empty())
      audio::close_stream(*rt_);
    else
      audio::close_dead_stream(*rt_);
  }

  Status process(const Inputs& in, FrameList&) override {
    const Frame* frame = in.count > 0 ? in[0] : nullptr;
    if (!frame) return Status::error(who_ + ": called without an input frame");
    if (frame->sample_count() == 0) return Status::ok();
    if (!state_) {
      Status opened = open(*frame);
      if (!opened.is_ok()) return opened;
    } else if (frame->sample_rate != rate_ || frame->channels != channels_) {
      return Status::error(who_ + ": frame seq " + std::to_string(frame->seq) + " is " +
                           std::to_string(frame->sample_rate) + " Hz, " +
                           std::to_string(frame->channels) + " ch but the device was opened at " +
                           std::to_string(rate_) + " Hz, " + std::to_string(channels_) + " ch");
    }
    const std::size_t frames = frame->frames;
    const std::size_t n = frames * channels_;
    if (interleaved_.size() < n) interleaved_.resize(n);
    for (std::uint32_t c = 0; c < channels_; ++c) {
      const float* __restrict src = frame->channel(c);
      float* __restrict dst = interleaved_.data() + c;
      for (std::size_t i = 0; i < frames; ++i) dst[i * channels_] = src[i];
    }
    // A frame larger than the ring goes in pieces.
    std::size_t done = 0;
    while (done < n) {
      const std::size_t piece =
          std::min(n - done, state_->samples.capacity() / channels_ * channels_);
      Status room = wait_for_room(piece);
      if (!room.is_ok()) return room;
      state_->samples.push(interleaved_.data() + done, piece);
      done += piece;
      if (!running_) {
        Status started = start();
        if (!started.is_ok()) return started;
      }
    }
    return Status::ok();
  }

  // Plays out what the ring holds (at most its length, and a second), then closes.
  Status finish(FrameList&) override {
    if (!state_) return Status::ok();
    state_->ending.store(true, std::memory_order_relaxed);
    const std::int64_t deadline = steady_clock_ns() + ring_ns() + 1'000'000'000;
    while (running_ && state_->samples.size_approx() > 0 && dead().empty() &&
           steady_clock_ns() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    audio::close_stream(*rt_);
    return Status::ok();
  }

  void figures(std::vector<NamedFigure>& out) const override {
    auto add = [&out](const char* name, double value) { out.push_back({name, value}); };
    const PlaybackState* s = state_.get();
    auto value = [s](const std::atomic<std::uint64_t> PlaybackState::*field) {
      return s ? static_cast<double>((s->*field).load()) : 0.0;
    };
    add("callbacks", value(&PlaybackState::callbacks));
    add("xruns", value(&PlaybackState::device_underflows));
    add("underruns", value(&PlaybackState::underruns));
    add("underrun_frames", value(&PlaybackState::underrun_frames));
    add("frames_played", value(&PlaybackState::frames_played));
    add("ring_fill_ratio", s ? static_cast<double>(s->samples.size_approx()) /
                                   static_cast<double>(s->samples.capacity())
                             : 0.0);
  }

 private:
  std::int64_t ring_ns() const {
    return state_ ? static_cast<std::int64_t>(state_->samples.capacity() / channels_ *
                                              1'000'000'000ULL / rate_)
                  : 0;
  }

  Status open(const Frame& first) {
    request_.channels = first.channels;
    request_.sample_rate = first.sample_rate;
    std::string problem = audio::check_format(request_, listing_, device_);
    if (!problem.empty()) return Status::error(who_ + ": " + problem);
    channels_ = first.channels;
    rate_ = first.sample_rate;
    const std::size_t ring_frames = std::max<std::size_t>(
        std::size_t{2} * first.frames, static_cast<std::size_t>(buffer_ms_ * rate_ / 1000.0));
    state_ = std::make_unique<PlaybackState>(ring_frames * channels_, channels_,
                                             request_.api == "pulse");
    RtAudio::StreamParameters params;
    params.deviceId = device_.index;
    params.nChannels = channels_;
    RtAudio::StreamOptions options;
    options.streamName = stream_name_;
    unsigned period = first.frames;
    try {
      rt_->openStream(&params, nullptr, RTAUDIO_FLOAT32, rate_, &period, &playback_callback,
                      state_.get(), &options,
                      request_.api == "pulse" ? &audio::count_stream_error : nullptr);
    } catch (const RtAudioError& e) {
      return Status::error(who_ + ": cannot open output device \"" + device_.name + "\" on " +
                           audio::display_name(request_.api) + ": " + e.getMessage());
    }
    if (!rt_->isStreamOpen())
      return Status::error(who_ + ": cannot open output device \"" + device_.name + "\" on " +
                           audio::display_name(request_.api));
    period_ = period;
    return Status::ok();
  }

  Status start() {
    try {
      rt_->startStream();
    } catch (const RtAudioError& e) {
      return Status::error(who_ + ": cannot start the stream on \"" + device_.name +
                           "\": " + e.getMessage());
    }
    running_ = true;
    started_ns_ = steady_clock_ns();
    return Status::ok();
  }

  // Why the stream is dead, or empty while it lives.
  std::string dead() const {
    const std::string api = audio::display_name(request_.api);
    if (state_->aborted.load(std::memory_order_acquire))
      return "the " + api + " server reported an error on the stream of \"" + device_.name +
             "\" (server gone?); stream aborted";
    if (!rt_->isStreamOpen())
      return "the " + api + " stream of \"" + device_.name + "\" was closed under us" +
             (request_.api == "jack" ? " (JACK server gone?)" : "");
    if (!running_) return {};
    const std::int64_t limit = audio::stall_limit_ns(period_, rate_);
    const std::int64_t last = state_->last_callback_ns.load(std::memory_order_acquire);
    const std::int64_t since =
        last ? steady_clock_ns() - last : steady_clock_ns() - started_ns_ - 2 * limit;
    if (since > limit)
      return "\"" + device_.name + "\" on " + api + " has asked for no audio for " +
             std::to_string(since / 1'000'000) + " ms";
    return {};
  }

  // The device sets the pace: wait until the ring has room for `n` samples.
  Status wait_for_room(std::size_t n) {
    while (state_->samples.write_available() < n) {
      std::string why = dead();
      if (!why.empty()) return Status::error(who_ + ": " + why);
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return Status::ok();
  }

  std::string who_;
  std::string stream_name_;
  double buffer_ms_;
  audio::DeviceRequest request_;
  audio::ApiDevices listing_;
  audio::DeviceInfo device_;
  std::unique_ptr<PlaybackState> state_;
  std::unique_ptr<RtAudio> rt_;
  std::vector<float> interleaved_;
  std::uint32_t channels_ = 0;
  std::uint32_t rate_ = 0;
  unsigned period_ = 0;
  bool running_ = false;
  std::int64_t started_ns_ = 0;
};

}  // namespace

NodeType audio_playback_node_type() {
  NodeTypeSchema schema;
  schema.type = "audio_playback";
  schema.summary =
      "plays its input on an audio output device through RtAudio: JACK, PulseAudio or ALSA (sink)";
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.has_output = false;
  FieldSpec device;
  device.name = "device";
  device.type = FieldType::string;
  device.help =
      "output device, by name or index (see `streamlab devices`); empty: the default output";
  device.default_value = "";
  schema.fields = {
      choice_field("api", "audio API; default: the first one that lists a device", "default",
                   {"default", "jack", "pulse", "alsa"}),
      device,
      integer_field("buffer_ms", "length of the ring between the node and the audio callback", 200,
                    10.0, 10000.0),
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<AudioPlaybackNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
