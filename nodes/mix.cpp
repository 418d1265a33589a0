#include "nodes/builtin_types.hpp"
#include "nodes/node_support.hpp"

namespace streamlab {

namespace {

using namespace node_support;

constexpr std::size_t kMaxInputs = 16;

void copy_scaled(const float* __restrict src, float* __restrict dst, std::size_t n, float k) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = src[i] * k;
}

void add_scaled(const float* __restrict src, float* __restrict dst, std::size_t n, float k) {
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i] * k;
}

std::string describe_format(const Frame& f) {
  return std::to_string(f.sample_rate) + " Hz, " + std::to_string(f.channels) + " ch, " +
         std::to_string(f.frames) + " frames";
}

class MixNode final : public Node {
 public:
  MixNode(const json& config, const NodeContext& ctx)
      : pool_(ctx.pool ? ctx.pool : &BufferPool::process_pool()),
        normalize_(config.at("normalize").get<bool>()) {}

  Status process(const Inputs& in, FrameList& out) override {
    std::size_t first = in.count;
    std::size_t present = 0;
    for (std::size_t i = 0; i < in.count; ++i) {
      if (!in[i]) continue;
      if (first == in.count) first = i;
      ++present;
    }
    if (present == 0) return Status::ok();  // nothing arrived at this seq: nothing to mix

    const Frame& ref = *in[first];
    const std::size_t n = ref.sample_count();
    for (std::size_t i = first; i < in.count; ++i) {
      const Frame* f = in[i];
      if (!f) continue;
      if (f->sample_rate != ref.sample_rate || f->channels != ref.channels ||
          f->frames != ref.frames)
        return Status::error("mix: input " + std::to_string(i) + " is " + describe_format(*f) +
                             " but input " + std::to_string(first) + " is " + describe_format(ref));
      if (f->samples.size() < n)
        return Status::error("mix: input " + std::to_string(i) + " frame seq " +
                             std::to_string(f->seq) + " declares " + std::to_string(n) +
                             " samples but carries " + std::to_string(f->samples.size()));
    }

    Frame frame;
    frame.seq = ref.seq;
    frame.timestamp_ns = ref.timestamp_ns;
    frame.sample_rate = ref.sample_rate;
    frame.channels = ref.channels;
    frame.frames = ref.frames;
    frame.metadata = ref.metadata;

    // Dividing by the number of ports, not of present inputs, keeps every
    // input's level fixed: an input that drops out counts as silence rather
    // than making the others jump louder.
    const float k = normalize_ ? 1.0f / static_cast<float>(in.count) : 1.0f;
    if (present == 1 && k == 1.0f) {
      frame.samples = ref.samples;  // the sum is that one input: share its buffer
    } else {
      WritableBuffer buffer = pool_->acquire(n);
      float* dst = buffer.data();
      copy_scaled(ref.samples.data(), dst, n, k);
      for (std::size_t i = first + 1; i < in.count; ++i)
        if (in[i]) add_scaled(in[i]->samples.data(), dst, n, k);
      frame.samples = std::move(buffer).freeze();
    }
    out.push_back(std::move(frame));
    return Status::ok();
  }

 private:
  BufferPool* pool_;
  bool normalize_;
};

}  // namespace

NodeType mix_node_type() {
  NodeTypeSchema schema;
  schema.type = "mix";
  schema.summary = "sums 2 to 16 inputs of the same format";
  schema.min_inputs = 2;
  schema.max_inputs = kMaxInputs;
  schema.fields = {
      boolean_field("normalize",
                    "divide the sum by the number of inputs (a missing input counts as silence)",
                    false),
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<MixNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
