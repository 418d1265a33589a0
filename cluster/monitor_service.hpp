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

namespace streamlab {

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
