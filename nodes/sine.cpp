#include <cmath>
#include <cstring>
#include <sstream>

#include "nodes/builtin_types.hpp"
#include "nodes/node_support.hpp"

namespace streamlab {

namespace {

using namespace node_support;

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Samples per step of the rotating phasor. Sample k + j of a block is
// Im(z * e^{i 2 pi j f/sr}): kLanes interleaved phasors that all step by
// w^kLanes, stored as one phasor z times a constant table. Each sample then
// costs two multiplies and an add with no dependency on its neighbours (the
// loop vectorizes), and the serial chain z *= w^kLanes runs once per block.
// Measured at -O3 (SSE2 baseline): 8 lanes ~2.4, 16 ~3.0, 32 ~3.6 G samples/s,
// against ~1 G for eight phasors each stepped per sample.
constexpr std::size_t kLanes = 32;

std::string format_hz(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

class SineNode final : public Node {
 public:
  SineNode(const json& config, const NodeContext& ctx)
      : pool_(ctx.pool ? ctx.pool : &BufferPool::process_pool()),
        amplitude_(config.at("amplitude").get<double>()),
        sample_rate_(small_uint_field(config.at("sample_rate"))),
        frame_size_(small_uint_field(config.at("frame_size"))),
        channels_(small_uint_field(config.at("channels"))),
        num_frames_(config.at("num_frames").get<std::uint64_t>()) {
    const double frequency = config.at("frequency").get<double>();
    const double rate = sample_rate_;
    const double cycles_per_sample = frequency / rate;
    // fmod is exact, so the per-frame advance carries one rounding of f*N
    // and one of the division: the phase drifts by ~1e-16 cycles per frame.
    cycles_per_frame_ = std::fmod(frequency * frame_size_, rate) / rate;
    for (std::size_t j = 0; j < kLanes; ++j) {
      const double angle = kTwoPi * (cycles_per_sample * static_cast<double>(j));
      lane_re_[j] = std::cos(angle);
      lane_im_[j] = std::sin(angle);
    }
    const double step = kTwoPi * std::fmod(cycles_per_sample * kLanes, 1.0);
    step_re_ = std::cos(step);
    step_im_ = std::sin(step);
  }

  Status generate(FrameList& out, bool& end_of_stream) override {
    end_of_stream = num_frames_ != 0 && seq_ >= num_frames_;
    if (end_of_stream) return Status::ok();
    const std::size_t count = std::size_t{channels_} * frame_size_;
    WritableBuffer buffer = pool_->acquire(count);
    float* samples = buffer.data();
    render(samples);
    for (std::uint32_t c = 1; c < channels_; ++c)
      std::memcpy(samples + std::size_t{c} * frame_size_, samples, frame_size_ * sizeof(float));

    Frame frame;
    frame.seq = seq_++;
    frame.timestamp_ns = wall_clock_ns();
    frame.sample_rate = sample_rate_;
    frame.channels = channels_;
    frame.frames = frame_size_;
    frame.samples = std::move(buffer).freeze();
    out.push_back(std::move(frame));

    phase_ += cycles_per_frame_;
    if (phase_ >= 1.0) phase_ -= 1.0;
    end_of_stream = num_frames_ != 0 && seq_ >= num_frames_;
    return Status::ok();
  }

 private:
  // A rotating phasor instead of sin() per sample, in double. It is
  // re-derived every frame from the phase accumulator (one sin/cos pair), so
  // the recurrence's rounding (at most frame_size / kLanes steps, ~1e-13)
  // never outlives a frame and the long-run phase is as exact as the
  // accumulator; no renormalisation is needed.
  void render(float* __restrict dst) const {
    const double start = kTwoPi * phase_;
    double zr = amplitude_ * std::cos(start);
    double zi = amplitude_ * std::sin(start);
    const double wr = step_re_;
    const double wi = step_im_;
    const double* __restrict lr = lane_re_;
    const double* __restrict li = lane_im_;
    const std::size_t n = frame_size_;
    std::size_t k = 0;
    for (; k + kLanes <= n; k += kLanes) {
      float* __restrict block = dst + k;
      for (std::size_t j = 0; j < kLanes; ++j)
        block[j] = static_cast<float>(zr * li[j] + zi * lr[j]);
      const double r = zr * wr - zi * wi;
      zi = zr * wi + zi * wr;
      zr = r;
    }
    float* __restrict block = dst + k;
    const std::size_t rest = n - k;
    for (std::size_t j = 0; j < rest; ++j) block[j] = static_cast<float>(zr * li[j] + zi * lr[j]);
  }

  BufferPool* pool_;
  double amplitude_;
  std::uint32_t sample_rate_;
  std::uint32_t frame_size_;
  std::uint32_t channels_;
  std::uint64_t num_frames_;
  double cycles_per_frame_ = 0.0;
  double phase_ = 0.0;                  // of the next frame's first sample, in cycles, [0, 1)
  alignas(64) double lane_re_[kLanes];  // e^{i 2 pi j f / sr}: sample j of a block
  alignas(64) double lane_im_[kLanes];
  double step_re_;  // e^{i 2 pi kLanes f / sr}: one block further
  double step_im_;
  std::uint64_t seq_ = 0;
};

}  // namespace

NodeType sine_node_type() {
  NodeTypeSchema schema;
  schema.type = "sine";
  schema.summary = "sine tone generator (source)";
  schema.min_inputs = 0;
  schema.max_inputs = 0;
  schema.fields = {
      // A strict "> 0" cannot be an inclusive min, so the cross check enforces it.
      number_field("frequency", "tone frequency in Hz, above 0 and below sample_rate / 2", 440.0),
      number_field("amplitude", "peak amplitude (1 = full scale)", 0.5, 0.0, 1.0),
      integer_field("sample_rate", "samples per second", 48000, 1000.0, 384000.0),
      integer_field("frame_size", "samples per channel in each frame", 1024, 1.0, 65536.0),
      integer_field("channels", "number of channels, all carrying the same tone", 1, 1.0, 64.0),
      // Like GStreamer's num-buffers: lets a pipeline file end by itself.
      integer_field("num_frames", "frames to emit before ending the stream (0 = endless)", 0, 0.0,
                    1e15),
  };
  schema.cross_check = [](const json& config, const auto& report) {
    const double frequency = config.at("frequency").get<double>();
    const double rate = config.at("sample_rate").get<double>();
    if (!(frequency > 0.0)) {
      report("frequency", "\"frequency\" must be above 0 Hz, got " + format_hz(frequency));
    } else if (!(frequency < rate / 2.0)) {
      report("frequency", "\"frequency\" " + format_hz(frequency) +
                              " Hz must be below half the sample_rate " + format_hz(rate) + " (" +
                              format_hz(rate / 2.0) + " Hz)");
    }
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<SineNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
