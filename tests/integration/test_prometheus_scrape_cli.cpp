// The real Prometheus server (Debian's `prometheus`) scraping a 3-member
// cluster on loopback with the shipped set-up (deploy/prometheus/prometheus.yml
// with the members' --http addresses filled in, and the shipped rules): every
// member is a target that is up, and the latency histograms add up across
// members in histogram_quantile. Every process is ended by its PID.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
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

const std::string kDeploy = std::string(STREAMLAB_SOURCE_DIR) + "/deploy/prometheus";

// A process that is not streamlab, ended by its PID (SIGKILL) on every path.
class Server {
 public:
  Server(const ScratchDir& dir, std::vector<std::string> argv, const std::string& name)
      : log_(dir.file(name + ".log")) {
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const int out = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(99);
      execvp(raw[0], raw.data());
      _exit(98);
    }
  }
  ~Server() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  std::string log() const { return slurp(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

std::string url_encode(const std::string& text) {
  std::ostringstream out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out << c;
    } else {
      static const char* hex = "0123456789ABCDEF";
      out << '%' << hex[c >> 4] << hex[c & 15];
    }
  }
  return out.str();
}

// The result vector of an instant query (empty when Prometheus does not answer yet).
nlohmann::json query(std::uint16_t port, const std::string& promql) {
  HttpReply reply;
  try {
    reply = http_get(port, "/api/v1/query?query=" + url_encode(promql));
  } catch (const std::exception&) {  // not listening yet
    return nlohmann::json::array();
  }
  if (reply.status != 200) return nlohmann::json::array();
  const auto doc = nlohmann::json::parse(reply.body, nullptr, false);
  if (doc.is_discarded() || doc.value("status", "") != "success") return nlohmann::json::array();
  return doc["data"]["result"];
}

// The shipped config, with its example targets replaced by the members' addresses.
std::string scrape_config(const std::vector<std::uint16_t>& http_ports) {
  std::string text = slurp(kDeploy + "/prometheus.yml");
  const std::regex example(R"(127\.0\.0\.1:910([123]))");
  std::string out;
  std::size_t last = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), example);
       it != std::sregex_iterator(); ++it) {
    const int index = std::stoi((*it)[1]) - 1;
    out += text.substr(last, it->position() - last);
    out += "127.0.0.1:" + std::to_string(http_ports.at(index));
    last = it->position() + it->length();
  }
  return out + text.substr(last);
}

}  // namespace

TEST_CASE("Prometheus scrapes every member and aggregates latency histograms across them",
          "[integration][cluster][prometheus]") {
  if (std::system("command -v prometheus >/dev/null 2>&1") != 0)
    FAIL("prometheus not found: run scripts/setup.sh --test (Debian package prometheus)");
  ScratchDir dir;
  std::vector<std::unique_ptr<Child>> members;
  std::vector<std::uint16_t> member_ports, http_ports;
  const std::vector<std::string> names = {"a", "b", "c"};
  for (const auto& name : names) {
    std::vector<std::string> args{"node",        "--name", name,         "--listen",
                                  "127.0.0.1:0", "--http", "127.0.0.1:0"};
    if (!member_ports.empty()) {
      args.push_back("--join");
      args.push_back("127.0.0.1:" + std::to_string(member_ports.front()));
    }
    members.push_back(std::make_unique<Child>(dir, args, "member-" + name));
    member_ports.push_back(
        members.back()->wait_for_port("member \"" + name + R"(" listening on 127\.0\.0\.1:(\d+))"));
    http_ports.push_back(
        members.back()->wait_for_port(R"(HTTP endpoints on http://127\.0\.0\.1:(\d+))"));
  }
  // One pipeline deployed through each member (a member serves the pipelines
  // deployed through it), each spread over all three: a live source (~47
  // frames/s) and a node that takes 5 ms a frame, on a different member for
  // each pipeline. (All three slow nodes on one member kept its two worker
  // threads asleep in them, and its /metrics then missed Prometheus's
  // timeout: a blocking node starves its member.)
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string name = "chain_" + names[i];
    dir.write(name + ".json", R"({"name":")" + name + R"(","nodes":[
        {"id":"src","type":"sine","config":{"realtime":true},"on":"a"},
        {"id":"pace","type":"fault","config":{"delay_ms":5},"on":")" +
                                  names[i] + R"("},
        {"id":"sink","type":"null_sink","on":"c"}],
      "connections":[{"from":"src","to":"pace"},{"from":"pace","to":"sink"}]})");
    const Timed deployed = run_bounded(
        dir, "deploy " + name + ".json --cluster 127.0.0.1:" + std::to_string(member_ports[i]));
    INFO(deployed.outcome.err);
    REQUIRE(deployed.outcome.status == 0);
  }

  dir.write("prometheus.yml", scrape_config(http_ports));
  std::ofstream(dir.file("streamlab-rules.yml")) << slurp(kDeploy + "/streamlab-rules.yml");
  std::uint16_t prometheus_port = 0;
  {  // a free port, released just before Prometheus binds it
    SilentListener probe;
    prometheus_port = probe.port;
  }
  Server prometheus(dir,
                    {"prometheus", "--config.file=" + dir.file("prometheus.yml"),
                     "--storage.tsdb.path=" + dir.file("tsdb"),
                     "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
                    "prometheus");

  const std::string p99 =
      "histogram_quantile(0.99, sum by (le, pipeline, node) "
      "(rate(streamlab_node_processing_seconds_bucket[10s])))";
  nlohmann::json up, threads, quantiles;
  auto pace_p99 = [&] {
    std::map<std::string, double> out;
    for (const auto& q : quantiles) {
      const double value = std::stod(q["value"][1].get<std::string>());
      if (q["metric"]["node"] == "pace" && std::isfinite(value))
        out[q["metric"]["pipeline"].get<std::string>()] = value;
    }
    return out;
  };
  auto done = [&] {
    // Over a few seconds: on a loaded machine a member's snapshot can miss
    // the 1 s scrape timeout now and then, and a failed scrape marks that
    // target's series stale until the next one.
    up = query(prometheus_port, R"(max_over_time(up{job="streamlab"}[10s]) == 1)");
    threads = query(prometheus_port, "last_over_time(streamlab_process_threads[10s])");
    quantiles = query(prometheus_port, p99);
    return up.size() == 3 && threads.size() == 3 && pace_p99().size() == 3;
  };
  const auto started = Clock::now();
  while (!done() && Clock::now() - started < 60s) std::this_thread::sleep_for(1s);
  // ...and keeps scraping every member, every 2 s, for about 20 s.
  while (Clock::now() - started < 20s) std::this_thread::sleep_for(500ms);
  const auto scrapes = query(prometheus_port, R"(count_over_time(up{job="streamlab"}[15s]))");
  INFO(scrapes.dump() << "\n" << up.dump() << "\n" << threads.dump() << "\n" << quantiles.dump());
  CHECK(scrapes.size() == 3);
  for (const auto& s : scrapes) CHECK(std::stod(s["value"][1].get<std::string>()) >= 5);
  for (const auto again = Clock::now(); !done() && Clock::now() - again < 30s;)
    std::this_thread::sleep_for(1s);
  INFO(prometheus.log().substr(0, 4000));
  INFO(up.dump() << "\n" << threads.dump() << "\n" << quantiles.dump());
  // One series per member, each up.
  REQUIRE(up.size() == 3);
  std::set<std::string> processes;
  for (const auto& s : threads) processes.insert(s["metric"]["process"].get<std::string>());
  CHECK(processes == std::set<std::string>{"a", "b", "c"});
  // The cross-member p99: a series per pipeline and node, and pace's is
  // its 5 ms delay, seen through the 5-10 ms bucket.
  REQUIRE_FALSE(quantiles.empty());
  const auto p99s = pace_p99();
  for (const auto& [pipeline, value] : p99s) {
    INFO(pipeline);
    CHECK(value > 0.005);
    CHECK(value <= 0.1);
  }
  CHECK(p99s.size() == 3);
}
