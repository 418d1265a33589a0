#include "cluster/monitor_service.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/network/multiplexer.hpp>

#include "actors/message_types.hpp"
#include "actors/messages.hpp"

namespace streamlab {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Measured on loopback: a stopped peer is declared lost after ~0.57 s with
// these (notes/caf-0.17.md).
constexpr milliseconds kHeartbeatInterval{100};
constexpr milliseconds kConnectionTimeout{500};
// Between two connection attempts to a peer that did not finish its
// handshake in time: a stopped process is tried a handful of times within a
// query's timeout, not hammered.
constexpr milliseconds kHandshakeRetryPause{200};

std::string display_address(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string lowercase_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string format_ms(milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

milliseconds remaining(clock::time_point deadline) {
  // A zero timeout would make CAF give up before it even tried.
  return std::max(milliseconds(1),
                  std::chrono::duration_cast<milliseconds>(deadline - clock::now()));
}

// A connected, non-blocking TCP socket, or -1 and `reason` in the OS's
// words (refused, unreachable, timed out). Connecting here rather than
// through the middleman is what bounds the connect: CAF 0.17's middleman
// actor calls a blocking connect() with no timeout of its own, so an
// address that drops packets (or a listener whose backlog is full) would
// hold it, and with it the shutdown of our actor system, for the kernel's
// two minutes, whatever timeout the request had.
int connect_tcp(const std::string& host, std::uint16_t port, milliseconds timeout,
                std::string& reason) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int status = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (status != 0) {
    reason = "cannot resolve the host: " + lowercase_first(gai_strerror(status));
    return -1;
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, freeaddrinfo);
  const auto deadline = clock::now() + timeout;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      reason = lowercase_first(std::strerror(errno));
      continue;
    }
    int error = 0;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        const int ready = poll(&p, 1, static_cast<int>(remaining(deadline).count()));
        if (ready == 0) {
          error = ETIMEDOUT;
        } else {
          socklen_t length = sizeof error;
          if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
            error = errno;
        }
      }
    }
    if (error == 0) return fd;
    close(fd);
    reason = error == ETIMEDOUT ? "no TCP connection within " + format_ms(timeout)
                                : lowercase_first(std::strerror(error));
  }
  return -1;
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

bool is(const caf::error& err, caf::sec code) {
  return err.category() == caf::atom("system") && err.code() == static_cast<std::uint8_t>(code);
}

}  // namespace

void enable_networking(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{kHeartbeatInterval});
  cfg.set("middleman.connection-timeout", caf::timespan{kConnectionTimeout});
}

PublishedMonitor::PublishedMonitor(std::string host, std::uint16_t port,
                                   std::function<void()> unpublish)
    : host_(std::move(host)), port_(port), unpublish_(std::move(unpublish)) {}

PublishedMonitor::~PublishedMonitor() {
  if (unpublish_) unpublish_();
}

std::shared_ptr<PublishedMonitor> publish_monitor(caf::actor_system& system,
                                                  const caf::actor& monitor,
                                                  const std::string& host, std::uint16_t port) {
  const std::string where = display_address(host, port);
  // CAF reads an empty address as "every interface"; that is never implied.
  if (host.empty())
    throw std::runtime_error("cannot publish the monitor on " + where + ": empty host");
  if (!system.has_middleman()) {
    throw std::runtime_error("cannot publish the monitor on " + where +
                             ": the actor system has no middleman (enable_networking)");
  }
  auto bound = system.middleman().publish(monitor, port, host.c_str());
  if (!bound) {
    std::string reason = bind_failure(host, port);
    if (reason.empty()) reason = system.render(bound.error());
    throw std::runtime_error("cannot publish the monitor on " + where + ": " + reason);
  }
  const std::uint16_t actual = *bound;
  return std::make_shared<PublishedMonitor>(
      host, actual, [&system, monitor, actual] { system.middleman().unpublish(monitor, actual); });
}

struct MonitorClient::Impl {
  std::string host;
  std::uint16_t port;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;  // after cfg, which it refers to
  caf::actor remote;                          // null until connected, and after a failure

  Impl(std::string h, std::uint16_t p) : host(std::move(h)), port(p) {
    register_message_types(cfg);
    enable_networking(cfg);
    // One query at a time: a large scheduler would only cost start-up time.
    cfg.set("scheduler.max-threads", 2);
    system = std::make_unique<caf::actor_system>(cfg);
  }

  // Empty on success.
  std::string connect(milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    for (;;) {
      std::string reason;
      const int fd = connect_tcp(host, port, remaining(deadline), reason);
      if (fd < 0) return reason;
      // From here on it is what the middleman actor does after its own
      // connect: the BASP broker takes the socket and runs the handshake.
      auto& middleman = system->middleman();
      caf::io::scribe_ptr scribe = middleman.backend().new_scribe(fd);
      const caf::actor basp = middleman.named_broker<caf::io::basp_broker>(caf::atom("BASP"));
      caf::error failure;
      caf::scoped_actor self{*system};
      self->request(basp, remaining(deadline), caf::connect_atom::value, std::move(scribe), port)
          .receive(
              [&](caf::node_id&, caf::strong_actor_ptr& actor, std::set<std::string>&) {
                if (actor) remote = caf::actor_cast<caf::actor>(std::move(actor));
              },
              [&](caf::error& err) { failure = std::move(err); });
      if (remote) return {};
      if (!failure) return "a CAF node listens there, but publishes no actor on that port";
      // CAF 0.17 drops a connection whose handshake has not completed by
      // its next heartbeat tick (at most one interval away, not the
      // connection timeout), so a monitor that is merely slow to answer
      // gets another try, as long as the deadline allows.
      if (is(failure, caf::sec::connection_timeout) &&
          clock::now() + kHandshakeRetryPause < deadline) {
        std::this_thread::sleep_for(kHandshakeRetryPause);
        continue;
      }
      // The kernel accepts connections for a stopped process too: only the
      // handshake tells it from a live one.
      if (is(failure, caf::sec::request_timeout) || is(failure, caf::sec::connection_timeout))
        return "no CAF handshake within " + format_ms(timeout) +
               " (a stopped or hung process, or not a StreamLab monitor port)";
      if (is(failure, caf::sec::malformed_basp_message) ||
          is(failure, caf::sec::disconnect_during_handshake))
        return "the port does not speak CAF's protocol (not a StreamLab monitor port)";
      if (is(failure, caf::sec::incompatible_versions) ||
          is(failure, caf::sec::incompatible_application_ids))
        return "a CAF node of another version or application listens there";
      return system->render(failure);
    }
  }
};

MonitorClient::MonitorClient(std::string host, std::uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(host), port)) {}

MonitorClient::~MonitorClient() = default;

std::optional<MetricsSnapshot> MonitorClient::query(milliseconds timeout, std::string& error) {
  const auto deadline = clock::now() + timeout;
  const auto fail = [&](const std::string& reason) -> std::optional<MetricsSnapshot> {
    error = "cannot reach a StreamLab monitor at " + display_address(impl_->host, impl_->port) +
            ": " + reason;
    // The next query starts from a fresh connection.
    impl_->remote = nullptr;
    return std::nullopt;
  };
  if (!impl_->remote) {
    std::string reason = impl_->connect(timeout);
    if (!impl_->remote) return fail(reason);
  }
  std::optional<MetricsSnapshot> out;
  std::string reason;
  caf::scoped_actor self{*impl_->system};
  self->request(impl_->remote, remaining(deadline), snapshot_atom::value)
      .receive([&](MetricsSnapshot& snapshot) { out = std::move(snapshot); },
               [&](caf::error& err) {
                 if (is(err, caf::sec::request_timeout)) {
                   reason = "no snapshot within " + format_ms(timeout) +
                            " (the process is stopped or overloaded)";
                 } else if (is(err, caf::sec::request_receiver_down) ||
                            is(err, caf::sec::connection_timeout)) {
                   reason = "the connection was lost (the process exited or stopped answering)";
                 } else if (is(err, caf::sec::unexpected_message)) {
                   reason = "the actor published there is not a StreamLab monitor";
                 } else {
                   reason = impl_->system->render(err);
                 }
               });
  if (!out) return fail(reason);
  error.clear();
  return out;
}

std::optional<MetricsSnapshot> query_remote_monitor(const std::string& host, std::uint16_t port,
                                                    milliseconds timeout, std::string& error) {
  MonitorClient client(host, port);
  return client.query(timeout, error);
}

}  // namespace streamlab
