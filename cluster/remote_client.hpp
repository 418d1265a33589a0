#pragma once
// A connection to an actor another process publishes (a monitor, a cluster
// member), from a small actor system of its own, kept across requests and
// made again after a failure. The connect is bounded in time, also against
// an address that drops packets or a process that is stopped. With
// certificates (TlsFiles) the connection is TLS with mutual verification.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "cluster/tls_files.hpp"

namespace caf {
class actor;
class actor_system;
class error;
}  // namespace caf

namespace streamlab {

// HOST:PORT, IPv6 hosts in brackets.
std::string display_address(const std::string& host, std::uint16_t port);

// Connects `system` to the actor published at host:port within `timeout`,
// over TLS when the system was configured with certificates
// (enable_networking). Empty on success (`remote` is set), else the reason
// in words.
std::string connect_remote(caf::actor_system& system, const std::string& host, std::uint16_t port,
                           std::chrono::milliseconds timeout, caf::actor& remote);

class RemoteClient {
 public:
  // `what` names the far end in errors: "monitor", "cluster member".
  // `tls`: checked with check_tls_files() already.
  RemoteClient(std::string host, std::uint16_t port, std::string what, const TlsFiles& tls = {});
  ~RemoteClient();
  RemoteClient(const RemoteClient&) = delete;
  RemoteClient& operator=(const RemoteClient&) = delete;

  // True when connected (now or before). Else `error` says
  // "cannot reach a StreamLab <what> at HOST:PORT: <reason>".
  bool connect(std::chrono::milliseconds timeout, std::string& error);
  caf::actor_system& system();
  const caf::actor& actor() const;  // null until connected
  void reset();                     // the next request connects afresh
  std::string where() const;
  // A failed request's error in words (timeout, lost connection, wrong actor).
  std::string describe(const caf::error& err, std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string what_;
};

}  // namespace streamlab
