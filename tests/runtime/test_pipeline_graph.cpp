#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/pipeline_graph.hpp"

using namespace streamlab;

namespace {

PipelineSpec graph_spec(std::size_t nodes, const std::vector<std::pair<int, int>>& edges) {
  PipelineSpec spec;
  for (std::size_t i = 0; i < nodes; ++i)
    spec.nodes.push_back(NodeSpec{"n" + std::to_string(i), "t", {}, {}, {}, ""});
  for (auto [from, to] : edges)
    spec.connections.push_back(
        ConnectionSpec{"n" + std::to_string(from), "n" + std::to_string(to), 8});
  return spec;
}

std::size_t position(const std::vector<std::size_t>& order, std::size_t node) {
  return static_cast<std::size_t>(std::find(order.begin(), order.end(), node) - order.begin());
}

}  // namespace

TEST_CASE("pipeline graph: lookups and ports follow the connection list", "[runtime][graph]") {
  // n0 -> n2, n1 -> n2 (ports 0 and 1), n2 -> n3
  const PipelineSpec spec = graph_spec(4, {{0, 2}, {1, 2}, {2, 3}});
  const PipelineGraph g(spec);
  CHECK(g.index_of("n3") == 3);
  CHECK(g.index_of("nope") == -1);
  CHECK(g.inputs(2) == std::vector<std::size_t>{0, 1});
  CHECK(g.outputs(2) == std::vector<std::size_t>{2});
  CHECK(g.port(0) == 0);
  CHECK(g.port(1) == 1);
  CHECK(g.from(1) == 1);
  CHECK(g.to(2) == 3);
  CHECK(g.is_source(0));
  CHECK_FALSE(g.is_source(2));
}

TEST_CASE("pipeline graph: orders put consumers or producers first", "[runtime][graph]") {
  const PipelineSpec spec = graph_spec(5, {{0, 2}, {1, 2}, {2, 3}, {2, 4}});
  const PipelineGraph g(spec);
  auto sinks_first = g.sinks_first_order();
  auto sources_first = g.sources_first_order();
  REQUIRE(sinks_first.size() == 5);
  REQUIRE(sources_first.size() == 5);
  for (std::size_t c = 0; c < spec.connections.size(); ++c) {
    CHECK(position(sinks_first, g.to(c)) < position(sinks_first, g.from(c)));
    CHECK(position(sources_first, g.from(c)) < position(sources_first, g.to(c)));
  }
}

// Without recursion or a quadratic search: a 100,000-node chain and fan-out
// (the recursive spawn order overflowed the stack at 10,000).
TEST_CASE("pipeline graph: a long chain and a wide fan-out are ordered", "[runtime][graph]") {
  const std::size_t n = 100000;
  std::vector<std::pair<int, int>> chain, fan;
  for (std::size_t i = 1; i < n; ++i) {
    chain.emplace_back(static_cast<int>(i - 1), static_cast<int>(i));
    fan.emplace_back(0, static_cast<int>(i));
  }
  const PipelineGraph long_chain(graph_spec(n, chain));
  auto order = long_chain.sinks_first_order();
  REQUIRE(order.size() == n);
  CHECK(order.front() == n - 1);
  CHECK(order.back() == 0);
  const PipelineGraph wide(graph_spec(n, fan));
  CHECK(wide.sources_first_order().front() == 0);
  CHECK(wide.sinks_first_order().back() == 0);
}
