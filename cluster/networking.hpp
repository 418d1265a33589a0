#pragma once
// What every process that talks to another sets up: CAF's middleman with
// heartbeats (and TLS when the cluster has certificates), and publishing
// an actor on an address.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cluster/tls_files.hpp"

namespace caf {
class actor;
class actor_system;
class actor_system_config;
}  // namespace caf

namespace streamlab {

// Loads the middleman and turns heartbeats on. CAF 0.17 ships them off, so
// a stopped peer is never noticed; and a process without them is taken for
// dead by one that has a connection timeout: every process that talks to
// another calls this (docs/architecture.md#the-cluster). With `tls` (checked with
// check_tls_files() first) it also loads CAF's OpenSSL module, which then
// carries every publish and connect of this system (publish_actor,
// connect_remote) and verifies both ends against the CA: a peer without a
// certificate signed by it fails in the TLS handshake.
void enable_networking(caf::actor_system_config& cfg, const TlsFiles& tls);

// Where an actor is published, for as long as this object lives.
class Published {
 public:
  Published(std::string host, std::uint16_t port, std::function<void()> unpublish);
  ~Published();
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }  // the bound one (also when 0 was asked for)

 private:
  std::string host_;
  std::uint16_t port_;
  std::function<void()> unpublish_;
};

// Publishes `actor` on host:port only (port 0: any free port), over TLS
// when the system was configured with certificates; the system must have
// been configured with enable_networking(). Throws
// std::runtime_error "cannot publish the <what> on HOST:PORT: <reason>".
// The handle must go before the actor system does.
std::shared_ptr<Published> publish_actor(caf::actor_system& system, const caf::actor& actor,
                                         const std::string& host, std::uint16_t port,
                                         const std::string& what);

}  // namespace streamlab
