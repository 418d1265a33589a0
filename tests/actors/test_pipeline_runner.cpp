// The pipeline runner with real actors on a real scheduler (no network):
// flow control, fan-out sharing, end of stream, accounting, stopping.

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "actors/messages.hpp"
#include "actors/pipeline_runner.hpp"
#include "tests/actors/actor_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

TEST_CASE("a linear pipeline delivers exactly --frames frames, in order", "[actors]") {
  auto log = log_for("linear");
  auto spec = spec_from(R"({"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64}},
      {"id":"amp","type":"gain","config":{"gain":0.5}},
      {"id":"out","type":"probe","config":{"tag":"linear"}}],
    "connections":[{"from":"src","to":"amp"},{"from":"amp","to":"out"}]})");
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(500));
  REQUIRE(r.started);
  CHECK_FALSE(r.forced);
  CHECK(row(r, "src").frames_out == 500);
  CHECK(row(r, "amp").frames_in == 500);
  CHECK(row(r, "amp").frames_out == 500);
  CHECK(row(r, "out").frames_in == 500);
  for (const auto& n : r.nodes) CHECK(n.state == "finished");
  REQUIRE(log->seqs.size() == 500);
  for (std::uint64_t i = 0; i < 500; ++i) REQUIRE(log->seqs[i] == i);
}

TEST_CASE("fan-out to four consumers shares one buffer per frame", "[actors][zero-copy]") {
  std::string nodes = R"({"id":"src","type":"sine","config":{"frame_size":256}})";
  std::string connections;
  for (int i = 0; i < 4; ++i) {
    nodes += R"(,{"id":"c)" + std::to_string(i) + R"(","type":"probe","config":{"tag":"fan)" +
             std::to_string(i) + R"("}})";
    connections +=
        std::string(i ? "," : "") + R"({"from":"src","to":"c)" + std::to_string(i) + R"("})";
  }
  auto spec = spec_from(R"({"nodes":[)" + nodes + R"(],"connections":[)" + connections + "]}");
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(200));
  REQUIRE(r.started);
  auto first = log_for("fan0");
  REQUIRE(first->buffers.size() == 200);
  for (int i = 1; i < 4; ++i) {
    auto other = log_for("fan" + std::to_string(i));
    REQUIRE(other->buffers.size() == 200);
    CHECK(other->seqs == first->seqs);
    // Same block for the same frame on every branch: shared, not copied.
    CHECK(other->buffers == first->buffers);
  }
}

TEST_CASE("a fast source into a slow sink keeps every edge within its capacity",
          "[actors][flow-control]") {
  auto spec = spec_from(R"({"pipeline_config":{"channel_capacity":4},
    "nodes":[
      {"id":"src","type":"sine","config":{"frame_size":128}},
      {"id":"slow","type":"fault","config":{"delay_ms":2}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"slow"},{"from":"slow","to":"out","capacity":2}]})");
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(150));
  REQUIRE(r.started);
  REQUIRE(r.edges.size() == 2);
  for (const auto& e : r.edges) {
    INFO(e.from << " -> " << e.to);
    CHECK(e.max_occupancy <= e.capacity);
    CHECK(e.frames == 150);
  }
  // The source had to wait: its edge filled up to the capacity.
  CHECK(row(r, "slow").queue_max_occupancy == 4);
  CHECK(row(r, "slow").queue_capacity == 4);
  // Non-live sources wait rather than drop.
  for (const auto& n : r.nodes) CHECK(dropped_total(n) == 0);
  CHECK(row(r, "out").frames_in == 150);
}

TEST_CASE("the pool stops allocating once the pipeline is warm", "[actors][allocation]") {
  BufferPool pool;
  auto log = log_for("warm");
  auto spec = spec_from(R"({"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":1024}},
      {"id":"amp","type":"gain","config":{"gain":2}},
      {"id":"out","type":"probe","config":{"tag":"warm","warmup":1000}}],
    "connections":[{"from":"src","to":"amp"},{"from":"amp","to":"out"}]})");
  RunOptions options = options_with_frames(11000);
  options.pool = &pool;
  RunResult r = run_pipeline(spec, test_registry(), options);
  REQUIRE(r.started);
  REQUIRE(log->seqs.size() == 11000);
  // Buffers in use at once are bounded per edge by its capacity (the
  // default 32) plus the batch message its consumer is still handling (it
  // holds its frames until the handler returns, after the credits it sent
  // have let the producer make more), plus one being made per node. So the
  // pool allocates at most that many, however long the run: nearly all of
  // them during the first 1000 frames, and every one of the 22000 buffers
  // after comes back. (69 were seen against a bound that forgot the batch.)
  constexpr std::uint64_t kInUseBound = 2 * (32 + FrameBatch::kMaxFrames) + 3;
  CHECK(log->misses_after_warmup > 0);
  CHECK(pool.stats().misses <= kInUseBound);
  CHECK(pool.stats().hits >= 2 * 11000 - pool.stats().misses);
}

TEST_CASE("mix aligns two sources by sequence number", "[actors][mix]") {
  auto log = log_for("mixed");
  auto spec = spec_from(R"({"nodes":[
      {"id":"a","type":"sine","config":{"frequency":100,"frame_size":32}},
      {"id":"b","type":"sine","config":{"frequency":100,"frame_size":32}},
      {"id":"m","type":"mix"},
      {"id":"out","type":"probe","config":{"tag":"mixed"}}],
    "connections":[{"from":"a","to":"m"},{"from":"b","to":"m","capacity":3},{"from":"m","to":"out"}]})");
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(300));
  REQUIRE(r.started);
  CHECK(row(r, "m").frames_in == 600);
  CHECK(row(r, "m").frames_out == 300);
  REQUIRE(log->seqs.size() == 300);
  for (std::uint64_t i = 0; i < 300; ++i) REQUIRE(log->seqs[i] == i);
}

TEST_CASE("skipped frames are counted and the stream flows on", "[actors][errors]") {
  auto spec = spec_from(R"({"nodes":[
      {"id":"src","type":"sine"},
      {"id":"flaky","type":"fault","config":{"fail_every":10},"supervision":{"on_error":"skip"}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"flaky"},{"from":"flaky","to":"out"}]})");
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(200));
  REQUIRE(r.started);
  const auto& flaky = row(r, "flaky");
  CHECK(flaky.errors == 20);
  CHECK(flaky.skipped == 20);
  CHECK(flaky.restarts == 0);
  CHECK(flaky.frames_in == flaky.frames_out + flaky.skipped);
  CHECK(row(r, "out").frames_in == 180);
  CHECK_THAT(flaky.last_error, Catch::Contains("seq 199"));
}

TEST_CASE("an interrupt drains the pipeline without losing a frame", "[actors][stop]") {
  auto spec = spec_from(R"({"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64}},
      {"id":"slow","type":"fault","config":{"delay_ms":1}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"slow"},{"from":"slow","to":"out"}]})");
  std::atomic<int> interrupts{0};
  RunOptions options;
  options.threads = 2;
  options.interrupts = &interrupts;
  std::thread ctrl_c([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    interrupts = 1;
  });
  RunResult r = run_pipeline(spec, test_registry(), options);
  ctrl_c.join();
  REQUIRE(r.started);
  CHECK_FALSE(r.forced);
  const auto produced = row(r, "src").frames_out;
  CHECK(produced > 0);
  CHECK(row(r, "out").frames_in == produced);
  for (const auto& n : r.nodes) CHECK(dropped_total(n) == 0);
}

TEST_CASE("a forced stop accounts for every frame it discards", "[actors][stop]") {
  auto spec = spec_from(R"({"pipeline_config":{"channel_capacity":16},"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64}},
      {"id":"slow","type":"fault","config":{"delay_ms":20}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"slow"},{"from":"slow","to":"out"}]})");
  std::atomic<int> interrupts{0};
  RunOptions options;
  options.threads = 2;
  options.interrupts = &interrupts;
  std::thread ctrl_c([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    interrupts = 2;
  });
  RunResult r = run_pipeline(spec, test_registry(), options);
  ctrl_c.join();
  REQUIRE(r.started);
  CHECK(r.forced);
  const auto& src = row(r, "src");
  const auto& slow = row(r, "slow");
  const auto& out = row(r, "out");
  // Every frame the source emitted reached `slow` or is counted there.
  CHECK(slow.frames_in == src.frames_out);
  CHECK(slow.frames_in == slow.frames_out + dropped_total(slow));
  CHECK(dropped(slow, DropReason::shutdown) > 0);
  CHECK(out.frames_in == slow.frames_out);
}

TEST_CASE("a duration limit stops the sources after that time", "[actors][stop]") {
  auto spec = spec_from(R"({"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64}},
      {"id":"slow","type":"fault","config":{"delay_ms":1}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"slow"},{"from":"slow","to":"out"}]})");
  RunOptions options;
  options.threads = 2;
  options.duration_s = 0.3;
  RunResult r = run_pipeline(spec, test_registry(), options);
  REQUIRE(r.started);
  CHECK_FALSE(r.forced);
  CHECK(r.elapsed_s >= 0.3);
  CHECK(r.elapsed_s < 5.0);
  CHECK(row(r, "out").frames_in == row(r, "src").frames_out);
}

TEST_CASE("a source that ends its own stream delivers its last frame", "[actors]") {
  auto log = log_for("self_ending");
  auto spec = spec_from(R"({"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64,"num_frames":37}},
      {"id":"out","type":"probe","config":{"tag":"self_ending"}}],
    "connections":[{"from":"src","to":"out"}]})");
  RunResult r = run_pipeline(spec, test_registry(), RunOptions{});
  REQUIRE(r.started);
  CHECK(row(r, "src").frames_out == 37);
  CHECK(row(r, "out").frames_in == 37);
  REQUIRE(log->seqs.size() == 37);
  CHECK(log->seqs.back() == 36);
}

TEST_CASE("a pipeline over its memory bound fails cleanly, naming the edge", "[actors][memory]") {
  auto spec = spec_from(R"({"pipeline_config":{"channel_capacity":8,"max_memory_bytes":100000},
    "nodes":[
      {"id":"src","type":"sine","config":{"frame_size":4096}},
      {"id":"slow","type":"fault","config":{"delay_ms":5}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"slow"},{"from":"slow","to":"out"}]})");
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(200));
  REQUIRE(r.started);
  CHECK(r.state == "failed");
  CHECK_THAT(r.state_reason,
             Catch::Contains("\"src\" -> \"slow\"") && Catch::Contains("max_memory_bytes 100000"));
  // 16 KiB frames: six fit under the bound, the seventh does not.
  CHECK(row(r, "src").frames_out + dropped_total(row(r, "src")) == 7);
  for (const auto& n : r.nodes) {
    if (n.node == "src") continue;  // a source receives nothing
    CHECK(n.frames_in == n.frames_out + n.skipped + n.dead_lettered + dropped_total(n));
  }
}
