#include "nodes/builtin_types.hpp"
#include "nodes/node_support.hpp"

namespace streamlab {

namespace {

using namespace node_support;

// Kept to a plain counted loop over non-aliasing pointers so -O3 turns it
// into packed multiplies with no runtime overlap check.
void scale(const float* __restrict src, float* __restrict dst, std::size_t n, float gain) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = src[i] * gain;
}

class GainNode final : public Node {
 public:
  GainNode(const json& config, const NodeContext& ctx)
      : pool_(ctx.pool ? ctx.pool : &BufferPool::process_pool()),
        gain_(static_cast<float>(config.at("gain").get<double>())) {}

  Status process(const Inputs& in, FrameList& out) override {
    const Frame* input = in.count > 0 ? in[0] : nullptr;
    if (!input) return Status::error("gain: called without an input frame");
    const std::size_t n = input->sample_count();
    if (input->samples.size() < n)
      return Status::error("gain: frame seq " + std::to_string(input->seq) + " declares " +
                           std::to_string(n) + " samples but carries " +
                           std::to_string(input->samples.size()));
    // The input buffer may be shared with other consumers, so the result
    // always goes to a fresh buffer, even for gain 1.
    WritableBuffer buffer = pool_->acquire(n);
    scale(input->samples.data(), buffer.data(), n, gain_);

    Frame frame;
    frame.seq = input->seq;
    frame.timestamp_ns = input->timestamp_ns;
    frame.sample_rate = input->sample_rate;
    frame.channels = input->channels;
    frame.frames = input->frames;
    frame.metadata = input->metadata;
    frame.samples = std::move(buffer).freeze();
    out.push_back(std::move(frame));
    return Status::ok();
  }

 private:
  BufferPool* pool_;
  float gain_;
};

}  // namespace

NodeType gain_node_type() {
  NodeTypeSchema schema;
  schema.type = "gain";
  schema.summary = "multiplies every sample by a constant";
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.fields = {
      number_field("gain", "linear factor (negative inverts polarity)", 1.0, -1000.0, 1000.0),
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<GainNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
