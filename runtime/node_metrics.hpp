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
  member_down,  // held by a cluster member that was lost
  too_large,    // over the frame limits, so it cannot cross to another member
  undecodable,  // arrived from another member but could not be decoded
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
  LatencyHistogram latency;     // time spent in the node's process step
  LatencyHistogram end_to_end;  // from a frame's source timestamp to its arrival here
                                // (at a live source: to its departure)
  // Where the actor's time goes (as Flink reports it): in the node, or
  // holding output that no consumer has room for; the rest is idle.
  std::int64_t started_ns = 0;  // steady clock
  std::int64_t busy_ns = 0;
  std::int64_t backpressured_ns = 0;

  void drop(DropReason reason, std::uint64_t n = 1) {
    dropped[static_cast<std::size_t>(reason)] += n;
  }
  std::uint64_t dropped_total() const;
};

// A figure particular to a node type (an audio device's callback period,
// xruns, clock drift, ...), read from the node when a snapshot is taken.
// Each node type reports a fixed set of names, so they stay a bounded label
// set in /metrics.
struct NamedFigure {
  std::string name;
  double value = 0;
};

// A latency histogram as /metrics exposes it: values per export bucket
// (LatencyHistogram::kExportBoundsNs; the last one above every bound), not
// cumulative, and their sum. Totals since the node started (restarts and
// handovers included), so the Prometheus series only ever grow.
struct LatencyBuckets {
  std::array<std::uint64_t, LatencyHistogram::kExportBuckets> counts{};
  double sum_seconds = 0;

  std::uint64_t count() const;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, LatencyBuckets& x) {
    return f(x.counts, x.sum_seconds);
  }
};
LatencyBuckets export_buckets(const LatencyHistogram& histogram);

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
  double end_to_end_p50_us = 0, end_to_end_p99_us = 0, end_to_end_max_us = 0;
  LatencyBuckets processing_buckets;  // the same steps as latency_*_us
  LatencyBuckets end_to_end_buckets;  // the same arrivals as end_to_end_*_us
  // Milliseconds per second of the node's life, each in [0, 1000].
  double busy_ms_per_s = 0, backpressured_ms_per_s = 0, idle_ms_per_s = 0;
  std::uint64_t queue_capacity = 0;       // frames the input edges may hold
  std::uint64_t queue_max_occupancy = 0;  // most frames ever held at once
  std::string last_error;
  std::string process;  // where the node runs (a cluster member's name; "local" otherwise)
  std::vector<NamedFigure> figures;  // the node type's own figures (Node::figures)
};

// One edge as counted by its producer.
struct EdgeSnapshot {
  std::string from;
  std::string to;
  std::uint32_t port = 0;  // input port at `to`
  std::uint32_t capacity = 0;
  std::uint64_t frames = 0;         // frames sent on this edge
  std::uint64_t max_occupancy = 0;  // most frames sent but not yet credited back
  // Last so that positional initializers written before it still compile;
  // node ids are unique only within a pipeline, so edges need it to be told apart.
  std::string pipeline{};
  std::uint64_t occupancy = 0;       // frames sent but not yet credited back, now (live snapshots)
  std::uint64_t buffered_bytes = 0;  // sample bytes of the frames in `occupancy` (estimate)
  bool backpressured =
      false;  // its producer mostly waits for room (PipelineConfig::backpressure_*)
  std::uint64_t backpressure_episodes = 0;  // times it became backpressured
};

// Identity fields left empty; `now_ns` (steady clock) ends the time shares.
NodeSnapshot make_snapshot(const NodeMetrics& metrics, std::int64_t now_ns = 0);

// Queue figures belong to the consumer's row: its fullest input edge, as
// counted by the producers.
void fill_queue_figures(std::vector<NodeSnapshot>& nodes, const std::vector<EdgeSnapshot>& edges);

// {"nodes":[{"pipeline","node","type","state","frames_in","frames_out","errors",
//  "restarts","skipped","dropped":{reason:count},"dead_lettered","latency_us":{...},
//  "queue":{"capacity","max_occupancy"}}],
//  "edges":[{"from","to","port","capacity","frames","max_occupancy"}]}
nlohmann::json snapshot_to_json(const std::vector<NodeSnapshot>& rows,
                                const std::vector<EdgeSnapshot>& edges = {});

}  // namespace streamlab
