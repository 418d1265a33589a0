#include "runtime/node_metrics.hpp"

namespace streamlab {

const char* to_string(DropReason reason) {
  switch (reason) {
    case DropReason::node_failed:
      return "node_failed";
    case DropReason::overflow:
      return "overflow";
    case DropReason::shutdown:
      return "shutdown";
    case DropReason::count_:
      break;
  }
  return "unknown";
}

std::uint64_t NodeMetrics::dropped_total() const {
  std::uint64_t total = 0;
  for (auto n : dropped) total += n;
  return total;
}

NodeSnapshot make_snapshot(const NodeMetrics& m) {
  NodeSnapshot s;
  s.frames_in = m.frames_in;
  s.frames_out = m.frames_out;
  s.errors = m.errors;
  s.restarts = m.restarts;
  s.skipped = m.skipped;
  s.dropped = m.dropped;
  s.dead_lettered = m.dead_lettered;
  s.latency_p50_us = m.latency.percentile_ns(50) / 1e3;
  s.latency_p95_us = m.latency.percentile_ns(95) / 1e3;
  s.latency_p99_us = m.latency.percentile_ns(99) / 1e3;
  s.latency_max_us = m.latency.max_ns() / 1e3;
  return s;
}

nlohmann::json snapshot_to_json(const std::vector<NodeSnapshot>& rows,
                                const std::vector<EdgeSnapshot>& edges) {
  auto nodes = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json dropped = nlohmann::json::object();
    for (std::size_t i = 0; i < kDropReasonCount; ++i)
      if (r.dropped[i]) dropped[to_string(static_cast<DropReason>(i))] = r.dropped[i];
    nlohmann::json row = {
        {"pipeline", r.pipeline},
        {"node", r.node},
        {"type", r.type},
        {"state", r.state},
        {"frames_in", r.frames_in},
        {"frames_out", r.frames_out},
        {"errors", r.errors},
        {"restarts", r.restarts},
        {"skipped", r.skipped},
        {"dropped", dropped},
        {"dead_lettered", r.dead_lettered},
        {"latency_us",
         {{"p50", r.latency_p50_us},
          {"p95", r.latency_p95_us},
          {"p99", r.latency_p99_us},
          {"max", r.latency_max_us}}},
        {"queue", {{"capacity", r.queue_capacity}, {"max_occupancy", r.queue_max_occupancy}}},
    };
    if (!r.last_error.empty()) row["last_error"] = r.last_error;
    nodes.push_back(std::move(row));
  }
  auto edge_rows = nlohmann::json::array();
  for (const auto& e : edges) {
    edge_rows.push_back({{"from", e.from},
                         {"to", e.to},
                         {"port", e.port},
                         {"capacity", e.capacity},
                         {"frames", e.frames},
                         {"max_occupancy", e.max_occupancy}});
  }
  return nlohmann::json{{"nodes", nodes}, {"edges", edge_rows}};
}

}  // namespace streamlab
