#pragma once
// The monitor of one process, reachable from another: `streamlab run
// --monitor` publishes it over CAF's middleman, `streamlab monitor
// --connect` asks it for a snapshot. Only this layer knows that the two are
// different processes; both sides speak the monitor's own protocol
// (actors/monitor.hpp).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/metrics_snapshot.hpp"

namespace caf {
class actor;
class actor_system;
class actor_system_config;
}  // namespace caf

namespace streamlab {

// Loads the middleman and turns heartbeats on. CAF 0.17 ships them off, so
// a stopped peer is never noticed; and a process without them is taken for
// dead by one that has a connection timeout: every process that talks to
// another calls this (notes/caf-0.17.md).
void enable_networking(caf::actor_system_config& cfg);

// Where a monitor is published, for as long as this object lives.
class PublishedMonitor {
 public:
  PublishedMonitor(std::string host, std::uint16_t port, std::function<void()> unpublish);
  ~PublishedMonitor();
  PublishedMonitor(const PublishedMonitor&) = delete;
  PublishedMonitor& operator=(const PublishedMonitor&) = delete;

  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }  // the bound one (also when 0 was asked for)

 private:
  std::string host_;
  std::uint16_t port_;
  std::function<void()> unpublish_;
};

// Publishes `monitor` on host:port only (port 0: any free port); the system
// must have been configured with enable_networking(). Throws
// std::runtime_error naming HOST:PORT and the reason when it cannot bind.
// The handle must go before the actor system does.
std::shared_ptr<PublishedMonitor> publish_monitor(caf::actor_system& system,
                                                  const caf::actor& monitor,
                                                  const std::string& host, std::uint16_t port);

// A connection to the monitor published at host:port, from a small actor
// system of its own, kept across queries (`monitor --watch`) and made again
// after a failed one.
class MonitorClient {
 public:
  MonitorClient(std::string host, std::uint16_t port);
  ~MonitorClient();
  MonitorClient(const MonitorClient&) = delete;
  MonitorClient& operator=(const MonitorClient&) = delete;

  // Connects if needed, then asks for a snapshot; everything within
  // `timeout`. On failure, nullopt and `error` says
  // "cannot reach a StreamLab monitor at HOST:PORT: <reason>".
  std::optional<MetricsSnapshot> query(std::chrono::milliseconds timeout, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One query through a MonitorClient made for it.
std::optional<MetricsSnapshot> query_remote_monitor(const std::string& host, std::uint16_t port,
                                                    std::chrono::milliseconds timeout,
                                                    std::string& error);

}  // namespace streamlab
