// Live snapshots through the process monitor while a pipeline runs:
// states, queue occupancy, backpressure with hysteresis, where time goes.

#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <thread>

#include "actors/message_types.hpp"
#include "actors/monitor.hpp"
#include "tests/actors/actor_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

namespace {

const EdgeSnapshot* edge(const MetricsSnapshot& s, const std::string& from, const std::string& to) {
  for (const auto& e : s.edges)
    if (e.from == from && e.to == to) return &e;
  return nullptr;
}

const NodeSnapshot* node(const MetricsSnapshot& s, const std::string& id) {
  for (const auto& n : s.nodes)
    if (n.node == id) return &n;
  return nullptr;
}

}  // namespace

TEST_CASE("the monitor shows a running pipeline and where it is held up", "[actors][monitor]") {
  auto spec = spec_from(R"({"name":"watched","pipeline_config":{"channel_capacity":10},
    "nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64}},
      {"id":"slow","type":"fault","config":{"delay_ms":5}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"slow"},{"from":"slow","to":"out"}]})");
  std::optional<MetricsSnapshot> live;
  std::thread asker;
  RunOptions options;
  options.threads = 2;
  options.duration_s = 1.0;
  options.process_name = "test-process";
  options.on_start = [&](caf::actor_system& system, const caf::actor& monitor) {
    asker = std::thread([&system, monitor, &live] {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      live = query_snapshot(system, monitor, std::chrono::seconds(2));
    });
    return std::shared_ptr<void>(nullptr, [&](void*) { asker.join(); });
  };
  RunResult r = run_pipeline(spec, test_registry(), options);
  REQUIRE(r.started);
  REQUIRE(live);
  CHECK(live->process == "test-process");
  REQUIRE(live->pipelines.size() == 1);
  CHECK(live->pipelines[0].name == "watched");
  CHECK(live->pipelines[0].state == "running");
  REQUIRE(live->nodes.size() == 3);
  for (const auto& n : live->nodes) CHECK(n.state == "running");
  CHECK(live->figures.rss_bytes > 0);

  // The slow node holds its input edge full: backpressure on that edge,
  // none after it; the source spends its time waiting, the slow node working.
  const EdgeSnapshot* held = edge(*live, "src", "slow");
  const EdgeSnapshot* free = edge(*live, "slow", "out");
  REQUIRE(held);
  REQUIRE(free);
  CHECK(held->backpressured);
  CHECK(held->occupancy >= 9);
  CHECK(held->backpressure_episodes >= 1);
  INFO("slow->out occupancy " << free->occupancy << " max " << free->max_occupancy << " episodes "
                              << free->backpressure_episodes);
  CHECK_FALSE(free->backpressured);
  CHECK(node(*live, "slow")->queue_max_occupancy == 10);
  CHECK(node(*live, "slow")->busy_ms_per_s > 500);
  CHECK(node(*live, "src")->backpressured_ms_per_s > 500);
  CHECK(node(*live, "out")->idle_ms_per_s > 500);
  CHECK(node(*live, "out")->end_to_end_p50_us > 0);

  // After the run: every node finished, the pipeline too.
  for (const auto& n : r.nodes) CHECK(n.state == "finished");
  CHECK(r.state == "finished");
}

TEST_CASE("a monitor with no pipeline answers with the process alone", "[actors][monitor]") {
  caf::actor_system_config cfg;
  register_message_types(cfg);
  caf::actor_system system{cfg};
  caf::actor monitor = spawn_monitor(system, "idle");
  auto snapshot = query_snapshot(system, monitor, std::chrono::seconds(2));
  REQUIRE(snapshot);
  CHECK(snapshot->process == "idle");
  CHECK(snapshot->pipelines.empty());
  CHECK(snapshot->nodes.empty());
  caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
}
