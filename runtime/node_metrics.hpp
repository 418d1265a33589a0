#pragma once
// Counters one node keeps while it runs, and the row it contributes to a
// metrics snapshot. Owned by a single actor: plain integers, no atomics.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/latency_histogram.hpp"

namespace streamlab {

// Why a frame did not reach its consumer. A fixed set, so a drop costs one
// increment and metrics labels stay bounded.
enum class DropReason : std::uint8_t {
  node_failed,  // sent to a node that failed for good (past its restart limits)
  overflow,     // a live source found its output full
  shutdown,     // still queued when a forced stop ended the run
  count_
};
constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::count_);
const char* to_string(DropReason reason);

struct NodeMetrics {
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t errors = 0;
  std::uint64_t restarts = 0;
  std::uint64_t skipped = 0;  // failed frames discarded by the `skip` error policy
  std::uint64_t dead_lettered = 0;
  std::array<std::uint64_t, kDropReasonCount> dropped{};
  LatencyHistogram latency;  // time spent in the node's process step

  void drop(DropReason reason, std::uint64_t n = 1) {
    dropped[static_cast<std::size_t>(reason)] += n;
  }
  std::uint64_t dropped_total() const;
};

// One row of a snapshot: what `--metrics-json` writes and the table shows.
struct NodeSnapshot {
  std::string pipeline;
  std::string node;
  std::string type;
  // finished, running, restarting, backing_off, open, half_open, failed
  std::string state;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t errors = 0;
  std::uint64_t restarts = 0;
  std::uint64_t skipped = 0;
  std::array<std::uint64_t, kDropReasonCount> dropped{};
  std::uint64_t dead_lettered = 0;
  double latency_p50_us = 0, latency_p95_us = 0, latency_p99_us = 0, latency_max_us = 0;
  std::uint64_t queue_capacity = 0;       // frames the input edges may hold
  std::uint64_t queue_max_occupancy = 0;  // most frames ever held at once
  std::string last_error;
};

// One edge as counted by its producer.
struct EdgeSnapshot {
  std::string from;
  std::string to;
  std::uint32_t port = 0;  // input port at `to`
  std::uint32_t capacity = 0;
  std::uint64_t frames = 0;         // frames sent on this edge
  std::uint64_t max_occupancy = 0;  // most frames sent but not yet credited back
};

NodeSnapshot make_snapshot(const NodeMetrics& metrics);  // identity fields left empty

// {"nodes":[{"pipeline","node","type","state","frames_in","frames_out","errors",
//  "restarts","skipped","dropped":{reason:count},"dead_lettered","latency_us":{...},
//  "queue":{"capacity","max_occupancy"}}],
//  "edges":[{"from","to","port","capacity","frames","max_occupancy"}]}
nlohmann::json snapshot_to_json(const std::vector<NodeSnapshot>& rows,
                                const std::vector<EdgeSnapshot>& edges = {});

}  // namespace streamlab
