// The HTTP endpoints over real sockets on 127.0.0.1: every path, status
// codes, the text and JSON forms, readiness and liveness following the
// provider, promtool on what /metrics serves, and binding errors.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cluster/http_endpoints.hpp"
#include "cluster_test_support.hpp"

using namespace streamlab;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using streamlab::test::http_get;
using streamlab::test::http_request;
using streamlab::test::promtool_check_metrics;
using streamlab::test::rich_snapshot;

namespace {

// What the monitor would answer, changed by the test between requests.
class FakeMonitor {
 public:
  explicit FakeMonitor(std::optional<MetricsSnapshot> snapshot) : snapshot_(std::move(snapshot)) {}

  HttpEndpoints::SnapshotProvider provider() {
    return [this] {
      ++calls_;
      std::lock_guard<std::mutex> lock(mutex_);
      return snapshot_;
    };
  }
  void set(std::optional<MetricsSnapshot> snapshot) {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshot_ = std::move(snapshot);
  }
  void set_pipeline(std::size_t i, std::string state, std::string reason) {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshot_->pipelines.at(i).state = std::move(state);
    snapshot_->pipelines.at(i).reason = std::move(reason);
  }
  int calls() const { return calls_; }

 private:
  std::mutex mutex_;
  std::optional<MetricsSnapshot> snapshot_;
  std::atomic<int> calls_{0};
};

MetricsSnapshot healthy_snapshot() {
  MetricsSnapshot s;
  s.process = "local";
  s.pipelines = {{"demo", "running", ""}, {"batch", "finished", ""}};
  NodeSnapshot node;
  node.pipeline = "demo";
  node.node = "tone";
  node.state = "running";
  node.frames_out = 469;
  s.nodes.push_back(node);
  return s;
}

nlohmann::json parse_json(const std::string& body) {
  INFO(body);
  REQUIRE(nlohmann::json::accept(body));
  return nlohmann::json::parse(body);
}

// A socket listening on 127.0.0.1, so that the port it holds is taken.
class Squatter {
 public:
  Squatter() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(fd_, 1) == 0);
    socklen_t length = sizeof address;
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~Squatter() { close(fd_); }
  Squatter(const Squatter&) = delete;
  Squatter& operator=(const Squatter&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("port 0 picks a free port, and port() tells which") {
  FakeMonitor monitor(healthy_snapshot());
  HttpEndpoints first("127.0.0.1", 0, monitor.provider());
  HttpEndpoints second("127.0.0.1", 0, monitor.provider());
  CHECK(first.port() != 0);
  CHECK(second.port() != 0);
  CHECK(first.port() != second.port());
  CHECK(first.host() == "127.0.0.1");
  CHECK(http_get(first.port(), "/livez").status == 200);
  CHECK(http_get(second.port(), "/livez").status == 200);
}

TEST_CASE("/metrics serves the Prometheus text of a fresh snapshot") {
  FakeMonitor monitor(healthy_snapshot());
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());

  const auto reply = http_get(http.port(), "/metrics");
  CHECK(reply.status == 200);
  CHECK(reply.headers.at("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(reply.headers.at("content-length") == std::to_string(reply.body.size()));
  CHECK(reply.headers.at("cache-control") == "no-store");
  CHECK_THAT(reply.body, Contains("streamlab_node_frames_out_total{node=\"tone\",pipeline=\"demo\","
                                  "process=\"local\"} 469"));

  // Every request reads the provider again: nothing is cached.
  auto later = healthy_snapshot();
  later.nodes[0].frames_out = 938;
  monitor.set(later);
  CHECK_THAT(http_get(http.port(), "/metrics").body,
             Contains("streamlab_node_frames_out_total{node=\"tone\",pipeline=\"demo\","
                      "process=\"local\"} 938"));
}

TEST_CASE("promtool accepts what /metrics serves for a rich snapshot") {
  FakeMonitor monitor(rich_snapshot());
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());
  const auto reply = http_get(http.port(), "/metrics");
  REQUIRE(reply.status == 200);
  const auto result = promtool_check_metrics(reply.body);
  INFO(result.output);
  CHECK(result.exit_status == 0);
  CHECK(result.output.empty());
}

TEST_CASE("/livez and /readyz answer plain text, listing the checks with ?verbose") {
  FakeMonitor monitor(healthy_snapshot());
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());

  for (const char* path : {"/livez", "/readyz"}) {
    const auto reply = http_get(http.port(), path);
    INFO(path);
    CHECK(reply.status == 200);
    CHECK(reply.body == "ok\n");
    CHECK(reply.headers.at("content-type") == "text/plain; charset=utf-8");
  }
  CHECK(http_get(http.port(), "/livez?verbose").body == "[+]monitor ok\nlivez check passed\n");
  const std::string ready_verbose =
      "[+]monitor ok\n[+]pipeline demo ok\n[+]pipeline batch ok\nreadyz check passed\n";
  CHECK(http_get(http.port(), "/readyz?verbose").body == ready_verbose);
  CHECK(http_get(http.port(), "/readyz?verbose=true").body == ready_verbose);
  CHECK(http_get(http.port(), "/readyz?x=1&verbose=1").body == ready_verbose);
  CHECK(http_get(http.port(), "/readyz?verbose=false").body == "ok\n");
}

TEST_CASE("/health/live and /health/ready answer JSON") {
  FakeMonitor monitor(healthy_snapshot());
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());

  const auto live = http_get(http.port(), "/health/live");
  CHECK(live.status == 200);
  CHECK(live.headers.at("content-type") == "application/json");
  CHECK(parse_json(live.body) ==
        nlohmann::json::parse(
            R"({"status":"UP","checks":[{"name":"monitor","status":"UP","reason":""}]})"));

  const auto ready = http_get(http.port(), "/health/ready");
  CHECK(ready.status == 200);
  CHECK(parse_json(ready.body) == nlohmann::json::parse(R"({"status":"UP","checks":[
      {"name":"monitor","status":"UP","reason":""},
      {"name":"pipeline demo","status":"UP","reason":""},
      {"name":"pipeline batch","status":"UP","reason":""}]})"));
}

TEST_CASE("the probes call a process without pipelines ready") {
  MetricsSnapshot idle;
  idle.process = "member-2";
  FakeMonitor monitor(idle);
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());
  CHECK(http_get(http.port(), "/readyz").status == 200);
  CHECK(http_get(http.port(), "/readyz?verbose").body == "[+]monitor ok\nreadyz check passed\n");
  const auto ready = http_get(http.port(), "/health/ready");
  CHECK(ready.status == 200);
  CHECK(parse_json(ready.body)["status"] == "UP");
}

TEST_CASE("readiness follows the pipelines: UP, DOWN when one degrades or fails, UP again") {
  FakeMonitor monitor(healthy_snapshot());
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());
  REQUIRE(http_get(http.port(), "/readyz").status == 200);
  REQUIRE(http_get(http.port(), "/health/ready").status == 200);

  monitor.set_pipeline(0, "degraded", "node \"eq\" failed: bad coefficient");
  auto text = http_get(http.port(), "/readyz?verbose");
  CHECK(text.status == 503);
  CHECK(text.body ==
        "[+]monitor ok\n"
        "[-]pipeline demo failed: degraded: node \"eq\" failed: bad coefficient\n"
        "[+]pipeline batch ok\n"
        "readyz check failed\n");
  // Without ?verbose a failure still names what failed.
  text = http_get(http.port(), "/readyz");
  CHECK(text.status == 503);
  CHECK(text.body ==
        "[-]pipeline demo failed: degraded: node \"eq\" failed: bad coefficient\n"
        "readyz check failed\n");
  auto json = http_get(http.port(), "/health/ready");
  CHECK(json.status == 503);
  auto body = parse_json(json.body);
  CHECK(body["status"] == "DOWN");
  CHECK(body["checks"][1] ==
        nlohmann::json{{"name", "pipeline demo"},
                       {"status", "DOWN"},
                       {"reason", "degraded: node \"eq\" failed: bad coefficient"}});

  monitor.set_pipeline(0, "failed", "node \"x\" failed: boom");
  text = http_get(http.port(), "/readyz?verbose");
  CHECK(text.status == 503);
  CHECK_THAT(text.body, Contains("[-]pipeline demo failed: node \"x\" failed: boom\n"));
  json = http_get(http.port(), "/health/ready");
  CHECK(json.status == 503);
  CHECK(parse_json(json.body)["checks"][1]["reason"] == "node \"x\" failed: boom");

  // A sick pipeline does not make the process dead.
  CHECK(http_get(http.port(), "/livez").status == 200);
  CHECK(http_get(http.port(), "/health/live").status == 200);

  monitor.set_pipeline(0, "running", "");
  CHECK(http_get(http.port(), "/readyz").status == 200);
  CHECK(http_get(http.port(), "/health/ready").status == 200);
}

TEST_CASE("a provider that times out makes the process not live, and /metrics 503") {
  // The provider owns the timeout; what reaches the server is its nullopt.
  std::atomic<int> calls{0};
  HttpEndpoints http("127.0.0.1", 0, [&]() -> std::optional<MetricsSnapshot> {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return std::nullopt;
  });

  auto text = http_get(http.port(), "/livez");
  CHECK(text.status == 503);
  CHECK(text.body ==
        "[-]monitor failed: no metrics snapshot within the provider's timeout\n"
        "livez check failed\n");
  CHECK(http_get(http.port(), "/livez?verbose").body == text.body);

  const auto live = http_get(http.port(), "/health/live");
  CHECK(live.status == 503);
  CHECK(parse_json(live.body) == nlohmann::json::parse(R"({"status":"DOWN","checks":[
      {"name":"monitor","status":"DOWN",
       "reason":"no metrics snapshot within the provider's timeout"}]})"));

  CHECK(http_get(http.port(), "/readyz").status == 503);
  CHECK(http_get(http.port(), "/health/ready").status == 503);

  const auto metrics = http_get(http.port(), "/metrics");
  CHECK(metrics.status == 503);
  CHECK_THAT(metrics.body, Contains("did not answer in time"));
  CHECK(calls == 6);
}

TEST_CASE("liveness comes back when the provider answers again") {
  FakeMonitor monitor(std::nullopt);
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());
  CHECK(http_get(http.port(), "/health/live").status == 503);
  monitor.set(healthy_snapshot());
  CHECK(http_get(http.port(), "/health/live").status == 200);
  CHECK(http_get(http.port(), "/metrics").status == 200);
}

TEST_CASE("a provider that throws counts as one that did not answer") {
  HttpEndpoints http("127.0.0.1", 0, []() -> std::optional<MetricsSnapshot> {
    throw std::runtime_error("monitor gone");
  });
  CHECK(http_get(http.port(), "/livez").status == 503);
  CHECK(http_get(http.port(), "/metrics").status == 503);
  // The server survives it.
  CHECK(http_get(http.port(), "/health/ready").status == 503);
}

TEST_CASE("unknown paths get a 404 listing the endpoints") {
  FakeMonitor monitor(healthy_snapshot());
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());
  for (const char* path : {"/", "/metricz", "/health", "/health/", "/livez/extra", "/index.html"}) {
    INFO(path);
    const auto reply = http_get(http.port(), path);
    CHECK(reply.status == 404);
    for (const char* endpoint :
         {"/metrics", "/livez", "/readyz", "/health/live", "/health/ready"}) {
      CHECK_THAT(reply.body, Contains(endpoint));
    }
  }
  // Asking for a 404 costs no snapshot.
  CHECK(monitor.calls() == 0);
}

TEST_CASE("HEAD gets the headers only; other methods are refused") {
  FakeMonitor monitor(healthy_snapshot());
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());

  const auto head = http_request("127.0.0.1", http.port(), "/readyz?verbose", "HEAD");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.headers.at("content-length") ==
        std::to_string(http_get(http.port(), "/readyz?verbose").body.size()));

  const auto post = http_request("127.0.0.1", http.port(), "/metrics", "POST");
  CHECK(post.status == 405);
  CHECK(post.headers.at("allow") == "GET, HEAD");
}

TEST_CASE("JSON stays valid when a reason holds bytes that are not UTF-8") {
  auto snapshot = healthy_snapshot();
  snapshot.pipelines[0] = {"demo", "failed", "bad byte \xff in \"x\"\n"};
  FakeMonitor monitor(snapshot);
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());
  const auto reply = http_get(http.port(), "/health/ready");
  CHECK(reply.status == 503);
  CHECK(parse_json(reply.body)["checks"][1]["reason"] == "bad byte \xef\xbf\xbd in \"x\"\n");
}

TEST_CASE("concurrent requests are all answered") {
  FakeMonitor monitor(rich_snapshot());
  HttpEndpoints http("127.0.0.1", 0, monitor.provider());
  std::vector<std::future<int>> replies;
  for (int i = 0; i < 16; ++i) {
    const char* path = i % 2 ? "/metrics" : "/health/ready";
    replies.push_back(std::async(std::launch::async,
                                 [&http, path] { return http_get(http.port(), path).status; }));
  }
  for (int i = 0; i < 16; ++i) CHECK(replies[i].get() == (i % 2 ? 200 : 503));
}

TEST_CASE("the server listens on the given address only") {
  FakeMonitor monitor(healthy_snapshot());
  // All of 127/8 is loopback on Linux: a server on 127.0.0.2 must not be
  // reachable on 127.0.0.1, which it would be if it bound every address.
  HttpEndpoints http("127.0.0.2", 0, monitor.provider());
  CHECK(http_request("127.0.0.2", http.port(), "/livez").status == 200);

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(http.port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0);
  close(fd);
}

TEST_CASE("a port in use is an error naming HOST:PORT") {
  Squatter squatter;
  FakeMonitor monitor(healthy_snapshot());
  const std::string where = "127.0.0.1:" + std::to_string(squatter.port());
  try {
    HttpEndpoints http("127.0.0.1", squatter.port(), monitor.provider());
    FAIL("started on a port in use");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), StartsWith("cannot serve HTTP on " + where + ": "));
    CHECK_THAT(e.what(), Contains("Address already in use"));
  }
}

TEST_CASE("an address that cannot be bound is an error naming it") {
  FakeMonitor monitor(healthy_snapshot());
  for (const char* host : {"192.0.2.1", "999.1.1.1", "not a host"}) {
    INFO(host);
    try {
      HttpEndpoints http(host, 0, monitor.provider());
      FAIL("started on " << host);
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), StartsWith(std::string("cannot serve HTTP on ") + host + ":0: "));
    }
  }
  // Debian's civetweb is built without IPv6; either way the answer is clear.
  try {
    HttpEndpoints http("::1", 0, monitor.provider());
    CHECK(http.port() != 0);
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), StartsWith("cannot serve HTTP on [::1]:0: "));
  }
  CHECK_THROWS_WITH(HttpEndpoints("", 8080, monitor.provider()),
                    "cannot serve HTTP on :8080: empty host");
  CHECK_THROWS_AS(HttpEndpoints("127.0.0.1", 0, nullptr), std::invalid_argument);
}
