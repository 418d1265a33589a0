#include "cluster/basp_gate.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cluster/remote_client.hpp"

namespace streamlab {

namespace {

// BASP 0.17 on the wire (caf/io/basp/header.hpp): operation (1), padding
// (2), flags (1), payload length (4, big endian), operation data (8),
// source and destination actor (8 + 8).
constexpr std::size_t kHeaderSize = 32;
constexpr std::size_t kLengthOffset = 4;
constexpr std::uint8_t kClientHandshake = 0x01;
constexpr std::uint8_t kLastOperation = 0x06;  // heartbeat
// Bytes held per direction before the gate stops reading that side: the
// relay adds no unbounded buffer of its own.
constexpr std::size_t kBufferLimit = 1u << 20;

// A flood of garbage must not flood the log: the first ten, then every
// power of ten.
bool worth_logging(std::uint64_t n) {
  if (n <= 10) return true;
  while (n % 10 == 0) n /= 10;
  return n == 1;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

void set_nodelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Reads the bytes that come from outside as BASP frames, and says when
// they stop being well-formed. Established once the first message (the
// client's handshake) is complete.
class BaspFraming {
 public:
  // Empty while the bytes are fine, else what is wrong.
  std::string feed(const char* data, std::size_t n) {
    std::size_t pos = 0;
    while (pos < n) {
      if (payload_left_ > 0) {
        const std::size_t skip = std::min<std::size_t>(payload_left_, n - pos);
        payload_left_ -= skip;
        pos += skip;
        if (payload_left_ == 0) established_ = true;
        continue;
      }
      const std::size_t take = std::min(kHeaderSize - have_, n - pos);
      std::memcpy(header_.data() + have_, data + pos, take);
      have_ += take;
      pos += take;
      if (have_ < kHeaderSize) break;
      have_ = 0;
      const std::uint8_t operation = header_[0];
      std::uint32_t length = 0;
      std::memcpy(&length, header_.data() + kLengthOffset, 4);
      length = ntohl(length);
      if (first_ && operation != kClientHandshake)
        return "does not open with a CAF client handshake (operation " + std::to_string(operation) +
               ")";
      if (operation > kLastOperation) return "unknown BASP operation " + std::to_string(operation);
      if (length > BaspGate::kMaxPayload)
        return "a BASP message of " + std::to_string(length) + " bytes (limit " +
               std::to_string(BaspGate::kMaxPayload) + ")";
      first_ = false;
      payload_left_ = length;
      if (length == 0) established_ = true;
    }
    return {};
  }
  bool established() const { return established_; }

 private:
  std::array<std::uint8_t, kHeaderSize> header_{};
  std::size_t have_ = 0;
  std::uint64_t payload_left_ = 0;
  bool first_ = true;
  bool established_ = false;
};

// Reads TLS 1.2 records (type 1, version 2, length 2): the first must be a
// handshake record, every one a known type of a bounded length.
// Established at the client's first application-data record, which under
// TLS 1.2 comes only after a finished handshake.
class TlsFraming {
 public:
  std::string feed(const char* data, std::size_t n) {
    std::size_t pos = 0;
    while (pos < n) {
      if (body_left_ > 0) {
        const std::size_t skip = std::min(body_left_, n - pos);
        body_left_ -= skip;
        pos += skip;
        continue;
      }
      const std::size_t take = std::min(kRecordHeader - have_, n - pos);
      std::memcpy(header_.data() + have_, data + pos, take);
      have_ += take;
      pos += take;
      if (have_ < kRecordHeader) break;
      have_ = 0;
      const std::uint8_t type = header_[0];
      const std::size_t length = (std::size_t{header_[3]} << 8) | header_[4];
      if (first_ && type != kHandshakeRecord)
        return "does not open with a TLS handshake (first byte " + std::to_string(type) +
               "; a client without --tls-cert, --tls-key and --tls-ca?)";
      if (type < kChangeCipherSpec || type > kApplicationData || header_[1] != 3)
        return "not a TLS record (type " + std::to_string(type) + ")";
      if (length > limits::kMaxTlsRecord)
        return "a TLS record of " + std::to_string(length) + " bytes (limit " +
               std::to_string(limits::kMaxTlsRecord) + ")";
      if (type == kApplicationData) established_ = true;
      first_ = false;
      body_left_ = length;
    }
    return {};
  }
  bool established() const { return established_; }

 private:
  static constexpr std::size_t kRecordHeader = 5;
  static constexpr std::uint8_t kChangeCipherSpec = 20, kHandshakeRecord = 22,
                                kApplicationData = 23;
  std::array<std::uint8_t, kRecordHeader> header_{};
  std::size_t have_ = 0;
  std::size_t body_left_ = 0;
  bool first_ = true;
  bool established_ = false;
};

// Waits for a complete HTTP request head ("\r\n\r\n"), of bounded size.
// Nothing reaches the server before it: a slow or silent client costs the
// gate a descriptor, never one of the server's threads.
class HttpFraming {
 public:
  std::string feed(const char* data, std::size_t n) {
    if (established_) return {};
    for (std::size_t i = 0; i < n; ++i) {
      matched_ = data[i] == kEnd[matched_ % 2] ? matched_ + 1 : (data[i] == '\r' ? 1 : 0);
      if (matched_ == 4) {
        established_ = true;
        return {};
      }
      if (++seen_ > limits::kMaxHttpRequestHead)
        return "an HTTP request head over " + std::to_string(limits::kMaxHttpRequestHead) +
               " bytes";
    }
    return {};
  }
  bool established() const { return established_; }

 private:
  static constexpr char kEnd[] = {'\r', '\n'};
  std::size_t matched_ = 0;
  std::size_t seen_ = 0;
  bool established_ = false;
};

class Framing {
 public:
  explicit Framing(GateProtocol protocol) : protocol_(protocol) {}
  std::string feed(const char* data, std::size_t n) {
    switch (protocol_) {
      case GateProtocol::basp:
        return basp_.feed(data, n);
      case GateProtocol::tls:
        return tls_.feed(data, n);
      case GateProtocol::http:
        return http_.feed(data, n);
    }
    return {};
  }
  bool established() const {
    switch (protocol_) {
      case GateProtocol::basp:
        return basp_.established();
      case GateProtocol::tls:
        return tls_.established();
      case GateProtocol::http:
        return http_.established();
    }
    return false;
  }

 private:
  GateProtocol protocol_;
  BaspFraming basp_;
  TlsFraming tls_;
  HttpFraming http_;
};

// Bytes waiting to be written to one side.
struct Pending {
  std::string bytes;
  std::size_t offset = 0;
  std::size_t size() const { return bytes.size() - offset; }
  void append(const char* data, std::size_t n) {
    if (offset == bytes.size()) {
      bytes.clear();
      offset = 0;
    }
    bytes.append(data, n);
  }
  // False when the socket failed.
  bool flush(int fd) {
    while (size() > 0) {
      const ssize_t n = send(fd, bytes.data() + offset, size(), MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      offset += static_cast<std::size_t>(n);
    }
    return true;
  }
};

using Clock = std::chrono::steady_clock;

struct Relay {
  explicit Relay(GateProtocol protocol) : framing(protocol) {}
  int outside = -1;
  int inside = -1;  // -1 until the server is reached (see connects_early)
  std::string peer;
  Framing framing;
  Clock::time_point deadline;      // for proving itself (framing.established())
  bool inside_closed = false;      // the server ended: send what is left, then close
  bool heard_from_server = false;  // it accepted (a BASP server speaks first)
  Pending to_inside, to_outside;
  ~Relay() {
    if (outside >= 0) close(outside);
    if (inside >= 0) close(inside);
  }
};

// A BASP server speaks first (its handshake), so it is reached at once; a
// TLS server only after the client's first bytes (an idle socket never
// reaches CAF's acceptor); an HTTP server only with a complete head.
bool connects_early(GateProtocol protocol) { return protocol == GateProtocol::basp; }

// Connects to the server behind the gate, leaving it descriptors to
// accept with: a server whose accept() fails for lack of descriptors finds
// its port still readable and spins (CAF's multiplexer does, at a full
// core). -1 with errno EMFILE when there is no room for both ends.
int connect_loopback(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  {
    // Room for the server's accept, for the gate's next accept, and one
    // more: the server accepts later, on its own thread.
    int room[3];
    int got = 0;
    while (got < 3 && (room[got] = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0) ++got;
    for (int k = 0; k < got; ++k) close(room[k]);
    if (got < 3) {
      close(fd);
      errno = EMFILE;
      return -1;
    }
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    const int error = errno;
    close(fd);
    errno = error;
    return -1;
  }
  set_nonblocking(fd);
  set_nodelay(fd);
  return fd;
}

std::string peer_name(const sockaddr_storage& address) {
  char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
  getnameinfo(reinterpret_cast<const sockaddr*>(&address), sizeof address, host, sizeof host, port,
              sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
  return display_address(host, static_cast<std::uint16_t>(std::atoi(port)));
}

// Reads what is there into `out`; false on end of stream or error.
bool read_into(int fd, std::string& chunk) {
  char buffer[65536];
  const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  chunk.assign(buffer, static_cast<std::size_t>(n));
  return true;
}

}  // namespace

BaspGate::BaspGate(const std::string& host, std::uint16_t port, std::uint16_t target_port,
                   GateProtocol protocol)
    : target_port_(target_port), protocol_(protocol) {
  const std::string where = display_address(host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  if (host.empty()) throw GateListenError(where, "empty host");
  const int status = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (status != 0) throw GateListenError(where, gai_strerror(status));
  std::string reason;
  for (const addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 128) == 0) {
      listen_fd_ = fd;
    } else {
      reason = std::strerror(errno);
      close(fd);
    }
  }
  freeaddrinfo(found);
  if (listen_fd_ < 0) throw GateListenError(where, reason);
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  set_nonblocking(listen_fd_);
  spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (pipe2(wake_fd_, O_CLOEXEC) != 0) {
    const std::string why = std::strerror(errno);
    close(listen_fd_);
    if (spare_fd_ >= 0) close(spare_fd_);
    throw GateListenError(where, why);
  }
  thread_ = std::thread([this] { run(); });
}

BaspGate::~BaspGate() {
  const char bye = 0;
  (void)!write(wake_fd_[1], &bye, 1);
  thread_.join();
  close(wake_fd_[0]);
  close(wake_fd_[1]);
  close(listen_fd_);
  if (spare_fd_ >= 0) close(spare_fd_);
}

void BaspGate::run() {
  std::list<Relay> relays;
  std::vector<pollfd> fds;
  std::vector<Relay*> owner;         // per entry of fds past the first two
  Clock::time_point accept_again{};  // out of descriptors: not before then
  bool out_of_descriptors = false;   // logged once per episode
  auto refuse = [&](const Relay& r, const std::string& wrong) {
    const auto n = ++refused_;
    if (worth_logging(n))
      spdlog::warn("gate on port {}: closed the connection from {}: {} ({} refused so far)", port_,
                   r.peer, wrong, n);
  };
  auto reached_server = [&] {
    if (out_of_descriptors)
      spdlog::info("gate on port {}: file descriptors available again, accepting", port_);
    out_of_descriptors = false;
  };
  auto no_descriptors = [&](int error) {
    if (!out_of_descriptors)
      spdlog::error(
          "gate on port {}: out of file descriptors ({}): refusing new connections "
          "until some are free (raise `ulimit -n`?)",
          port_, std::strerror(error));
    out_of_descriptors = true;
  };
  for (;;) {
    const auto now = Clock::now();
    // A BASP server that accepted sends its handshake at once; until it
    // has, no other connection is made to it, so that a server out of
    // descriptors has one connection in its backlog at most, not a queue
    // that keeps its port readable (and CAF's multiplexer spinning).
    bool server_behind = false;
    for (const auto& r : relays)
      if (r.inside >= 0 && !r.heard_from_server && protocol_ == GateProtocol::basp)
        server_behind = true;
    const bool accepting = now >= accept_again && !server_behind;
    fds.assign({{wake_fd_[0], POLLIN, 0}, {listen_fd_, short(accepting ? POLLIN : 0), 0}});
    owner.clear();
    auto wake_at = accepting ? Clock::time_point::max() : accept_again;
    for (auto& r : relays) {
      short out_events = r.to_inside.size() < kBufferLimit && !r.inside_closed ? POLLIN : 0;
      if (r.to_outside.size() > 0) out_events |= POLLOUT;
      short in_events =
          r.inside >= 0 && !r.inside_closed && r.to_outside.size() < kBufferLimit ? POLLIN : 0;
      if (r.inside >= 0 && r.to_inside.size() > 0) in_events |= POLLOUT;
      fds.push_back({r.outside, out_events, 0});
      fds.push_back({r.inside, in_events, 0});  // fd -1 is skipped by poll
      owner.push_back(&r);
      if (!r.framing.established()) wake_at = std::min(wake_at, r.deadline);
    }
    int timeout = -1;
    if (wake_at != Clock::time_point::max())
      timeout = static_cast<int>(std::max<long long>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now).count() + 1));
    if (poll(fds.data(), fds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("gate on port {} stopped: poll: {}", port_, std::strerror(errno));
      return;
    }
    if (fds[0].revents) return;
    const auto after = Clock::now();
    std::vector<Relay*> dead;
    for (std::size_t k = 0; k < owner.size(); ++k) {
      Relay& r = *owner[k];
      const pollfd& out = fds[2 + 2 * k];
      const pollfd& in = fds[3 + 2 * k];
      bool alive = true;
      std::string chunk;
      if (alive && (out.revents & (POLLIN | POLLHUP | POLLERR))) {
        alive = read_into(r.outside, chunk);
        if (alive && !chunk.empty()) {
          const std::string wrong = r.framing.feed(chunk.data(), chunk.size());
          if (!wrong.empty()) {
            refuse(r, wrong);
            alive = false;
          } else {
            r.to_inside.append(chunk.data(), chunk.size());
          }
        }
      }
      if (alive && r.inside < 0 &&
          (r.framing.established() || (protocol_ == GateProtocol::tls && r.to_inside.size() > 0))) {
        r.inside = connect_loopback(target_port_);
        if (r.inside < 0) {
          if (errno == EMFILE || errno == ENFILE)
            no_descriptors(errno);
          else
            spdlog::error("gate on port {}: cannot reach this process's own port {}: {}", port_,
                          target_port_, std::strerror(errno));
          alive = false;
        } else {
          reached_server();
        }
      }
      if (alive && r.inside >= 0 && (in.revents & (POLLIN | POLLHUP | POLLERR))) {
        chunk.clear();
        if (!read_into(r.inside, chunk))
          r.inside_closed = true;
        else if (!chunk.empty()) {
          r.heard_from_server = true;
          r.to_outside.append(chunk.data(), chunk.size());
        }
      }
      if (alive && r.inside >= 0 && !r.inside_closed) alive = r.to_inside.flush(r.inside);
      if (alive) alive = r.to_outside.flush(r.outside);
      if (alive && r.inside_closed && r.to_outside.size() == 0) alive = false;
      if (alive && !r.framing.established() && after >= r.deadline) {
        refuse(r,
               "no handshake within " + std::to_string(limits::kHandshakeTimeout.count()) + " ms");
        alive = false;
      }
      if (!alive) dead.push_back(&r);
    }
    relays.remove_if([&](const Relay& r) {
      for (const Relay* d : dead)
        if (d == &r) return true;
      return false;
    });
    open_ = relays.size();
    if (fds[1].revents & POLLIN) {
      for (;;) {
        sockaddr_storage from{};
        socklen_t length = sizeof from;
        const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&from), &length,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno != EMFILE && errno != ENFILE) break;
          // The connection stays in the backlog and the port readable:
          // polling it again would spin. Give up the spare descriptor to
          // accept it and close it at once, or, without one, stop
          // accepting for a while.
          no_descriptors(errno);
          ++turned_away_;
          if (spare_fd_ >= 0) {
            close(spare_fd_);
            const int victim = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (victim >= 0) close(victim);
            spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
          }
          if (spare_fd_ < 0) {
            accept_again = Clock::now() + limits::kOutOfDescriptorsBackoff;
            break;
          }
          continue;
        }
        if (spare_fd_ < 0) spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (relays.size() >= limits::kMaxConnectionsPerPort) {
          const auto n = ++turned_away_;
          if (worth_logging(n))
            spdlog::warn(
                "gate on port {}: {} connections open (the limit): turned one away ({} "
                "so far)",
                port_, relays.size(), n);
          close(fd);
          continue;
        }
        set_nodelay(fd);
        relays.emplace_back(protocol_);
        Relay& r = relays.back();
        r.outside = fd;
        r.peer = peer_name(from);
        r.deadline = Clock::now() + limits::kHandshakeTimeout;
        if (connects_early(protocol_)) {
          r.inside = connect_loopback(target_port_);
          if (r.inside < 0) {
            if (errno == EMFILE || errno == ENFILE)
              no_descriptors(errno);
            else
              spdlog::error("gate on port {}: cannot reach this process's own port {}: {}", port_,
                            target_port_, std::strerror(errno));
            relays.pop_back();
            continue;
          }
          reached_server();
          break;  // the next one after the server took this one
        }
      }
      open_ = relays.size();
    }
  }
}

}  // namespace streamlab
