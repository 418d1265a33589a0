#include "nodes/registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "nodes/builtin_types.hpp"

namespace streamlab {

const NodeRegistry& NodeRegistry::builtin() {
  static const NodeRegistry registry = [] {
    NodeRegistry r;
    r.add(sine_node_type());
    r.add(constant_node_type());
    r.add(gain_node_type());
    r.add(mix_node_type());
    r.add(wav_source_node_type());
    r.add(wav_sink_node_type());
    r.add(null_sink_node_type());
    r.add(print_node_type());
    r.add(fault_node_type());
    r.add(dead_letter_source_node_type());
    r.add(audio_capture_node_type());
    r.add(audio_playback_node_type());
    return r;
  }();
  return registry;
}

void NodeRegistry::add(NodeType type) {
  // Pipeline files refer to types by name only, so two entries with one name
  // would make one of them unreachable: a programming error, caught at startup.
  if (type.schema.type.empty()) throw std::invalid_argument("node type without a name");
  if (!type.make)
    throw std::invalid_argument("node type \"" + type.schema.type + "\" has no factory");
  if (find(type.schema.type))
    throw std::invalid_argument("node type \"" + type.schema.type + "\" is registered twice");
  types_.push_back(std::move(type));
}

const NodeType* NodeRegistry::find(const std::string& name) const {
  for (const auto& type : types_)
    if (type.schema.type == name) return &type;
  return nullptr;
}

std::vector<const NodeTypeSchema*> NodeRegistry::schemas() const {
  std::vector<const NodeTypeSchema*> out;
  out.reserve(types_.size());
  for (const auto& type : types_) out.push_back(&type.schema);
  std::sort(out.begin(), out.end(),
            [](const NodeTypeSchema* a, const NodeTypeSchema* b) { return a->type < b->type; });
  return out;
}

}  // namespace streamlab
