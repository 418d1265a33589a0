#include <algorithm>

#include "nodes/builtin_types.hpp"
#include "nodes/node_support.hpp"

namespace streamlab {

using namespace node_support;

namespace {

// Every sample the same value: silence by default, or a DC level. Costs a
// fill per frame and nothing else, which makes it the source for measuring
// what the framework itself costs (GStreamer's audiotestsrc wave=silence).
class ConstantNode final : public Node {
 public:
  ConstantNode(const json& config, const NodeContext& ctx)
      : pool_(ctx.pool ? ctx.pool : &BufferPool::process_pool()),
        value_(static_cast<float>(config.at("value").get<double>())),
        sample_rate_(small_uint_field(config.at("sample_rate"))),
        frame_size_(small_uint_field(config.at("frame_size"))),
        channels_(small_uint_field(config.at("channels"))),
        num_frames_(config.at("num_frames").get<std::uint64_t>()) {}

  Status generate(FrameList& out, bool& end_of_stream) override {
    end_of_stream = num_frames_ != 0 && seq_ >= num_frames_;
    if (end_of_stream) return Status::ok();
    const std::size_t count = std::size_t{channels_} * frame_size_;
    WritableBuffer buffer = pool_->acquire(count);
    std::fill(buffer.data(), buffer.data() + count, value_);
    Frame frame;
    frame.seq = seq_++;
    frame.timestamp_ns = wall_clock_ns();
    frame.sample_rate = sample_rate_;
    frame.channels = channels_;
    frame.frames = frame_size_;
    frame.samples = std::move(buffer).freeze();
    out.push_back(std::move(frame));
    end_of_stream = num_frames_ != 0 && seq_ >= num_frames_;
    return Status::ok();
  }

 private:
  BufferPool* pool_;
  float value_;
  std::uint32_t sample_rate_;
  std::uint32_t frame_size_;
  std::uint32_t channels_;
  std::uint64_t num_frames_;
  std::uint64_t seq_ = 0;
};

}  // namespace

NodeType constant_node_type() {
  NodeTypeSchema schema;
  schema.type = "constant";
  schema.summary = "a constant signal, silence by default (source)";
  schema.min_inputs = 0;
  schema.max_inputs = 0;
  schema.fields = {
      number_field("value", "the value of every sample (0 = silence)", 0.0, -1.0, 1.0),
      integer_field("sample_rate", "samples per second", 48000, 1000.0, 384000.0),
      integer_field("frame_size", "samples per channel in each frame", 1024, 1.0, 65536.0),
      integer_field("channels", "number of channels", 1, 1.0, 64.0),
      integer_field("num_frames", "frames to emit before ending the stream (0 = endless)", 0, 0.0,
                    1e15),
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<ConstantNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
