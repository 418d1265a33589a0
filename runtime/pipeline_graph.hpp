#pragma once
// A validated pipeline's graph with its lookups precomputed: node index by
// id, each node's input and output connections, each connection's input
// port. Every walk here is iterative and linear in the graph's size, so a
// 10,000-node pipeline costs no deep stack and no quadratic search.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/pipeline_spec.hpp"

namespace streamlab {

class PipelineGraph {
 public:
  // Connections naming an unknown node are left out (validation refuses them).
  explicit PipelineGraph(const PipelineSpec& spec);

  std::size_t size() const { return inputs_.size(); }
  // Index into spec.nodes, or -1.
  int index_of(const std::string& id) const;
  // Indices into spec.connections, in file order (the input order is the port order).
  const std::vector<std::size_t>& inputs(std::size_t node) const { return inputs_[node]; }
  const std::vector<std::size_t>& outputs(std::size_t node) const { return outputs_[node]; }
  std::size_t from(std::size_t connection) const { return ends_[connection].from; }
  std::size_t to(std::size_t connection) const { return ends_[connection].to; }
  // The input port of its consumer the connection feeds.
  std::uint32_t port(std::size_t connection) const { return ends_[connection].port; }
  bool is_source(std::size_t node) const { return inputs_[node].empty(); }

  // Consumers before producers (every producer is spawned knowing its
  // consumers), and producers before consumers. Nodes on a cycle are left out.
  std::vector<std::size_t> sinks_first_order() const;
  std::vector<std::size_t> sources_first_order() const;

 private:
  struct Ends {
    std::size_t from = 0, to = 0;
    std::uint32_t port = 0;
  };
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::vector<std::size_t>> inputs_, outputs_;
  std::vector<Ends> ends_;  // parallel to spec.connections
};

}  // namespace streamlab
