#include "runtime/pipeline_surgery.hpp"

#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

namespace streamlab {

namespace {

std::string unused_id(const PipelineSpec& spec, const std::string& wanted) {
  std::string id = wanted;
  for (int n = 2; spec.index_of(id) >= 0; ++n) id = wanted + "_" + std::to_string(n);
  return id;
}

// `start` and everything reachable from it.
std::set<std::string> downstream_of(const PipelineSpec& spec, const std::string& start) {
  std::set<std::string> seen{start};
  std::vector<std::string> pending{start};
  while (!pending.empty()) {
    const std::string id = std::move(pending.back());
    pending.pop_back();
    for (const ConnectionSpec* c : spec.outputs_of(id))
      if (seen.insert(c->to).second) pending.push_back(c->to);
  }
  return seen;
}

}  // namespace

std::string node_id_list(const PipelineSpec& spec) {
  std::string out;
  for (const auto& node : spec.nodes) out += (out.empty() ? "" : ", ") + node.id;
  return out;
}

PipelineSpec replay_pipeline(const PipelineSpec& spec, const std::string& node_id,
                             const std::string& dead_letter_path,
                             const std::optional<std::string>& letters_of) {
  if (spec.index_of(node_id) < 0) {
    throw std::invalid_argument("pipeline \"" + spec.name + "\" has no node \"" + node_id +
                                "\" (its nodes: " + node_id_list(spec) + ")");
  }
  if (spec.inputs_of(node_id).empty()) {
    throw std::invalid_argument("node \"" + node_id +
                                "\" has no inputs (a source): dead letters can only be replayed "
                                "into a node that takes input");
  }

  PipelineSpec replay;
  replay.name = spec.name;
  replay.file = spec.file;
  replay.config = spec.config;

  NodeSpec source;
  source.id = unused_id(spec, kReplaySourceId);
  source.type = "dead_letter_source";
  source.config = {{"path", dead_letter_path}, {"node", letters_of.value_or(node_id)}};
  // Not the pipeline's supervision: a restarted source is a fresh instance
  // that would read the file again from its start and replay every frame a
  // second time, and the one error it reports, a damaged file, is not one a
  // restart can mend. So it ends there, as failed, after the frames it read.
  source.supervision_config = spec.config.supervision;
  source.supervision_config.restart.strategy = RestartKind::never;
  source.supervision_config.on_error = ErrorPolicy::skip;
  replay.nodes.push_back(std::move(source));

  const std::set<std::string> kept = downstream_of(spec, node_id);
  for (const auto& node : spec.nodes)
    if (kept.count(node.id)) replay.nodes.push_back(node);

  // First, so that it is input port 0 of `node_id`.
  replay.connections.push_back(
      ConnectionSpec{replay.nodes.front().id, node_id, spec.config.channel_capacity});
  for (const auto& c : spec.connections)
    if (kept.count(c.from) && kept.count(c.to)) replay.connections.push_back(c);
  return replay;
}

}  // namespace streamlab
