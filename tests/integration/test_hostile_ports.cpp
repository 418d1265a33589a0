// Every port a StreamLab process opens, under the load a hostile network
// can put on it: BASP headers announcing 4 GB, idle and garbage
// connections, a TLS port that is never greeted, a process out of file
// descriptors. What must hold: memory stays small, no core spins, probes
// answer within a second, pipelines keep running.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.hpp"
#include "process_test_support.hpp"
#include "tests/cluster/cluster_test_support.hpp"

using namespace streamlab::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPacedPipeline = R"({"name":"paced","nodes":[
    {"id":"tone","type":"sine","config":{"frequency":440}},
    {"id":"pace","type":"fault","config":{"delay_ms":20}},
    {"id":"sink","type":"null_sink"}],
  "connections":[{"from":"tone","to":"pace"},{"from":"pace","to":"sink"}]})";

// -1 when the connection was refused.
int connect_to(std::uint16_t port) {
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
  return fd;
}

// Sockets opened and left silent, closed when this goes.
struct IdleSockets {
  std::vector<int> fds;
  IdleSockets(std::uint16_t port, int n) {
    for (int k = 0; k < n; ++k)
      if (const int fd = connect_to(port); fd >= 0) fds.push_back(fd);
  }
  ~IdleSockets() {
    for (int fd : fds) close(fd);
  }
};

// A BASP client handshake header announcing a payload of `length` bytes.
std::string basp_header(std::uint32_t length) {
  std::string h(32, '\0');
  h[0] = 1;
  for (int k = 0; k < 4; ++k) h[4 + k] = static_cast<char>(length >> (24 - 8 * k));
  return h;
}

// Sends `bytes` and keeps the connection open for a moment (so that a
// server reading the header has time to act on it), then closes.
void send_and_close(std::uint16_t port, const std::string& bytes) {
  const int fd = connect_to(port);
  if (fd < 0) return;
  (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::this_thread::sleep_for(50ms);
  close(fd);
}

std::uint64_t rss_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

// Seconds of CPU the process used so far.
double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int k = 3; k <= 15 && fields >> field; ++k) {
    if (k == 14) utime = std::stoull(field);
    if (k == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Seconds a GET /livez took (10 when it failed).
double livez_seconds(std::uint16_t port) {
  const auto start = Clock::now();
  try {
    if (http_get(port, "/livez").status != 200) return 10;
  } catch (const std::exception&) {
    return 10;
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool closed_by_peer(int fd, std::chrono::milliseconds within) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(within.count())) != 1) return false;
  char c;
  return recv(fd, &c, 1, 0) <= 0;
}

}  // namespace

TEST_CASE("a 4 GB BASP header to run --monitor's port and to a member's port costs no memory",
          "[integration][hostile]") {
  ScratchDir dir;
  dir.write("paced.json", kPacedPipeline);
  Child run(dir, {"run", "paced.json", "--quiet", "--monitor", "127.0.0.1:0"}, "run");
  const auto monitor_port = run.wait_for_port(R"(monitor listening on 127\.0\.0\.1:(\d+))");
  Child member(dir, {"node", "--name", "a", "--listen", "127.0.0.1:0"}, "member");
  const auto member_port = member.wait_for_port(R"(member "a" listening on 127\.0\.0\.1:(\d+))");
  for (const auto& [child, port] :
       {std::pair<Child*, std::uint16_t>{&run, monitor_port}, {&member, member_port}}) {
    const std::uint64_t before = rss_bytes(child->pid());
    for (int k = 0; k < 3; ++k) send_and_close(port, basp_header(0xFFFFFFF0u));
    std::this_thread::sleep_for(500ms);
    INFO("port " << port << ": RSS " << before << " -> " << rss_bytes(child->pid()));
    CHECK(rss_bytes(child->pid()) < before + (64u << 20));
    REQUIRE_FALSE(child->wait_for(0s).has_value());
  }
  // Both still answer.
  const Timed m = run_bounded(
      dir, "monitor --json --timeout 10 --connect 127.0.0.1:" + std::to_string(monitor_port));
  INFO(m.outcome.err);
  CHECK(m.outcome.status == 0);
  const Timed p = run_bounded(
      dir, "pipelines --json --timeout 10 --cluster 127.0.0.1:" + std::to_string(member_port));
  INFO(p.outcome.err);
  CHECK(p.outcome.status == 0);
}

TEST_CASE("probes answer within 1 s while 100 idle sockets and a garbage burst are held",
          "[integration][hostile]") {
  ScratchDir dir;
  dir.write("paced.json", kPacedPipeline);
  Child member(dir, {"node", "--name", "a", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"},
               "member");
  const auto port = member.wait_for_port(R"(member "a" listening on 127\.0\.0\.1:(\d+))");
  const auto http_port = member.wait_for_port(R"(HTTP endpoints on http://127\.0\.0\.1:(\d+))");
  const std::string at = "127.0.0.1:" + std::to_string(port);
  const Timed d = run_bounded(dir, "deploy paced.json --cluster " + at);
  INFO(d.outcome.err);
  REQUIRE(d.outcome.status == 0);

  IdleSockets idle_http(http_port, 100);
  IdleSockets idle_member(port, 100);
  // Half-sent request heads: the slow clients a thread-per-connection
  // server gives a thread each.
  std::vector<int> slow;
  for (int k = 0; k < 20; ++k)
    if (const int fd = connect_to(http_port); fd >= 0) {
      (void)!send(fd, "GET /livez HTTP/1.1\r\n", 21, MSG_NOSIGNAL);
      slow.push_back(fd);
    }
  std::atomic<bool> stop{false};
  std::thread garbage([&] {
    std::mt19937 random(13);
    while (!stop) {
      std::string noise(256, '\0');
      for (auto& c : noise) c = static_cast<char>(random());
      send_and_close(port, noise);
      send_and_close(http_port, noise);
      send_and_close(port, basp_header(0xFFFFFFF0u));
    }
  });
  double worst = 0;
  for (const auto until = Clock::now() + 4s; Clock::now() < until;) {
    worst = std::max(worst, livez_seconds(http_port));
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  garbage.join();
  for (int fd : slow) close(fd);
  CHECK(worst < 1.0);
  const Timed p = run_bounded(dir, "pipelines --json --timeout 10 --cluster " + at);
  INFO(p.outcome.err);
  REQUIRE(p.outcome.status == 0);
  CHECK_THAT(p.outcome.out, Catch::Contains("\"paced\"") && Catch::Contains("running"));
}

TEST_CASE("a TLS member neither spins on nor keeps a socket that never starts the handshake",
          "[integration][hostile][tls]") {
  ScratchDir dir;
  const Timed certs = run_bounded(dir, "cluster certs pki --members a");
  REQUIRE(certs.outcome.status == 0);
  Child member(dir,
               {"node", "--name", "a", "--listen", "127.0.0.1:0", "--tls-cert", "pki/a.pem",
                "--tls-key", "pki/a.key", "--tls-ca", "pki/ca.pem"},
               "member");
  const auto port = member.wait_for_port(R"(member "a" listening on 127\.0\.0\.1:(\d+))");
  IdleSockets idle(port, 1);
  REQUIRE(idle.fds.size() == 1);
  std::this_thread::sleep_for(500ms);
  const double before = cpu_seconds(member.pid());
  std::this_thread::sleep_for(2s);
  CHECK(cpu_seconds(member.pid()) - before < 0.5);  // a spinning core would be ~2
  CHECK(closed_by_peer(idle.fds[0], 10s));          // the handshake timeout closed it
  REQUIRE_FALSE(member.wait_for(0s).has_value());
}

TEST_CASE("out of file descriptors, a member refuses connections without spinning",
          "[integration][hostile]") {
  ScratchDir dir;
  Child member(dir, {"node", "--name", "a", "--listen", "127.0.0.1:0"}, "member");
  const auto port = member.wait_for_port(R"(member "a" listening on 127\.0\.0\.1:(\d+))");
  const rlimit small{64, 64};
  REQUIRE(prlimit(member.pid(), RLIMIT_NOFILE, &small, nullptr) == 0);
  IdleSockets held(port, 60);
  std::this_thread::sleep_for(500ms);
  const double before = cpu_seconds(member.pid());
  std::this_thread::sleep_for(2s);
  CHECK(cpu_seconds(member.pid()) - before < 0.5);
  INFO(member.err());
  CHECK_THAT(member.err(), Catch::Contains("out of file descriptors"));
  REQUIRE_FALSE(member.wait_for(0s).has_value());
}
