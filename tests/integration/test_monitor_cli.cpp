// `streamlab monitor` and `run --monitor/--http` against a real `streamlab
// run` process: the snapshot crosses a process boundary, the HTTP endpoints
// are read through plain sockets, and every way of not answering (nothing
// listening, a foreign port, a stopped process) ends in the same clear
// error within seconds. Every child process is bounded in time and is ended
// by its PID on every path out of a test.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <regex>
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

// A source as fast as credits allow into a node that takes 20 ms a frame:
// the edge into "pace" stays full, the one out of it stays empty.
constexpr const char* kSlowPipeline = R"({"name":"monitor_demo","nodes":[
    {"id":"tone","type":"sine","config":{"frequency":440}},
    {"id":"pace","type":"fault","config":{"delay_ms":20}},
    {"id":"sink","type":"null_sink"}],
  "connections":[{"from":"tone","to":"pace"},{"from":"pace","to":"sink"}]})";

const nlohmann::json* find_edge(const nlohmann::json& doc, const std::string& from,
                                const std::string& to) {
  for (const auto& e : doc["edges"])
    if (e["from"] == from && e["to"] == to) return &e;
  return nullptr;
}

// The pipeline has started and its slow node's input has filled up.
bool settled(const nlohmann::json& doc) {
  if (doc["nodes"].size() != 3) return false;
  for (const auto& n : doc["nodes"])
    if (n["state"] != "running") return false;
  const auto* in = find_edge(doc, "tone", "pace");
  return in && (*in)["occupancy"].get<double>() >= 0.9 * (*in)["capacity"].get<double>();
}

}  // namespace

TEST_CASE("monitor and HTTP endpoints of a running pipeline", "[integration][monitor]") {
  ScratchDir dir;
  dir.write("slow.json", kSlowPipeline);
  Child run(dir,
            {"run", "slow.json", "--quiet", "--monitor", "127.0.0.1:0", "--http", "127.0.0.1:0"},
            "run");
  const auto monitor_port = run.wait_for_port(R"(monitor listening on 127\.0\.0\.1:(\d+))");
  const auto http_port = run.wait_for_port(R"(HTTP endpoints on http://127\.0\.0\.1:(\d+))");
  const std::string connect = "monitor --connect 127.0.0.1:" + std::to_string(monitor_port);
  // Generous where the test is not about time: a Debug build on a loaded
  // machine is slow to start and to answer.
  const std::string patient = connect + " --timeout 10";

  // The ports are announced before the pipeline starts: ask until it has.
  nlohmann::json doc;
  Timed json;
  for (const auto end = Clock::now() + kStartLimit; Clock::now() < end;) {
    json = run_bounded(dir, patient + " --json");
    if (json.outcome.status == 0) {
      doc = nlohmann::json::parse(json.outcome.out);
      if (settled(doc)) break;
    }
    std::this_thread::sleep_for(200ms);
  }
  INFO(json.outcome.err);
  REQUIRE(json.outcome.status == 0);
  INFO(doc.dump(2));
  REQUIRE(doc["nodes"].size() == 3);
  for (const auto& n : doc["nodes"]) {
    CHECK(n["pipeline"] == "monitor_demo");
    CHECK(n["state"] == "running");
    CHECK(n.contains("latency_us"));
    CHECK(n.contains("queue"));
  }
  const auto* into_pace = find_edge(doc, "tone", "pace");
  REQUIRE(into_pace);
  CHECK((*into_pace)["occupancy"].get<double>() >= 0.9 * (*into_pace)["capacity"].get<double>());
  CHECK((*into_pace)["pipeline"] == "monitor_demo");
  REQUIRE(doc["pipelines"].size() == 1);
  CHECK(doc["pipelines"][0]["name"] == "monitor_demo");
  CHECK(doc["pipelines"][0]["state"] == "running");
  CHECK(doc["process"]["name"] == "local");
  CHECK(doc["process"]["rss_bytes"].get<std::uint64_t>() > 0);

  {  // the table names the bottleneck
    const Timed table = run_bounded(dir, patient);
    INFO(table.outcome.out << table.outcome.err);
    CHECK(table.outcome.status == 0);
    CHECK_THAT(table.outcome.out, Catch::Contains("pipeline \"monitor_demo\" running"));
    CHECK_THAT(table.outcome.out,
               Catch::Contains("bottleneck: node \"pace\" (pipeline monitor_demo)"));
    // Its consumer keeps up, even though pace's output edge may look full
    // from pace's side.
    CHECK_THAT(table.outcome.out, !Catch::Contains("bottleneck: node \"sink\""));
    // pace's row: its input is backpressured, and it passes ~50 frames/s.
    std::smatch row;
    const std::string out = table.outcome.out;
    REQUIRE(std::regex_search(
        out, row, std::regex(R"(monitor_demo\s+pace\s+running\s+\d+\s+([0-9.]+)\s.*\bBP\b)")));
    CHECK(std::stod(row[1]) > 10);
    CHECK(std::stod(row[1]) < 100);
    // The sink keeps up: its input is not marked, however full pace's
    // stale view of that edge is.
    CHECK_FALSE(std::regex_search(out, std::regex(R"(monitor_demo\s+sink\s+running[^\n]*\bBP\b)")));
  }

  {  // HTTP, read through a plain socket
    const HttpReply metrics = http_get(http_port, "/metrics");
    CHECK(metrics.status == 200);
    CHECK_THAT(metrics.body, Catch::Contains("streamlab_node_frames_in_total"));
    // The real exposition: promtool finds no problem at all (warnings
    // included), and pace's 20 ms steps are counted in the histogram above
    // 10 ms (a loaded machine may oversleep, so not all at most 25 ms).
    const auto lint = promtool_check_metrics(metrics.body);
    INFO(lint.output);
    CHECK(lint.exit_status == 0);
    CHECK(lint.output.empty());
    const std::string pace = R"(node="pace",pipeline="monitor_demo",process="local")";
    auto value_of = [&](const std::string& series) {
      const auto at = metrics.body.find(series + " ");
      REQUIRE(at != std::string::npos);
      return std::stod(metrics.body.substr(at + series.size() + 1));
    };
    const std::string bucket = "streamlab_node_processing_seconds_bucket{" + pace;
    const double steps = value_of("streamlab_node_processing_seconds_count{" + pace + "}");
    CHECK(steps > 0);
    CHECK(value_of(bucket + R"(,le="0.01"})") == 0);
    CHECK(value_of(bucket + R"(,le="0.025"})") > 0);
    CHECK(value_of(bucket + R"(,le="+Inf"})") == steps);
    CHECK(value_of("streamlab_node_processing_seconds_sum{" + pace + "}") >= 0.02 * steps);
    CHECK_THAT(metrics.body, !Catch::Contains("latency_p99_seconds"));
    CHECK(http_get(http_port, "/health/ready").status == 200);
    CHECK(http_get(http_port, "/livez").status == 200);
  }

  {  // --watch refreshes until Ctrl-C, then exits 0
    Child watch(dir,
                {"monitor", "--connect", "127.0.0.1:" + std::to_string(monitor_port), "--watch",
                 "0.3", "--timeout", "10"},
                "watch");
    const auto until = Clock::now() + kStartLimit;
    auto refreshes = [&] {
      const std::string out = watch.out();
      std::size_t n = 0;
      for (auto at = out.find("\x1b[2J"); at != std::string::npos; at = out.find("\x1b[2J", at + 1))
        ++n;
      return n;
    };
    while (refreshes() < 2 && Clock::now() < until) std::this_thread::sleep_for(50ms);
    INFO(watch.out() << watch.err());
    REQUIRE(refreshes() >= 2);
    CHECK_THAT(watch.out(), Catch::Contains("bottleneck: node \"pace\""));
    watch.signal(SIGINT);
    CHECK(watch.wait_for(5s) == 0);
  }

  {  // a stopped process
    // The kernel still accepts connections for a stopped process; only a
    // timeout can tell.
    run.signal(SIGSTOP);
    const Timed stopped = run_bounded(dir, connect + " --json");
    run.signal(SIGCONT);
    INFO(stopped.outcome.err);
    CHECK(stopped.outcome.status == 1);
    CHECK_THAT(stopped.outcome.err,
               Catch::Contains("cannot reach a StreamLab monitor at 127.0.0.1:" +
                               std::to_string(monitor_port) + ": "));
    CHECK(stopped.seconds < 5);
    // ...and once it runs again, it answers again.
    bool answers = false;
    for (const auto until = Clock::now() + 10s; !answers && Clock::now() < until;)
      answers = run_bounded(dir, patient + " --json").outcome.status == 0;
    CHECK(answers);
  }

  run.signal(SIGINT);
  const auto status = run.wait_for(kExitLimit);
  INFO(run.err());
  CHECK(status == 0);
}

TEST_CASE("monitor --connect where no monitor answers fails within seconds",
          "[integration][monitor]") {
  ScratchDir dir;
  SECTION("nothing listens") {
    const Timed t = run_bounded(dir, "monitor --connect 127.0.0.1:1");
    INFO(t.outcome.err);
    CHECK(t.outcome.status == 1);
    CHECK_THAT(
        t.outcome.err,
        Catch::Contains("cannot reach a StreamLab monitor at 127.0.0.1:1: connection refused"));
    CHECK(t.outcome.out.empty());
    CHECK(t.seconds < 5);
  }
  SECTION("the port is not a StreamLab monitor's") {
    SilentListener foreign;
    const Timed t =
        run_bounded(dir, "monitor --json --connect 127.0.0.1:" + std::to_string(foreign.port));
    INFO(t.outcome.err);
    CHECK(t.outcome.status == 1);
    CHECK_THAT(t.outcome.err, Catch::Contains("cannot reach a StreamLab monitor at 127.0.0.1:" +
                                              std::to_string(foreign.port) + ": "));
    CHECK(t.seconds < 5);
  }
  SECTION("an unknown host") {
    const Timed t = run_bounded(dir, "monitor --connect no-such-host.invalid:4000");
    INFO(t.outcome.err);
    CHECK(t.outcome.status == 1);
    CHECK_THAT(t.outcome.err,
               Catch::Contains("cannot reach a StreamLab monitor at no-such-host.invalid:4000: "));
    CHECK(t.seconds < 5);
  }
}

TEST_CASE("addresses are checked before anything starts", "[integration][monitor]") {
  ScratchDir dir;
  dir.write("slow.json", kSlowPipeline);
  struct Case {
    std::string args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"run slow.json --http abc", "--http: expected HOST:PORT, got 'abc'"},
      {"run slow.json --monitor 127.0.0.1:65536",
       "--monitor: expected HOST:PORT with a port from 0 to 65535, got '127.0.0.1:65536'"},
      {"run slow.json --monitor :4000", "--monitor: expected HOST:PORT with a host, got ':4000'"},
      {"monitor --connect 127.0.0.1:0",
       "--connect: expected HOST:PORT with a port from 1 to 65535"},
      {"monitor --connect 127.0.0.1:4000 --json --watch 1", "--json excludes --watch"},
      {"monitor", "--connect is required"},
  };
  for (const auto& c : cases) {
    const Timed t = run_bounded(dir, c.args);
    INFO(c.args << "\n" << t.outcome.err);
    CHECK(t.outcome.status == 1);
    CHECK_THAT(t.outcome.err, Catch::Contains(c.error));
  }
}

TEST_CASE("a port in use is refused with its address, and nothing starts",
          "[integration][monitor]") {
  ScratchDir dir;
  dir.write("slow.json", kSlowPipeline);
  SilentListener taken;
  const std::string at = "127.0.0.1:" + std::to_string(taken.port);
  for (const std::string option : {"--monitor", "--http"}) {
    const Timed t = run_bounded(dir, "run slow.json " + option + " " + at);
    INFO(t.outcome.err);
    CHECK(t.outcome.status == 1);
    CHECK_THAT(t.outcome.err, Catch::Contains(at) && Catch::Contains("nothing was started"));
    CHECK(t.seconds < 10);
  }
}

TEST_CASE("readiness turns DOWN, with the reason, when a node fails for good",
          "[integration][monitor][health]") {
  ScratchDir dir;
  // One branch keeps the pipeline running; the other has a node that fails
  // on its first frame and may not restart.
  dir.write("failing.json", R"({"name":"half_broken","nodes":[
      {"id":"tone","type":"sine","config":{"frame_size":256}},
      {"id":"pace","type":"fault","config":{"delay_ms":10}},
      {"id":"fine","type":"null_sink"},
      {"id":"broken","type":"fault","config":{"fail_every":1},"supervision":{"restart":"never"}},
      {"id":"lost","type":"null_sink"}],
    "connections":[{"from":"tone","to":"pace"},{"from":"pace","to":"fine"},
                   {"from":"tone","to":"broken"},{"from":"broken","to":"lost"}]})");
  Child run(dir, {"run", "failing.json", "--quiet", "--http", "127.0.0.1:0"}, "run");
  const auto http_port = run.wait_for_port(R"(HTTP endpoints on http://127\.0\.0\.1:(\d+))");

  HttpReply ready;
  for (const auto until = Clock::now() + 10s; Clock::now() < until;) {
    ready = http_get(http_port, "/health/ready");
    if (ready.status == 503) break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(ready.body);
  CHECK(ready.status == 503);
  CHECK_THAT(ready.body,
             Catch::Contains("DOWN") && Catch::Contains("degraded") && Catch::Contains("broken"));
  HttpReply verbose = http_get(http_port, "/readyz?verbose");
  CHECK(verbose.status == 503);
  CHECK_THAT(verbose.body, Catch::Contains("[-]pipeline half_broken"));
  CHECK(http_get(http_port, "/health/live").status == 200);  // degraded, but alive

  run.signal(SIGINT);
  const auto status = run.wait_for(kExitLimit);
  INFO(run.err());
  CHECK(status == 2);  // the run ended degraded
}

TEST_CASE("a member's /metrics keeps an ended pipeline's final series", "[integration][monitor]") {
  ScratchDir dir;
  Child member(dir, {"node", "--name", "m", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"},
               "member");
  const auto port = member.wait_for_port(R"(member "m" listening on 127\.0\.0\.1:(\d+))");
  const auto http_port = member.wait_for_port(R"(HTTP endpoints on http://127\.0\.0\.1:(\d+))");
  // Over in a moment: it starts and ends between two scrapes.
  dir.write("quick.json", R"({"name":"quick","nodes":[
      {"id":"src","type":"sine","config":{"num_frames":50}},{"id":"sink","type":"null_sink"}],
    "connections":[{"from":"src","to":"sink"}]})");
  const Timed deployed =
      run_bounded(dir, "deploy quick.json --wait --cluster 127.0.0.1:" + std::to_string(port), 60);
  INFO(deployed.outcome.out << deployed.outcome.err);
  REQUIRE(deployed.outcome.status == 0);

  const HttpReply metrics = http_get(http_port, "/metrics");
  REQUIRE(metrics.status == 200);
  INFO(metrics.body);
  CHECK(std::regex_search(metrics.body,
                          std::regex(R"(streamlab_node_frames_in_total\{[^}]*node="sink"[^}]*)"
                                     R"(pipeline="quick"[^}]*\} 50\b)")));
  CHECK(std::regex_search(
      metrics.body,
      std::regex(
          R"(streamlab_pipeline_state\{[^}]*pipeline="quick"[^}]*state="finished"[^}]*\} 1)")));
}
