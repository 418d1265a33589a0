#pragma once
// The HTTP face of one process, made from a live metrics snapshot on every
// request:
//   /metrics                     Prometheus text format
//   /livez, /readyz [?verbose]   Kubernetes-style plain text
//   /health/live, /health/ready  JSON {"status":"UP|DOWN","checks":[...]}
// A probe that is down answers 503. Anything else is a 404 listing these.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/metrics_snapshot.hpp"

struct mg_context;
struct mg_connection;

namespace streamlab {

class BaspGate;

class HttpEndpoints {
 public:
  // Returns nullopt when the process did not answer within the provider's
  // own timeout, which should be shorter than a probe's or a scrape's (a
  // few seconds). Called on the server's threads, possibly several at once.
  // One that throws counts as one that did not answer.
  using SnapshotProvider = std::function<std::optional<MetricsSnapshot>()>;

  // Listens on host:port (port 0: any free port, see port()) and serves
  // until destroyed. Throws std::runtime_error naming HOST:PORT when it
  // cannot listen there (unknown host, address not local, port in use);
  // std::invalid_argument without a provider.
  HttpEndpoints(std::string host, std::uint16_t port, SnapshotProvider provider);
  // Stops listening and waits for the requests in progress.
  ~HttpEndpoints();
  HttpEndpoints(const HttpEndpoints&) = delete;
  HttpEndpoints& operator=(const HttpEndpoints&) = delete;

  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }

 private:
  struct Response;
  static int on_request(mg_connection* connection, void* self);
  Response respond(const std::string& path, const char* query);
  std::optional<MetricsSnapshot> snapshot();
  void stop_civetweb();

  std::string host_;
  std::string numeric_host_;  // what host_ resolved to, and what is bound
  std::uint16_t port_ = 0;
  SnapshotProvider provider_;
  mg_context* context_ = nullptr;
  std::uint16_t inner_port_ = 0;  // civetweb's, on loopback behind the gate
  std::unique_ptr<BaspGate> gate_;
};

}  // namespace streamlab
