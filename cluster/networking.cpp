#include "cluster/networking.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>

#include "cluster/basp_gate.hpp"
#include "cluster/openssl_error_queue.hpp"
#include "cluster/remote_client.hpp"

namespace streamlab {

namespace {

// Measured on loopback: a stopped peer is declared lost after ~0.57 s with
// these (docs/architecture.md#the-cluster).
constexpr std::chrono::milliseconds kHeartbeatInterval{100};
constexpr std::chrono::milliseconds kConnectionTimeout{500};

std::string lowercase_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

void enable_networking(caf::actor_system_config& cfg, const TlsFiles& tls) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{kHeartbeatInterval});
  cfg.set("middleman.connection-timeout", caf::timespan{kConnectionTimeout});
  // Loaded only with certificates: without them CAF's OpenSSL module still
  // connects, encrypted but accepting anyone, which must never pass for a
  // secured cluster.
  if (!tls.enabled()) return;
  link_openssl_error_queue_fix();
  cfg.load<caf::openssl::manager>();
  cfg.set("openssl.certificate", tls.certificate);
  cfg.set("openssl.key", tls.key);
  cfg.set("openssl.cafile", tls.ca);
}

Published::Published(std::string host, std::uint16_t port, std::function<void()> unpublish)
    : host_(std::move(host)), port_(port), unpublish_(std::move(unpublish)) {}

Published::~Published() {
  if (unpublish_) unpublish_();
}

std::shared_ptr<Published> publish_actor(caf::actor_system& system, const caf::actor& actor,
                                         const std::string& host, std::uint16_t port,
                                         const std::string& what) {
  const std::string where = display_address(host, port);
  // CAF reads an empty address as "every interface"; that is never implied.
  if (host.empty())
    throw std::runtime_error("cannot publish the " + what + " on " + where + ": empty host");
  if (!system.has_middleman()) {
    throw std::runtime_error("cannot publish the " + what + " on " + where +
                             ": the actor system has no middleman (enable_networking)");
  }
  // CAF listens on loopback only, on a port of its choosing; the world
  // reaches it through the gate (basp_gate.hpp), which bounds what CAF
  // would believe: message sizes, handshake time, connection count.
  const bool tls = system.has_openssl_manager();
  auto bound = tls ? caf::openssl::publish(actor, 0, "127.0.0.1")
                   : system.middleman().publish(actor, 0, "127.0.0.1");
  if (!bound) {
    throw std::runtime_error("cannot publish the " + what + " on " + where + ": " +
                             system.render(bound.error()));
  }
  const std::uint16_t inner = *bound;
  std::shared_ptr<BaspGate> gate;
  try {
    gate =
        std::make_shared<BaspGate>(host, port, inner, tls ? GateProtocol::tls : GateProtocol::basp);
  } catch (const GateListenError& e) {
    system.middleman().unpublish(actor, inner);
    throw std::runtime_error("cannot publish the " + what + " on " + where + ": " +
                             lowercase_first(e.reason));
  }
  // The plain middleman unpublishes TLS ports too: both hand the port to the
  // same BASP broker. (caf::openssl::unpublish does not compile in 0.17.6:
  // it names an atom that only later versions have.) The gate goes first,
  // so nothing new reaches a port being closed.
  const std::uint16_t outer = gate->port();
  return std::make_shared<Published>(host, outer, [&system, actor, inner, gate]() mutable {
    gate.reset();
    system.middleman().unpublish(actor, inner);
  });
}

}  // namespace streamlab
