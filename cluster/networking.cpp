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

// CAF says only that it could not open the port ("tcp socket creation
// failed"), not why. After a failure, binding the same address ourselves
// gets the reason in the OS's words ("address already in use", "cannot
// assign requested address"). Empty when that bind works (then CAF's own
// text is all there is).
std::string bind_failure(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const int status = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (status != 0) return "cannot resolve the host: " + lowercase_first(gai_strerror(status));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, freeaddrinfo);
  std::string reason;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      reason = lowercase_first(std::strerror(errno));
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool bound = bind(fd, a->ai_addr, a->ai_addrlen) == 0;
    if (!bound) reason = lowercase_first(std::strerror(errno));
    close(fd);
    if (bound) return {};
  }
  return reason;
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
  auto bound = system.has_openssl_manager() ? caf::openssl::publish(actor, port, host.c_str())
                                            : system.middleman().publish(actor, port, host.c_str());
  if (!bound) {
    std::string reason = bind_failure(host, port);
    if (reason.empty()) reason = system.render(bound.error());
    throw std::runtime_error("cannot publish the " + what + " on " + where + ": " + reason);
  }
  const std::uint16_t actual = *bound;
  // The plain middleman unpublishes TLS ports too: both hand the port to the
  // same BASP broker. (caf::openssl::unpublish does not compile in 0.17.6:
  // it names an atom that only later versions have.)
  return std::make_shared<Published>(
      host, actual, [&system, actor, actual] { system.middleman().unpublish(actor, actual); });
}

}  // namespace streamlab
