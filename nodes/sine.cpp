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
        format_(config) {
    const double frequency = config.at("frequency").get<double>();
    const double rate = format_.sample_rate;
    const double cycles_per_sample = frequency / rate;
    // fmod is exact, so the per-frame advance carries one rounding of f*N
    // and one of the division: the phase drifts by ~1e-16 cycles per frame.
    cycles_per_frame_ = std::fmod(frequency * format_.frame_size, rate) / rate;
    for (std::size_t j = 0; j < kLanes; ++j) {
      const double angle = kTwoPi * (cycles_per_sample * static_cast<double>(j));
      lane_re_[j] = std::cos(angle);
      lane_im_[j] = std::sin(angle);
    }
    const double step = kTwoPi * std::fmod(cycles_per_sample * kLanes, 1.0);
    step_re_ = std::cos(step);
    step_im_ = std::sin(step);
  }

  std::optional<LivePacing> live() const override { return format_.live(); }
  std::optional<std::int64_t> next_due_ns() const override { return format_.due_ns(seq_); }

  Status generate(FrameList& out, bool& end_of_stream) override {
    end_of_stream = format_.ended(seq_);
    if (end_of_stream) return Status::ok();
    if (!format_.ready(seq_)) return Status::ok();  // real-time: not due yet
    const std::size_t n = format_.frame_size;
    WritableBuffer buffer = pool_->acquire(format_.samples());
    float* samples = buffer.data();
    render(samples);
    for (std::uint32_t c = 1; c < format_.channels; ++c)
      std::memcpy(samples + c * n, samples, n * sizeof(float));
    out.push_back(format_.frame(seq_++, std::move(buffer).freeze()));

    phase_ += cycles_per_frame_;
    if (phase_ >= 1.0) phase_ -= 1.0;
    end_of_stream = format_.ended(seq_);
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
    const std::size_t n = format_.frame_size;
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
  GeneratorFormat format_;
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
  FieldSpec frequency = number_field(
      "frequency", "tone frequency in Hz, above 0 and below sample_rate / 2", 440.0, 0.0);
  frequency.min_exclusive = true;  // judged with the other fields; Nyquist in the cross check
  schema.fields = {
      frequency,
      number_field("amplitude", "peak amplitude (1 = full scale)", 0.5, 0.0, 1.0),
  };
  add_generator_fields(schema.fields);
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
