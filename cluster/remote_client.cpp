#include "cluster/remote_client.hpp"

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
#include <caf/openssl/manager.hpp>

#include "actors/caf_words.hpp"
#include "actors/message_types.hpp"
#include "cluster/member.hpp"
#include "cluster/networking.hpp"
#include "cluster/tls_handshake.hpp"

namespace streamlab {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Between two connection attempts to a peer that did not finish its
// handshake in time: a stopped process is tried a handful of times within a
// query's timeout, not hammered.
constexpr milliseconds kHandshakeRetryPause{200};

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

bool is(const caf::error& err, caf::sec code) {
  return err.category() == caf::atom("system") && err.code() == static_cast<std::uint8_t>(code);
}

// Asks a middleman actor (the BASP broker, or the OpenSSL manager's) to
// connect with `args`, and waits until `deadline` for the actor published
// there. Sets `remote`, or returns why not (an empty error when the node
// answered without an actor).
template <class Handle, class... Ts>
caf::error request_connect(caf::actor_system& system, const Handle& broker,
                           clock::time_point deadline, caf::actor& remote, Ts&&... args) {
  caf::error failure;
  caf::scoped_actor self{system};
  self->request(broker, remaining(deadline), caf::connect_atom::value, std::forward<Ts>(args)...)
      .receive(
          [&](caf::node_id&, caf::strong_actor_ptr& actor, std::set<std::string>&) {
            if (actor) remote = caf::actor_cast<caf::actor>(std::move(actor));
          },
          [&](caf::error& err) { failure = std::move(err); });
  return failure;
}

// What caf::openssl::remote_actor does, with the bounds it lacks: it waits
// for the handshake forever (measured: a stopped TLS member holds it past
// 10 s, spinning a core, and the process cannot exit), and its middleman
// actor calls a blocking connect() (see connect_tcp). So a handshake of
// our own must first complete within the timeout (tls_handshake.hpp), then
// the same request goes to the OpenSSL middleman actor, with the time that
// is left. Only a peer that stops in between can still hold CAF's.
std::string connect_tls(caf::actor_system& system, const std::string& host, std::uint16_t port,
                        milliseconds timeout, caf::actor& remote) {
  const auto deadline = clock::now() + timeout;
  caf::error failure;
  for (;;) {
    std::string reason;
    const int fd = connect_tcp(host, port, remaining(deadline), reason);
    if (fd < 0) return reason;
    const auto& cfg = system.config();
    const TlsHandshake ours = tls_handshake(
        fd, {cfg.openssl_certificate, cfg.openssl_key, cfg.openssl_cafile}, remaining(deadline));
    close(fd);
    if (ours.timed_out)
      return "no TLS handshake within " + format_ms(timeout) +
             " (a stopped or hung process, or not a StreamLab port)";
    if (!ours.error.empty()) return ours.error;
    failure = request_connect(system, system.openssl_manager().actor_handle(), deadline, remote,
                              host, port);
    if (remote) return {};
    if (!failure) return "a CAF node listens there, but publishes no actor on that port";
    // The TLS handshake comes on top of BASP's, so it can miss the
    // heartbeat tick that drops unfinished handshakes (see connect_remote).
    if (!is(failure, caf::sec::connection_timeout) ||
        clock::now() + kHandshakeRetryPause >= deadline)
      break;
    std::this_thread::sleep_for(kHandshakeRetryPause);
  }
  if (is(failure, caf::sec::request_timeout) || is(failure, caf::sec::connection_timeout))
    return "no TLS handshake within " + format_ms(timeout) +
           " (a stopped or hung process, or not a StreamLab port)";
  // Measured: the peer closes the connection when either certificate is
  // not signed by the other end's CA, or when we have none.
  if (is(failure, caf::sec::disconnect_during_handshake))
    return "TLS handshake failed (is this process's certificate signed by the cluster's CA, "
           "and is --tls-ca that CA?)";
  // What CAF reports when the far end answers the TLS hello with plain BASP
  // bytes (measured), or drops it without a word.
  if (is(failure, caf::sec::cannot_connect_to_node))
    return "TLS handshake failed: the far end does not speak TLS (a member started without "
           "--tls-cert, --tls-key and --tls-ca?)";
  return "TLS: " + system.render(failure);
}

}  // namespace

std::string display_address(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string connect_remote(caf::actor_system& system, const std::string& host, std::uint16_t port,
                           milliseconds timeout, caf::actor& remote) {
  if (system.has_openssl_manager()) return connect_tls(system, host, port, timeout, remote);
  const auto deadline = clock::now() + timeout;
  for (;;) {
    std::string reason;
    const int fd = connect_tcp(host, port, remaining(deadline), reason);
    if (fd < 0) return reason;
    // From here on it is what the middleman actor does after its own
    // connect: the BASP broker takes the socket and runs the handshake.
    auto& middleman = system.middleman();
    caf::io::scribe_ptr scribe = middleman.backend().new_scribe(fd);
    const caf::actor basp = middleman.named_broker<caf::io::basp_broker>(caf::atom("BASP"));
    const caf::error failure =
        request_connect(system, basp, deadline, remote, std::move(scribe), port);
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
             " (a stopped or hung process, or not a StreamLab port)";
    // A member that requires TLS closes the connection at once (measured:
    // ~4 ms), as anything else that does not speak BASP does.
    if (is(failure, caf::sec::malformed_basp_message) ||
        is(failure, caf::sec::disconnect_during_handshake))
      // The gate closes as fast when the member is out of connections or
      // file descriptors: from here the two look alike, so both are named.
      return "the port does not speak CAF's protocol in the clear (a member that requires TLS: "
             "give --tls-cert, --tls-key and --tls-ca; a member out of connections or file "
             "descriptors, which its log says; or not a StreamLab port)";
    if (is(failure, caf::sec::incompatible_versions) ||
        is(failure, caf::sec::incompatible_application_ids))
      return "a CAF node of another version or application listens there";
    return system.render(failure);
  }
}

struct RemoteClient::Impl {
  std::string host;
  std::uint16_t port;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;  // after cfg, which it refers to
  caf::actor remote;                          // null until connected, and after a failure

  Impl(std::string h, std::uint16_t p, const TlsFiles& tls) : host(std::move(h)), port(p) {
    register_message_types(cfg);
    register_cluster_types(cfg);
    enable_networking(cfg, tls);
    // One request at a time: a large scheduler would only cost start-up time.
    cfg.set("scheduler.max-threads", 2);
    system = std::make_unique<caf::actor_system>(cfg);
  }

  // Empty on success.
  std::string connect(milliseconds timeout) {
    return connect_remote(*system, host, port, timeout, remote);
  }
};

RemoteClient::RemoteClient(std::string host, std::uint16_t port, std::string what,
                           const TlsFiles& tls)
    : impl_(std::make_unique<Impl>(std::move(host), port, tls)), what_(std::move(what)) {}

RemoteClient::~RemoteClient() = default;

bool RemoteClient::connect(milliseconds timeout, std::string& error) {
  if (impl_->remote) return true;
  std::string reason = impl_->connect(timeout);
  if (impl_->remote) return true;
  error = "cannot reach a StreamLab " + what_ + " at " + where() + ": " + reason;
  return false;
}

caf::actor_system& RemoteClient::system() { return *impl_->system; }
const caf::actor& RemoteClient::actor() const { return impl_->remote; }
void RemoteClient::reset() { impl_->remote = nullptr; }
std::string RemoteClient::where() const { return display_address(impl_->host, impl_->port); }

std::string RemoteClient::describe(const caf::error& err, std::chrono::milliseconds timeout) {
  if (is(err, caf::sec::request_timeout))
    return "no answer within " + format_ms(timeout) + " (the process is stopped or overloaded)";
  if (is(err, caf::sec::request_receiver_down) || is(err, caf::sec::connection_timeout))
    return "the connection was lost (the process exited or stopped answering)";
  if (is(err, caf::sec::unexpected_message))
    return "the actor published there is not a StreamLab " + what_;
  return plain_words(err);
}

}  // namespace streamlab
