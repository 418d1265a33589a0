#include "runtime/node_metrics.hpp"

#include <algorithm>

namespace streamlab {

const char* to_string(DropReason reason) {
  switch (reason) {
    case DropReason::node_failed:
      return "node_failed";
    case DropReason::member_down:
      return "member_down";
    case DropReason::overflow:
      return "overflow";
    case DropReason::shutdown:
      return "shutdown";
    case DropReason::too_large:
      return "too_large";
    case DropReason::undecodable:
      return "undecodable";
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

std::uint64_t LatencyBuckets::count() const {
  std::uint64_t total = 0;
  for (auto n : counts) total += n;
  return total;
}

LatencyBuckets export_buckets(const LatencyHistogram& histogram) {
  LatencyBuckets out;
  for (std::size_t i = 0; i < out.counts.size(); ++i) out.counts[i] = histogram.export_count(i);
  out.sum_seconds = static_cast<double>(histogram.sum_ns()) / 1e9;
  return out;
}

NodeSnapshot make_snapshot(const NodeMetrics& m, std::int64_t now_ns) {
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
  s.end_to_end_p50_us = m.end_to_end.percentile_ns(50) / 1e3;
  s.end_to_end_p99_us = m.end_to_end.percentile_ns(99) / 1e3;
  s.end_to_end_max_us = m.end_to_end.max_ns() / 1e3;
  s.processing_buckets = export_buckets(m.latency);
  s.end_to_end_buckets = export_buckets(m.end_to_end);
  const double life_ns = static_cast<double>(now_ns - m.started_ns);
  if (m.started_ns > 0 && life_ns > 0) {
    s.busy_ms_per_s = std::min(1000.0, 1000.0 * m.busy_ns / life_ns);
    s.backpressured_ms_per_s =
        std::min(1000.0 - s.busy_ms_per_s, 1000.0 * m.backpressured_ns / life_ns);
    s.idle_ms_per_s = 1000.0 - s.busy_ms_per_s - s.backpressured_ms_per_s;
  }
  return s;
}

void fill_queue_figures(std::vector<NodeSnapshot>& nodes, const std::vector<EdgeSnapshot>& edges) {
  for (const auto& edge : edges) {
    for (auto& row : nodes) {
      if (row.node != edge.to || row.pipeline != edge.pipeline) continue;
      row.queue_capacity = std::max<std::uint64_t>(row.queue_capacity, edge.capacity);
      row.queue_max_occupancy = std::max(row.queue_max_occupancy, edge.max_occupancy);
    }
  }
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
        {"end_to_end_latency_us",
         {{"p50", r.end_to_end_p50_us},
          {"p99", r.end_to_end_p99_us},
          {"max", r.end_to_end_max_us}}},
        {"time_ms_per_s",
         {{"busy", r.busy_ms_per_s},
          {"backpressured", r.backpressured_ms_per_s},
          {"idle", r.idle_ms_per_s}}},
    };
    if (!r.last_error.empty()) row["last_error"] = r.last_error;
    if (!r.process.empty()) row["process"] = r.process;
    if (!r.figures.empty()) {
      nlohmann::json figures = nlohmann::json::object();
      for (const auto& f : r.figures) figures[f.name] = f.value;
      row["figures"] = std::move(figures);
    }
    nodes.push_back(std::move(row));
  }
  auto edge_rows = nlohmann::json::array();
  for (const auto& e : edges) {
    edge_rows.push_back({{"from", e.from},
                         {"to", e.to},
                         {"port", e.port},
                         {"capacity", e.capacity},
                         {"frames", e.frames},
                         {"occupancy", e.occupancy},
                         {"buffered_bytes", e.buffered_bytes},
                         {"max_occupancy", e.max_occupancy},
                         {"backpressured", e.backpressured},
                         {"backpressure_episodes", e.backpressure_episodes}});
  }
  return nlohmann::json{{"nodes", nodes}, {"edges", edge_rows}};
}

}  // namespace streamlab
