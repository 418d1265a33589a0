#include <catch2/catch.hpp>

#include "runtime/node_metrics.hpp"

using namespace streamlab;

TEST_CASE("a node's own figures appear in its --metrics-json row, by name", "[runtime][figures]") {
  NodeSnapshot with;
  with.node = "mic";
  with.figures = {{"xruns", 2}, {"clock_drift_ppm", 1.5}};
  NodeSnapshot without;
  without.node = "gain";
  const auto json = snapshot_to_json({with, without});
  const auto& rows = json.at("nodes");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].at("figures").at("xruns") == 2.0);
  CHECK(rows[0].at("figures").at("clock_drift_ppm") == 1.5);
  CHECK_FALSE(rows[1].contains("figures"));  // rows of other node types are unchanged
}
