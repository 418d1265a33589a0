#include "cluster/basp_gate.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
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
// they stop being well-formed.
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
    }
    return {};
  }

 private:
  std::array<std::uint8_t, kHeaderSize> header_{};
  std::size_t have_ = 0;
  std::uint64_t payload_left_ = 0;
  bool first_ = true;
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

struct Relay {
  int outside = -1;
  int inside = -1;
  std::string peer;
  BaspFraming framing;
  Pending to_inside, to_outside;
  ~Relay() {
    if (outside >= 0) close(outside);
    if (inside >= 0) close(inside);
  }
};

int connect_loopback(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
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

BaspGate::BaspGate(const std::string& host, std::uint16_t port, std::uint16_t target_port)
    : target_port_(target_port) {
  const std::string where = display_address(host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const int status = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (status != 0)
    throw std::runtime_error("cannot listen on " + where + ": " + gai_strerror(status));
  std::string reason;
  for (const addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
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
  if (listen_fd_ < 0) throw std::runtime_error("cannot listen on " + where + ": " + reason);
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  set_nonblocking(listen_fd_);
  if (pipe2(wake_fd_, O_CLOEXEC) != 0) {
    close(listen_fd_);
    throw std::runtime_error("cannot listen on " + where + ": " + std::strerror(errno));
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
}

void BaspGate::run() {
  std::list<Relay> relays;
  std::vector<pollfd> fds;
  std::vector<Relay*> owner;  // per entry of fds past the first two
  for (;;) {
    fds.assign({{wake_fd_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    owner.clear();
    for (auto& r : relays) {
      short out_events = r.to_inside.size() < kBufferLimit ? POLLIN : 0;
      if (r.to_outside.size() > 0) out_events |= POLLOUT;
      short in_events = r.to_outside.size() < kBufferLimit ? POLLIN : 0;
      if (r.to_inside.size() > 0) in_events |= POLLOUT;
      fds.push_back({r.outside, out_events, 0});
      fds.push_back({r.inside, in_events, 0});
      owner.push_back(&r);
    }
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("cluster gate stopped: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents) return;
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
            const auto n = ++refused_;
            if (worth_logging(n))
              spdlog::warn("cluster gate: closed the connection from {}: {} ({} refused so far)",
                           r.peer, wrong, n);
            alive = false;
          } else {
            r.to_inside.append(chunk.data(), chunk.size());
          }
        }
      }
      if (alive && (in.revents & (POLLIN | POLLHUP | POLLERR))) {
        chunk.clear();
        alive = read_into(r.inside, chunk);
        if (alive && !chunk.empty()) r.to_outside.append(chunk.data(), chunk.size());
      }
      if (alive) alive = r.to_inside.flush(r.inside) && r.to_outside.flush(r.outside);
      if (!alive) dead.push_back(&r);
    }
    relays.remove_if([&](const Relay& r) {
      for (const Relay* d : dead)
        if (d == &r) return true;
      return false;
    });
    if (fds[1].revents & POLLIN) {
      for (;;) {
        sockaddr_storage from{};
        socklen_t length = sizeof from;
        const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&from), &length,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        set_nodelay(fd);
        const int inside = connect_loopback(target_port_);
        if (inside < 0) {
          spdlog::error("cluster gate: cannot reach this member's own port {}: {}", target_port_,
                        std::strerror(errno));
          close(fd);
          continue;
        }
        relays.emplace_back();
        relays.back().outside = fd;
        relays.back().inside = inside;
        relays.back().peer = peer_name(from);
      }
    }
  }
}

}  // namespace streamlab
