#pragma once
// Everything one process can tell about itself at one moment: what the
// monitor answers a query with, what /metrics and the health endpoints
// are made from, and (per node) what --metrics-json writes.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/buffer_pool.hpp"
#include "runtime/node_metrics.hpp"

namespace streamlab {

struct PipelineStatus {
  std::string name;
  std::string state;   // running, finished, degraded, failed
  std::string reason;  // why degraded or failed (the failed nodes' last errors)
  // Ended and kept only for its final figures: history, which says nothing
  // about whether the process is ready for work now.
  bool ended = false;
};

struct ProcessFigures {
  std::uint64_t rss_bytes = 0;
  double cpu_seconds = 0;  // user + system since start
  std::uint32_t threads = 0;
};

// A cluster member as the member that answered a query sees it.
struct MemberStatus {
  std::string name;
  std::string address;  // HOST:PORT it listens on
  std::string state;    // up, down
  std::string reason;   // why down (or why its figures are missing)
  ProcessFigures figures;
  PoolStats pool;
};

struct MetricsSnapshot {
  std::string process;       // name of this process (a cluster member's name; "local" otherwise)
  std::int64_t time_ns = 0;  // wall clock when taken
  std::vector<PipelineStatus> pipelines;
  std::vector<NodeSnapshot> nodes;
  std::vector<EdgeSnapshot> edges;
  PoolStats pool;
  ProcessFigures figures;
  std::vector<MemberStatus> members;  // cluster-wide answers only: every member, up or down
};

}  // namespace streamlab
