#include "runtime/pipeline_graph.hpp"

namespace streamlab {

PipelineGraph::PipelineGraph(const PipelineSpec& spec)
    : inputs_(spec.nodes.size()), outputs_(spec.nodes.size()), ends_(spec.connections.size()) {
  index_.reserve(spec.nodes.size());
  for (std::size_t i = 0; i < spec.nodes.size(); ++i) index_.emplace(spec.nodes[i].id, i);
  for (std::size_t c = 0; c < spec.connections.size(); ++c) {
    const int from = index_of(spec.connections[c].from);
    const int to = index_of(spec.connections[c].to);
    if (from < 0 || to < 0) continue;
    Ends& e = ends_[c];
    e.from = static_cast<std::size_t>(from);
    e.to = static_cast<std::size_t>(to);
    e.port = static_cast<std::uint32_t>(inputs_[e.to].size());
    inputs_[e.to].push_back(c);
    outputs_[e.from].push_back(c);
  }
}

int PipelineGraph::index_of(const std::string& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? -1 : static_cast<int>(it->second);
}

std::vector<std::size_t> PipelineGraph::sinks_first_order() const {
  std::vector<std::size_t> pending(size());
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < size(); ++i) {
    pending[i] = outputs_[i].size();
    if (pending[i] == 0) ready.push_back(i);
  }
  std::vector<std::size_t> order;
  order.reserve(size());
  while (!ready.empty()) {
    const std::size_t i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (std::size_t c : inputs_[i])
      if (--pending[ends_[c].from] == 0) ready.push_back(ends_[c].from);
  }
  return order;
}

std::vector<std::size_t> PipelineGraph::sources_first_order() const {
  std::vector<std::size_t> missing(size());
  std::vector<std::size_t> order;
  order.reserve(size());
  for (std::size_t i = 0; i < size(); ++i) {
    missing[i] = inputs_[i].size();
    if (missing[i] == 0) order.push_back(i);
  }
  // `order` doubles as the queue: everything before k has been expanded.
  for (std::size_t k = 0; k < order.size(); ++k)
    for (std::size_t c : outputs_[order[k]])
      if (--missing[ends_[c].to] == 0) order.push_back(ends_[c].to);
  return order;
}

}  // namespace streamlab
