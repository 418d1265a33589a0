#include "nodes/builtin_types.hpp"

namespace streamlab {

namespace {

class NullSinkNode final : public Node {
 public:
  Status process(const Inputs& in, FrameList&) override {
    // Counted so a debugger or a future metric can tell it is being fed;
    // the frame itself is dropped by the caller when this returns.
    if (in.count > 0 && in[0]) ++frames_;
    return Status::ok();
  }

 private:
  std::uint64_t frames_ = 0;
};

}  // namespace

NodeType null_sink_node_type() {
  NodeTypeSchema schema;
  schema.type = "null_sink";
  schema.summary = "discards its input (sink)";
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.has_output = false;
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json&, const NodeContext&) -> std::unique_ptr<Node> {
    return std::make_unique<NullSinkNode>();
  };
  return type;
}

}  // namespace streamlab
