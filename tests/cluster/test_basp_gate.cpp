// The gate in front of every port, at the edges of its bounds
// (input_limits.hpp, "Connections"): the largest BASP message and HTTP
// request head pass, one byte more is refused; the connection limit turns
// the next one away. A loopback server stands behind it, speaking first as
// a BASP server does.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cluster/basp_gate.hpp"
#include "messages/input_limits.hpp"

using namespace streamlab;

namespace {

// Accepts on 127.0.0.1, greets each connection with one byte, counts the
// bytes it receives.
class Server {
 public:
  Server() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
    REQUIRE(listen(fd_, 512) == 0);
    socklen_t length = sizeof at;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&at), &length);
    port_ = ntohs(at.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~Server() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (int c : clients_) close(c);
    close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::size_t received() const { return received_; }

 private:
  void run() {
    std::vector<pollfd> fds;
    while (!stop_) {
      fds.assign({{fd_, POLLIN, 0}});
      for (int c : clients_) fds.push_back({c, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          (void)!send(c, "S", 1, MSG_NOSIGNAL);
          clients_.push_back(c);
        }
      }
      for (std::size_t k = 1; k < fds.size(); ++k)
        if (fds[k].revents & POLLIN) {
          char buffer[65536];
          const ssize_t n = recv(fds[k].fd, buffer, sizeof buffer, 0);
          if (n > 0) received_ += static_cast<std::size_t>(n);
        }
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> clients_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> received_{0};
  std::thread thread_;
};

int connect_to(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  return fd;
}

// Reads until the gate closes the connection; false if it is still open
// after 3 s (well under the handshake timeout).
bool closed(int fd) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 3000) != 1) return false;
    char buffer[256];
    if (recv(fd, buffer, sizeof buffer, 0) <= 0) return true;
  }
}

std::string basp_header(std::uint32_t length) {
  std::string h(32, '\0');
  h[0] = 1;
  for (int k = 0; k < 4; ++k) h[4 + k] = static_cast<char>(length >> (24 - 8 * k));
  return h;
}

void send_all(int fd, const std::string& bytes) {
  REQUIRE(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

}  // namespace

TEST_CASE("the gate lets the largest BASP message through and refuses one byte more") {
  Server server;
  BaspGate gate("127.0.0.1", 0, server.port(), GateProtocol::basp);
  const int at_limit = connect_to(gate.port());
  send_all(at_limit, basp_header(limits::kMaxBaspPayload));
  const int over = connect_to(gate.port());
  send_all(over, basp_header(limits::kMaxBaspPayload + 1));
  CHECK(closed(over));
  CHECK(gate.refused() == 1);
  pollfd p{at_limit, POLLIN, 0};
  char greeting = 0;
  REQUIRE(poll(&p, 1, 3000) == 1);
  CHECK(recv(at_limit, &greeting, 1, 0) == 1);  // the server's byte, no end of stream
  CHECK(greeting == 'S');
  close(at_limit);
  close(over);
}

TEST_CASE("the gate passes an HTTP request head of the limit and refuses a longer one") {
  Server server;
  BaspGate gate("127.0.0.1", 0, server.port(), GateProtocol::http);
  std::string head = "GET / HTTP/1.1\r\nX: ";
  head += std::string(limits::kMaxHttpRequestHead - head.size() - 4, 'x') + "\r\n\r\n";
  REQUIRE(head.size() == limits::kMaxHttpRequestHead);
  const int at_limit = connect_to(gate.port());
  send_all(at_limit, head);
  const int over = connect_to(gate.port());
  send_all(over, std::string(limits::kMaxHttpRequestHead + 1, 'x'));
  CHECK(closed(over));
  CHECK(gate.refused() == 1);
  pollfd p{at_limit, POLLIN, 0};
  char greeting = 0;
  REQUIRE(poll(&p, 1, 3000) == 1);  // reached the server, which answered
  CHECK(recv(at_limit, &greeting, 1, 0) == 1);
  close(at_limit);
  close(over);
}

TEST_CASE("the gate refuses a TLS port's client that does not open with a handshake record") {
  Server server;
  BaspGate gate("127.0.0.1", 0, server.port(), GateProtocol::tls);
  const int plain = connect_to(gate.port());
  send_all(plain, basp_header(0));
  CHECK(closed(plain));
  CHECK(gate.refused() == 1);
  CHECK(server.received() == 0);  // nothing of it reached the server
  close(plain);
}

TEST_CASE("the gate holds the connection limit and turns the next one away") {
  // Client, gate (two) and server ends: 4 descriptors a connection, in
  // this one process.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < 4 * limits::kMaxConnectionsPerPort + 64) {
    WARN("RLIMIT_NOFILE " << files.rlim_cur << " is too small for this test: skipped");
    return;
  }
  Server server;
  BaspGate gate("127.0.0.1", 0, server.port(), GateProtocol::basp);
  std::vector<int> held;
  for (std::size_t k = 0; k < limits::kMaxConnectionsPerPort; ++k) {
    held.push_back(connect_to(gate.port()));
    pollfd p{held.back(), POLLIN, 0};
    REQUIRE(poll(&p, 1, 3000) == 1);  // the server's greeting: relayed
    char greeting;
    REQUIRE(recv(held.back(), &greeting, 1, 0) == 1);
  }
  const int one_more = connect_to(gate.port());
  CHECK(closed(one_more));
  CHECK(gate.turned_away() == 1);
  CHECK(gate.open_connections() == limits::kMaxConnectionsPerPort);
  close(one_more);
  for (int fd : held) close(fd);
}
