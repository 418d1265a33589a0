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
        format_(config) {}

  std::optional<LivePacing> live() const override { return format_.live(); }
  std::optional<std::int64_t> next_due_ns() const override { return format_.due_ns(seq_); }

  Status generate(FrameList& out, bool& end_of_stream) override {
    end_of_stream = format_.ended(seq_);
    if (end_of_stream) return Status::ok();
    if (!format_.ready(seq_)) return Status::ok();  // real-time: not due yet
    WritableBuffer buffer = pool_->acquire(format_.samples());
    std::fill(buffer.data(), buffer.data() + format_.samples(), value_);
    out.push_back(format_.frame(seq_++, std::move(buffer).freeze()));
    end_of_stream = format_.ended(seq_);
    return Status::ok();
  }

 private:
  BufferPool* pool_;
  float value_;
  GeneratorFormat format_;
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
      number_field("value", "the value of every sample (0 = silence)", 0.0, -1.0, 1.0)};
  add_generator_fields(schema.fields);
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<ConstantNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
