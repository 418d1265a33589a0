#include <memory>
#include <stdexcept>

#include "nodes/builtin_types.hpp"
#include "nodes/node_support.hpp"
#include "runtime/dead_letter_file.hpp"

namespace streamlab {

namespace {

using namespace node_support;

constexpr int kMaxSkippedPerStep = 256;

class DeadLetterSourceNode final : public Node {
 public:
  // Opened here, as wav_source does: a file that cannot be opened means the
  // source could never produce anything, so the pipeline does not start.
  DeadLetterSourceNode(const json& config, const NodeContext& ctx)
      : reader_(config.at("path").get<std::string>(),
                ctx.pool ? *ctx.pool : BufferPool::process_pool()),
        node_(config.at("node").get<std::string>()) {}

  // The frames go out as they were stored (seq, timestamps and metadata
  // untouched): downstream nodes align inputs by seq, and a replayed frame
  // should be indistinguishable from the original.
  Status generate(FrameList& out, bool& end_of_stream) override {
    end_of_stream = false;
    DeadLetter letter;
    for (int skipped = 0; reader_.next(letter);) {
      if (node_.empty() || letter.node == node_) {
        out.push_back(std::move(letter.frame));
        return Status::ok();
      }
      // A step that returns nothing is fine; one that scans a whole large
      // file of other nodes' letters would keep the actor from a stop.
      if (++skipped == kMaxSkippedPerStep) return Status::ok();
    }
    end_of_stream = true;
    // Everything before the bad record has been emitted; failing now (not
    // ending quietly) tells the user the replay is incomplete, and where.
    if (!reader_.error().empty()) return Status::error("dead_letter_source: " + reader_.error());
    return Status::ok();
  }

 private:
  DeadLetterReader reader_;
  std::string node_;
};

}  // namespace

NodeType dead_letter_source_node_type() {
  NodeTypeSchema schema;
  schema.type = "dead_letter_source";
  schema.summary = "replays the frames stored in a dead-letter file, in file order (source)";
  schema.min_inputs = 0;
  schema.max_inputs = 0;
  FieldSpec node;
  node.name = "node";
  node.type = FieldType::string;
  node.help = "only the dead letters of this node id (empty: all of them)";
  node.default_value = "";
  schema.fields = {
      path_field("path", "dead-letter file to read", PathCheck::readable_file),
      std::move(node),
  };
  // Readability is a field check; whether the file holds dead letters is
  // only known by reading one, and saying so at validation beats failing
  // after the rest of the pipeline has started.
  schema.cross_check = [](const json& config, const auto& report) {
    const std::string path = config.at("path").get<std::string>();
    try {
      DeadLetterReader reader(path, BufferPool::process_pool());
      DeadLetter first;
      if (!reader.next(first) && !reader.error().empty()) report("path", reader.error());
    } catch (const std::exception& e) {
      report("path", e.what());
    }
  };
  NodeType type;
  type.schema = std::move(schema);
  type.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
    return std::make_unique<DeadLetterSourceNode>(config, ctx);
  };
  return type;
}

}  // namespace streamlab
