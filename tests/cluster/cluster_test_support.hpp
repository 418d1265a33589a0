#pragma once
// What the cluster tests share: a snapshot with something of everything, a
// bare HTTP/1.1 client (so the server is checked against sockets, not
// against itself), and promtool.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "runtime/metrics_snapshot.hpp"

namespace streamlab::test {

// Two pipelines in several states, nodes in every state, every drop
// reason, edges with ports, and a busy pool.
inline MetricsSnapshot rich_snapshot() {
  MetricsSnapshot s;
  s.process = "member-1";
  s.time_ns = 1'700'000'000'000'000'000;
  s.pipelines = {{"demo", "running", ""}, {"capture", "degraded", "node \"eq\" failed: boom"}};

  const char* states[] = {"running", "finished",  "restarting", "backing_off",
                          "open",    "half_open", "failed"};
  std::uint64_t n = 1;
  for (const char* pipeline : {"demo", "capture"}) {
    for (const char* state : states) {
      NodeSnapshot node;
      node.pipeline = pipeline;
      node.node = std::string(state) + "_node";
      node.type = "gain";
      node.state = state;
      node.frames_in = 1000 * n;
      node.frames_out = 990 * n;
      node.errors = n;
      node.restarts = n % 3;
      node.skipped = n % 2;
      for (std::size_t r = 0; r < kDropReasonCount; ++r) node.dropped[r] = n + r;
      node.dead_lettered = n % 4;
      node.latency_p50_us = 2.5 * n;
      node.latency_p95_us = 3.5 * n;
      node.latency_p99_us = 4.5 * n;
      node.latency_max_us = 40.0 * n;
      node.end_to_end_p50_us = 100.0 * n;
      node.end_to_end_p99_us = 200.0 * n;
      node.end_to_end_max_us = 300.0 * n;
      // A few values in the first buckets and one above every bound (+Inf).
      node.processing_buckets.counts[0] = 10 * n;
      node.processing_buckets.counts[1] = 5 * n;
      node.processing_buckets.counts[6] = n;
      node.processing_buckets.counts.back() = 1;
      node.processing_buckets.sum_seconds = 0.125 * n;
      node.end_to_end_buckets.counts[8] = 7 * n;
      node.end_to_end_buckets.counts[12] = 2;
      node.end_to_end_buckets.sum_seconds = 0.5 * n;
      node.busy_ms_per_s = 10.0 * n;
      node.backpressured_ms_per_s = 5.0 * n;
      node.idle_ms_per_s = 1000.0 - 15.0 * n;
      node.queue_capacity = 32;
      node.queue_max_occupancy = n % 33;
      if (std::string(state) == "failed") node.last_error = "boom";
      s.nodes.push_back(node);
      ++n;
    }
    for (std::uint32_t port = 0; port < 3; ++port) {
      EdgeSnapshot edge;
      edge.pipeline = pipeline;
      edge.from = "running_node";
      edge.to = "finished_node";
      edge.port = port;
      edge.capacity = 32;
      edge.frames = 500 + port;
      edge.occupancy = 3 + port;
      edge.max_occupancy = 7 + port;
      edge.backpressured = port == 1;
      edge.backpressure_episodes = 4 * port;
      s.edges.push_back(edge);
    }
  }
  s.pool.hits = 900;
  s.pool.misses = 38;
  s.figures = {48u << 20, 1.25, 9};
  return s;
}

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Throws instead of using Catch assertions, which are not thread-safe, so
// that several threads can use it at once.
inline HttpReply http_request(const std::string& host, std::uint16_t port,
                              const std::string& target, const std::string& method = "GET") {
  const auto fail = [&](const std::string& what) {
    return std::runtime_error(method + " http://" + host + ":" + std::to_string(port) + target +
                              ": " + what);
  };
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw fail("no socket");
  std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* p) {
    close(*p);
    delete p;
  });
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) throw fail("bad IPv4 address");
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw fail("cannot connect");
  }
  const std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    throw fail("cannot send the request");
  }

  std::string raw;
  char buffer[4096];
  for (;;) {
    const ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got < 0) throw fail("no answer within 10 s");
    if (got == 0) break;
    raw.append(buffer, static_cast<std::size_t>(got));
  }

  HttpReply reply;
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 9, "HTTP/1.1 ") != 0) {
    throw fail("not an HTTP/1.1 response: " + raw);
  }
  reply.status = std::stoi(raw.substr(9, 3));
  std::size_t pos = raw.find("\r\n") + 2;
  while (pos < head_end) {
    const auto end = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, end - pos);
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    reply.headers[name] = value;
    pos = end + 2;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

inline HttpReply http_get(std::uint16_t port, const std::string& target) {
  return http_request("127.0.0.1", port, target);
}

struct PromtoolResult {
  int exit_status = -1;
  std::string output;
};

// promtool's lint is the reference for the exposition format, so its
// absence fails the test instead of skipping the check.
inline PromtoolResult promtool_check_metrics(const std::string& exposition) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    FAIL("promtool not found: run scripts/setup.sh (it installs the Debian package prometheus)");
  }
  namespace fs = std::filesystem;
  std::string path = (fs::temp_directory_path() / "streamlab-metrics-XXXXXX").string();
  const int fd = mkstemp(path.data());
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out << exposition;
  }
  PromtoolResult result;
  FILE* pipe = popen(("promtool check metrics < '" + path + "' 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[1024];
  std::size_t got = 0;
  while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, got);
  const int status = pclose(pipe);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  fs::remove(path);
  return result;
}

}  // namespace streamlab::test
