// audio_capture: a live source reading an input device through RtAudio
// (docs/architecture.md#audio-capture). The audio callback only copies each block into a
// preallocated single-producer/single-consumer ring and records when it ran
// and what the device said (overflow); generate() drains the ring into
// pooled frames of `frame_size`, stamped with their capture time.

#include <rtaudio/RtAudio.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "nodes/audio_device.hpp"
#include "nodes/audio_stream.hpp"
#include "nodes/builtin_types.hpp"
#include "nodes/frame_grid.hpp"
#include "nodes/node_support.hpp"
#include "nodes/overrun_loss.hpp"
#include "runtime/latency_histogram.hpp"
#include "runtime/spsc_ring.hpp"

namespace streamlab {

namespace {

using namespace node_support;

// One callback's block, as the callback saw it.
struct BlockStamp {
  std::uint64_t index = 0;        // callbacks before this one
  std::uint64_t first_frame = 0;  // device frames before this block, dropped ones included
  std::uint32_t frames = 0;
  std::uint32_t status = 0;    // RtAudioStreamStatus
  std::int64_t steady_ns = 0;  // when the callback ran
  std::int64_t wall_ns = 0;    // the same moment on the wall clock
};

// Everything the audio callback touches: allocated before the stream
// starts, then only written through atomics and the rings.
struct CallbackState {
  CallbackState(std::size_t ring_frames, unsigned ch, bool watch_errors)
      : samples(ring_frames * ch),
        stamps(std::max<std::size_t>(64, ring_frames / 16)),
        channels(ch),
        errors(watch_errors ? &audio::stream_error_count() : nullptr),
        errors_at_open(errors ? errors->load() : 0) {}

  SpscRing<float> samples;  // interleaved, as RtAudio delivers them
  SpscRing<BlockStamp> stamps;
  const unsigned channels;
  const std::atomic<std::uint64_t>* errors;  // PulseAudio: the process-wide error count
  const std::uint64_t errors_at_open;

  // The callback's own (no other thread reads them).
  std::uint64_t next_index = 0;
  std::uint64_t next_frame = 0;

  // Read by the node.
  std::atomic<std::uint64_t> callbacks{0};
  std::atomic<std::uint64_t> device_overruns{0};  // callbacks flagged RTAUDIO_INPUT_OVERFLOW
  std::atomic<std::uint64_t> ring_overflows{0};   // blocks the ring had no room for
  std::atomic<std::uint64_t> ring_overflow_frames{0};
  std::atomic<std::int64_t> last_callback_ns{0};  // steady clock
  std::atomic<bool> aborted{false};
};

// The real-time side. No allocation, no lock, no log, no wait: two clock
// reads, a few atomics and at most two memcpy per ring.
int capture_callback(void*, void* input, unsigned int frames, double, RtAudioStreamStatus status,
                     void* user) {
  auto& s = *static_cast<CallbackState*>(user);
  const std::int64_t steady = steady_clock_ns();
  const std::int64_t wall = wall_clock_ns();
  if (s.errors && s.errors->load(std::memory_order_relaxed) != s.errors_at_open) {
    s.aborted.store(true, std::memory_order_release);
    return 2;  // abort: its server failed; generate() reports it
  }
  if (status & RTAUDIO_INPUT_OVERFLOW) s.device_overruns.fetch_add(1, std::memory_order_relaxed);
  BlockStamp stamp;
  stamp.index = s.next_index++;
  stamp.first_frame = s.next_frame;
  stamp.frames = frames;
  stamp.status = status;
  stamp.steady_ns = steady;
  stamp.wall_ns = wall;
  s.next_frame += frames;
  const std::size_t n = std::size_t{frames} * s.channels;
  // The stamp goes after the samples (the node reads a stamp, then its
  // samples); there is room for it, as this thread is the only writer.
  if (input && s.stamps.write_available() > 0 &&
      s.samples.push(static_cast<const float*>(input), n)) {
    s.stamps.push(stamp);
  } else {
    s.ring_overflows.fetch_add(1, std::memory_order_relaxed);
    s.ring_overflow_frames.fetch_add(frames, std::memory_order_relaxed);
  }
  s.last_callback_ns.store(steady, std::memory_order_release);
  s.callbacks.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

// The longest run of lost blocks replaced by silence.
constexpr unsigned kMaxGapSeconds = 10;

Overflow overflow_from(const std::string& name) {
  return name == "drop_newest" ? Overflow::drop_newest : Overflow::drop_oldest;
}

class AudioCaptureNode final : public Node {
 public:
  AudioCaptureNode(const json& config, const NodeContext& ctx)
      : who_("audio_capture \"" + ctx.node_id + "\""),
        pool_(ctx.pool ? ctx.pool : &BufferPool::process_pool()),
        channels_(small_uint_field(config.at("channels"))),
        rate_(small_uint_field(config.at("sample_rate"))),
        frame_size_(small_uint_field(config.at("frame_size"))),
        grid_(ctx.epoch_ns, rate_, frame_size_, 0),
        overruns_(rate_),
        aligned_(ctx.epoch_ns == 0) {
    pacing_.numbered_by_time = ctx.epoch_ns != 0;
    pacing_.overflow = overflow_from(config.at("overflow").get<std::string>());
    pacing_.backlog = small_uint_field(config.at("backlog"));
    // Four polls per frame: a frame waits at most a quarter of its length
    // in the ring before it is sent.
    pacing_.poll_interval_ns = std::max<std::int64_t>(250'000, frame_ns(frame_size_) / 4);

    audio::DeviceRequest request;
    request.who = who_;
    request.device = config.at("device").get<std::string>();
    request.direction = audio::Direction::input;
    request.channels = channels_;
    request.sample_rate = rate_;
    const std::string api = config.at("api").get<std::string>();
    audio::ApiDevices listing;
    if (api == "default") {
      // The first compiled API that lists a device, as RtAudio would pick.
      std::string tried;
      for (const auto& candidate : audio::compiled_apis()) {
        auto rt = audio::open_api(candidate, who_);
        listing = audio::list_devices(*rt, candidate);
        if (listing.problem.empty()) {
          rt_ = std::move(rt);
          break;
        }
        tried += (tried.empty() ? "" : "; ") + candidate + ": " + listing.problem;
      }
      if (!rt_)
        throw std::runtime_error(who_ + ": no audio API has a device (" +
                                 (tried.empty() ? std::string("none compiled in") : tried) + ")");
    } else {
      rt_ = audio::open_api(api, who_);
      listing = audio::list_devices(*rt_, api);
    }
    api_ = listing.api;
    request.api = api_;
    device_ = audio::choose_device(request, listing);

    const std::size_t ring_frames = std::max<std::size_t>(
        std::size_t{4} * frame_size_,
        static_cast<std::size_t>(config.at("buffer_ms").get<double>() * rate_ / 1000.0));
    state_ = std::make_unique<CallbackState>(ring_frames, channels_, api_ == "pulse");
    scratch_.resize(std::size_t{4096} * channels_);

    RtAudio::StreamParameters params;
    params.deviceId = device_.index;
    params.nChannels = channels_;
    RtAudio::StreamOptions options;
    options.streamName = ctx.node_id.empty() ? "streamlab" : ctx.node_id;
    unsigned period = frame_size_;  // a request; JACK always uses the server's period
    try {
      rt_->openStream(nullptr, &params, RTAUDIO_FLOAT32, rate_, &period, &capture_callback,
                      state_.get(), &options,
                      api_ == "pulse" ? &audio::count_stream_error : nullptr);
    } catch (const RtAudioError& e) {
      throw std::runtime_error(who_ + ": cannot open input device \"" + device_.name + "\" on " +
                               audio::display_name(api_) + ": " + e.getMessage());
    }
    if (!rt_->isStreamOpen())
      throw std::runtime_error(who_ + ": cannot open input device \"" + device_.name + "\" on " +
                               audio::display_name(api_));
    period_ = period;
    held_limit_ = std::clamp<std::size_t>(ring_frames / std::max(period_, 1u) / 2, 1, held_.size());
    grid_ = FrameGrid(ctx.epoch_ns, rate_, frame_size_, period_);
    stall_limit_ns_ = audio::stall_limit_ns(period_, rate_);
  }

  ~AudioCaptureNode() override { close(); }

  std::optional<LivePacing> live() const override { return pacing_; }

  Status generate(FrameList& out, bool& end_of_stream) override {
    end_of_stream = false;
    if (!failure_.empty()) return Status::error(failure_);
    if (!started_) {
      Status s = start();
      if (!s.is_ok()) return s;
    }
    drain(out);
    std::string why = watchdog();
    if (why.empty()) return Status::ok();
    // Dead: what it delivered still goes out (the partial frame completed
    // with silence); the error comes with the next call, so the actor sends
    // these frames before it fails.
    drain(out);
    place_held(overruns_.settle(), out);
    complete_partial(out);
    failure_ = who_ + ": " + why;
    return out.empty() ? Status::error(failure_) : Status::ok();
  }

  Status finish(FrameList& out) override {
    close();
    drain(out);
    place_held(overruns_.settle(), out);
    complete_partial(out);
    return Status::ok();
  }

  void figures(std::vector<NamedFigure>& out) const override {
    const CallbackState& s = *state_;
    auto add = [&out](const char* name, double value) { out.push_back({name, value}); };
    add("callbacks", static_cast<double>(s.callbacks.load()));
    add("callback_period_p50_us", periods_.percentile_ns(50) / 1e3);
    add("callback_period_p99_us", periods_.percentile_ns(99) / 1e3);
    add("period_frames", period_);
    add("xruns", static_cast<double>(s.device_overruns.load()));
    add("xrun_frames_filled", static_cast<double>(overrun_frames_));
    add("ring_overflows", static_cast<double>(s.ring_overflows.load()));
    add("ring_overflow_frames", static_cast<double>(s.ring_overflow_frames.load()));
    add("ring_fill_ratio",
        static_cast<double>(s.samples.size_approx()) / static_cast<double>(s.samples.capacity()));
    add("ring_fill_max_ratio", ring_fill_max_);
    add("clock_drift_ppm", drift_ppm_);
    add("frames_captured", static_cast<double>(frames_captured_));
  }

 private:
  std::int64_t frame_ns(std::uint64_t frames) const {
    return static_cast<std::int64_t>(frames * 1'000'000'000ULL / rate_);
  }

  Status start() {
    started_ = true;
    started_ns_ = steady_clock_ns();
    try {
      rt_->startStream();
    } catch (const RtAudioError& e) {
      failure_ = who_ + ": cannot start the stream on \"" + device_.name + "\": " + e.getMessage();
      return Status::error(failure_);
    }
    return Status::ok();
  }

  void close() {
    if (!rt_) return;
    if (failure_.empty())
      audio::close_stream(*rt_);
    else
      audio::close_dead_stream(*rt_);
  }

  // Why the stream is dead, or empty while it lives.
  std::string watchdog() {
    const CallbackState& s = *state_;
    const std::string api = audio::display_name(api_);
    if (s.aborted.load(std::memory_order_acquire))
      return "the " + api + " server reported an error on the stream of \"" + device_.name +
             "\" (server gone?); stream aborted";
    if (!rt_->isStreamOpen())
      return "the " + api + " stream of \"" + device_.name + "\" was closed under us" +
             (api_ == "jack" ? " (JACK server gone?)" : "");
    if (spinning_)
      return "the " + api + " stream of \"" + device_.name + "\" delivers frames far faster than " +
             std::to_string(rate_) + " Hz (server gone?)";
    const std::int64_t last = s.last_callback_ns.load(std::memory_order_acquire);
    const std::int64_t now = steady_clock_ns();
    // The first callback may take a while (a server warming up).
    const std::int64_t since = last ? now - last : now - started_ns_ - 2 * stall_limit_ns_;
    if (since > stall_limit_ns_)
      return "no audio from \"" + device_.name + "\" on " + api + " for " +
             std::to_string(since / 1'000'000) + " ms (one block every " +
             std::to_string(frame_ns(period_) / 1000) + " us expected)";
    return {};
  }

  // Moves every block in the ring into frames.
  void drain(FrameList& out) {
    CallbackState& s = *state_;
    ring_fill_max_ = std::max(ring_fill_max_, static_cast<double>(s.samples.size_approx()) /
                                                  static_cast<double>(s.samples.capacity()));
    BlockStamp b;
    while (s.stamps.pop(b)) {
      b.first_frame += overrun_frames_;
      const bool flagged = (b.status & RTAUDIO_INPUT_OVERFLOW) != 0;
      std::uint64_t lost =
          overruns_.observe(b.first_frame + b.frames, b.frames, b.wall_ns, flagged);
      if (!overruns_.pending() && held_count_ == 0) {
        place(b, out);
        continue;
      }
      held_[held_count_++] = b;
      if (overruns_.pending() && held_count_ == held_limit_) lost = overruns_.settle();
      if (!overruns_.pending()) place_held(lost, out);
    }
  }

  // After an overrun's flag, blocks are held (their samples stay in the
  // ring) until what it lost is known (nodes/overrun_loss.hpp): then they
  // are placed with the lost frames counted, and fill_gap() keeps the lost
  // frames' place with silence, right where they were lost. So the stream
  // stays on the wall clock and in line with other captures of the server.
  void place_held(std::uint64_t lost, FrameList& out) {
    overrun_frames_ += lost;
    for (std::size_t i = 0; i < held_count_; ++i) {
      held_[i].first_frame += lost;
      place(held_[i], out);
    }
    held_count_ = 0;
  }

  // Moves one block's samples from the ring into frames.
  void place(const BlockStamp& b, FrameList& out) {
    CallbackState& s = *state_;
    observe(b);
    if (!aligned_) align(b);
    if (have_last_ && b.first_frame > next_frame_) fill_gap(b, out);
    next_frame_ = b.first_frame + b.frames;
    std::uint64_t left = b.frames;
    std::uint64_t at = b.first_frame;
    while (left > 0) {
      const std::size_t chunk = std::min<std::size_t>(left, scratch_.size() / channels_);
      const std::size_t got = s.samples.pop(scratch_.data(), chunk * channels_);
      // The callback pushes a block's samples before its stamp, so they are there.
      append(scratch_.data(), got / channels_, b, at, out);
      left -= got / channels_;
      at += got / channels_;
      if (got == 0) break;  // cannot happen; never loop forever on a defect
    }
    frames_captured_ += b.frames;
  }

  // Callback period, clock drift and spinning, from the blocks' own times.
  void observe(const BlockStamp& b) {
    if (have_last_ && b.index == last_.index + 1) periods_.record(b.steady_ns - last_.steady_ns);
    last_ = b;
    have_last_ = true;
    // Drift: device frames against steady time since a reference block
    // taken once the stream has settled (a second in).
    if (!have_reference_ && b.steady_ns - started_ns_ > 1'000'000'000) {
      reference_ = b;
      have_reference_ = true;
    } else if (have_reference_) {
      const double system_s = (b.steady_ns - reference_.steady_ns) / 1e9;
      const double device_s = static_cast<double>(b.first_frame - reference_.first_frame) / rate_;
      if (system_s >= 1.0) drift_ppm_ = (device_s / system_s - 1.0) * 1e6;
    }
    // Spinning: over each second of callbacks, far more frames than the rate.
    if (!have_window_) {
      window_ = b;
      have_window_ = true;
    } else if (b.steady_ns - window_.steady_ns >= 1'000'000'000) {
      const double seconds = (b.steady_ns - window_.steady_ns) / 1e9;
      const double frames = static_cast<double>(b.first_frame - window_.first_frame);
      if (frames > 4.0 * rate_ * seconds) spinning_ = true;
      window_ = b;
    }
  }

  // Blocks the ring had no room for: their frames are counted by the
  // callback; here their place is kept with silence, so the stream's
  // timing, its alignment with other streams (mix aligns by sequence) and
  // its frame sizes hold. Up to kMaxGapSeconds: past that (a process
  // stopped for minutes) only the frame under way is completed.
  void fill_gap(const BlockStamp& next, FrameList& out) {
    const std::uint64_t gap = next.first_frame - next_frame_;
    const std::uint64_t limit = std::max<std::uint64_t>(state_->samples.capacity() / channels_,
                                                        std::uint64_t{kMaxGapSeconds} * rate_);
    std::uint64_t fill = gap <= limit ? gap : (fill_ > 0 ? frame_size_ - fill_ : 0);
    std::uint64_t at = next.first_frame - gap;
    while (fill > 0) {
      const std::size_t chunk = std::min<std::size_t>(fill, scratch_.size() / channels_);
      std::fill(scratch_.begin(), scratch_.begin() + chunk * channels_, 0.0f);
      append(scratch_.data(), chunk, next, at, out);
      fill -= chunk;
      at += chunk;
    }
  }

  // In a pipeline, frames start on its grid (nodes/frame_grid.hpp): what
  // comes before the first whole slot after the grid has settled is not
  // part of the stream.
  void align(const BlockStamp& b) {
    grid_.observe(b.first_frame + b.frames, b.wall_ns);
    if (!grid_.settled()) return;
    const FrameGrid::Start start = grid_.first_slot_from(b.first_frame + b.frames);
    start_frame_ = start.position;
    seq_ = start.slot;
    aligned_ = true;
  }

  // Appends `frames` interleaved frames, the first at device position `at`,
  // to the frame under way, sending each one that fills up. `ref` is a block
  // whose time gives the capture time of any position.
  void append(const float* src, std::size_t frames, const BlockStamp& ref, std::uint64_t at,
              FrameList& out) {
    if (!aligned_ || at + frames <= start_frame_) return;
    if (at < start_frame_) {
      const std::uint64_t skip = start_frame_ - at;
      src += skip * channels_;
      frames -= skip;
      at = start_frame_;
    }
    while (frames > 0) {
      if (fill_ == 0) {
        current_ = pool_->acquire(std::size_t{frame_size_} * channels_);
        // The block's last frame arrived when its callback ran.
        const std::int64_t first_of_block = ref.wall_ns - frame_ns(ref.frames);
        const std::int64_t offset =
            static_cast<std::int64_t>(at) - static_cast<std::int64_t>(ref.first_frame);
        current_ts_ = first_of_block + offset * 1'000'000'000LL / static_cast<std::int64_t>(rate_);
      }
      const std::size_t n = std::min<std::size_t>(frames, frame_size_ - fill_);
      float* dst = current_.data();
      for (unsigned c = 0; c < channels_; ++c) {
        float* __restrict plane = dst + std::size_t{c} * frame_size_ + fill_;
        const float* __restrict in = src + c;
        for (std::size_t i = 0; i < n; ++i) plane[i] = in[i * channels_];
      }
      fill_ += static_cast<std::uint32_t>(n);
      src += n * channels_;
      frames -= n;
      at += n;
      if (fill_ == frame_size_) emit(out);
    }
  }

  void complete_partial(FrameList& out) {
    if (fill_ == 0) return;
    float* dst = current_.data();
    for (unsigned c = 0; c < channels_; ++c)
      std::fill(dst + std::size_t{c} * frame_size_ + fill_, dst + std::size_t{c + 1} * frame_size_,
                0.0f);
    fill_ = frame_size_;
    emit(out);
  }

  void emit(FrameList& out) {
    Frame f;
    f.seq = seq_++;
    f.timestamp_ns = current_ts_;
    f.sample_rate = rate_;
    f.channels = channels_;
    f.frames = frame_size_;
    f.samples = std::move(current_).freeze();
    out.push_back(std::move(f));
    fill_ = 0;
  }

  std::string who_;
  BufferPool* pool_;
  std::uint32_t channels_;
  std::uint32_t rate_;
  std::uint32_t frame_size_;
  LivePacing pacing_;
  std::string api_;
  audio::DeviceInfo device_;
  std::unique_ptr<CallbackState> state_;  // before rt_: the stream is closed before it goes
  std::unique_ptr<RtAudio> rt_;
  unsigned period_ = 0;
  std::int64_t stall_limit_ns_ = 0;

  bool started_ = false;
  std::int64_t started_ns_ = 0;
  std::string failure_;  // once dead, every later call fails with this

  std::vector<float> scratch_;  // interleaved, from the ring
  WritableBuffer current_;      // the frame under way
  std::uint32_t fill_ = 0;      // frames in it so far
  std::int64_t current_ts_ = 0;
  std::uint64_t seq_ = 0;
  FrameGrid grid_;
  OverrunLoss overruns_;
  std::uint64_t overrun_frames_ = 0;  // lost to overruns, filled with silence
  std::array<BlockStamp, 64> held_;   // blocks since an overrun, until its loss is known
  std::size_t held_count_ = 0;
  std::size_t held_limit_ = 1;     // what the ring can keep besides what keeps coming
  bool aligned_;                   // frames are being cut (on the grid, in a pipeline)
  std::uint64_t start_frame_ = 0;  // device position of the first frame's first sample
  std::uint64_t next_frame_ = 0;   // device position the next block should start at
  std::uint64_t frames_captured_ = 0;

  LatencyHistogram periods_;
  BlockStamp last_;
  bool have_last_ = false;
  BlockStamp reference_;
  bool have_reference_ = false;
  BlockStamp window_;
  bool have_window_ = false;
  bool spinning_ = false;
  double drift_ppm_ = 0;
  double ring_fill_max_ = 0;
};

}  // namespace

NodeType audio_capture_node_type() {
  NodeTypeSchema schema;
  schema.type = "audio_capture";
  schema.summary =
      "captures an audio input device through RtAudio: JACK, PulseAudio or ALSA (live source)";
  schema.min_inputs = 0;
  schema.max_inputs = 0;
  FieldSpec device;
  device.name = "device";
  device.type = FieldType::string;
  device.help =
      "input device, by name or index (see `streamlab devices`); empty: the default input";
  device.default_value = "";
  schema.fields = {
      choice_field("api", "audio API; default: the first one that lists a device", "default",
                   {"default", "jack", "pulse", "alsa"}),
      device,
      integer_field("channels", "channels to capture (the device's first ones)", 1, 1.0,
                    limits::kMaxFrameChannels),
      integer_field("sample_rate", "samples per second; the device must support it", 48000, 1000.0,
                    384000.0),
      integer_field("frame_size", "samples per channel in each frame", 256, 16.0,
                    limits::kMaxFrameSize),
      choice_field("overflow",
                   "when the output is full past `backlog` frames: drop the oldest or the newest",
                   "drop_oldest", {"drop_oldest", "drop_newest"}),
      integer_field("backlog", "frames held while the output is full, before dropping", 4, 1.0,
                    1024.0),
      integer_field("buffer_ms", "length of the ring between the audio callback and the node", 500,
                    10.0, 10000.0),
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<AudioCaptureNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
