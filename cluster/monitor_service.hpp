#pragma once
// The monitor of one process, reachable from another: `streamlab run
// --monitor` publishes it, `streamlab monitor --connect` asks it (or a
// cluster member, which answers for the whole cluster) for a snapshot.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cluster/networking.hpp"
#include "cluster/remote_client.hpp"
#include "runtime/metrics_snapshot.hpp"

namespace caf {
class actor;
class actor_system;
}  // namespace caf

namespace streamlab {

// How long a pipeline that ended keeps its final series in the snapshots of
// the member that coordinated it: in `/metrics` (so that a pipeline which
// starts and ends between two scrapes is still seen once, with its final
// counts) and in `monitor`. Ten minutes covers many scrape intervals (15 s to
// 1 min is usual) and a look with `monitor` after the fact, and bounds how
// long a member serves series of pipelines that are over.
inline constexpr std::chrono::minutes kEndedPipelineRetention{10};

// Whether a pipeline that ended at `ended_at` is still shown at `now`.
inline bool ended_pipeline_shown(std::chrono::steady_clock::time_point ended_at,
                                 std::chrono::steady_clock::time_point now) {
  return now - ended_at < kEndedPipelineRetention;
}

// The snapshot `member` (a cluster member actor) answers for itself: its
// monitor's figures plus the final series of the pipelines it coordinated
// that ended within kEndedPipelineRetention. What a member's /metrics
// serves. nullopt when it did not answer within `timeout`.
std::optional<MetricsSnapshot> query_member_snapshot(caf::actor_system& system,
                                                     const caf::actor& member,
                                                     std::chrono::milliseconds timeout);

// A connection to the monitor (or member) published at host:port, kept
// across queries (`monitor --watch`) and made again after a failed one.
class MonitorClient {
 public:
  MonitorClient(std::string host, std::uint16_t port, const TlsFiles& tls = {});

  // Connects if needed, then asks for a snapshot; everything within
  // `timeout`. On failure, nullopt and `error` says
  // "cannot reach a StreamLab monitor at HOST:PORT: <reason>".
  std::optional<MetricsSnapshot> query(std::chrono::milliseconds timeout, std::string& error);

 private:
  RemoteClient client_;
};

// One query through a MonitorClient made for it.
std::optional<MetricsSnapshot> query_remote_monitor(const std::string& host, std::uint16_t port,
                                                    std::chrono::milliseconds timeout,
                                                    std::string& error);

}  // namespace streamlab
