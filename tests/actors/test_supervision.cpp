// Supervision with real actors and the `fault` node: every restart
// strategy under every error policy, and the accounting invariant
//   frames_in = frames_out + skipped + dead_lettered + dropped
// with each frame counted once, however often its node was restarted.

#include <catch2/catch.hpp>

#include <set>

#include "runtime/dead_letter_file.hpp"
#include "tests/actors/actor_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

namespace {

constexpr std::uint64_t kFrames = 10000;

// Restart settings per strategy, fast enough for a test; the intensity limit
// is out of reach unless a test is about it.
std::string restart_json(const std::string& strategy) {
  if (strategy == "exponential")
    return R"({"strategy":"exponential","base_ms":1,"max_ms":2,"jitter":0.2})";
  if (strategy == "circuit_breaker")
    return R"({"strategy":"circuit_breaker","failures":5,"window_ms":1000,"open_ms":20})";
  return R"({"strategy":")" + strategy + R"("})";
}

std::string pipeline(const std::string& fault_config, const std::string& strategy,
                     const std::string& policy, const std::string& tag,
                     const std::string& dead_letters) {
  return R"({"pipeline_config":{"channel_capacity":16,"dead_letter_path":")" + dead_letters +
         R"("},"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64}},
      {"id":"flaky","type":"fault","config":)" +
         fault_config + R"(,
       "supervision":{"restart":)" +
         restart_json(strategy) + R"(,"intensity":{"max_restarts":1000000,"within_ms":1000},
                      "on_error":")" +
         policy + R"(","retry":{"attempts":3,"backoff_ms":0}}},
      {"id":"out","type":"probe","config":{"tag":")" +
         tag + R"("}}],
    "connections":[{"from":"src","to":"flaky"},{"from":"flaky","to":"out"}]})";
}

struct ScratchFile {
  std::string path;
  explicit ScratchFile(const std::string& name) : path("/tmp/streamlab-test-" + name) {
    std::remove(path.c_str());
  }
  ~ScratchFile() { std::remove(path.c_str()); }
};

std::size_t dead_letters_in(const std::string& path) {
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    std::fclose(f);
  } else {
    return 0;
  }
  DeadLetterReader reader(path, BufferPool::process_pool());
  DeadLetter letter;
  std::size_t n = 0;
  while (reader.next(letter)) ++n;
  INFO(reader.error());
  CHECK(reader.error().empty());
  return n;
}

// Runs the pipeline and checks what must hold for any strategy and policy.
RunResult run_and_account(const std::string& fault_config, const std::string& strategy,
                          const std::string& policy) {
  std::string tag =
      strategy + "-" + policy + "-" + std::to_string(std::hash<std::string>{}(fault_config));
  ScratchFile dead_letters(tag);
  auto log = fresh_log(tag);
  auto spec = spec_from(pipeline(fault_config, strategy, policy, tag, dead_letters.path));
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(kFrames));
  INFO(tag << " " << fault_config);
  REQUIRE(r.started);
  const auto& flaky = row(r, "flaky");
  const auto& out = row(r, "out");
  INFO("in " << flaky.frames_in << " out " << flaky.frames_out << " skipped " << flaky.skipped
             << " dead " << flaky.dead_lettered << " dropped " << dropped_total(flaky) << " errors "
             << flaky.errors << " restarts " << flaky.restarts);
  CHECK(row(r, "src").frames_out == kFrames);
  CHECK(flaky.frames_in == kFrames);  // re-sent frames count once
  CHECK(flaky.frames_in ==
        flaky.frames_out + flaky.skipped + flaky.dead_lettered + dropped_total(flaky));
  CHECK(out.frames_in == flaky.frames_out);
  // The sink sees every frame at most once, in order, and misses exactly
  // the frames some node counted.
  REQUIRE(log->seqs.size() == out.frames_in);
  for (std::size_t i = 1; i < log->seqs.size(); ++i) REQUIRE(log->seqs[i - 1] < log->seqs[i]);
  CHECK(kFrames - log->seqs.size() == flaky.skipped + flaky.dead_lettered + dropped_total(flaky));
  CHECK(dead_letters_in(dead_letters.path) == flaky.dead_lettered);
  CHECK(r.dead_letters_written == flaky.dead_lettered);
  return r;
}

const char* kEvery97 = R"({"fail_every":97})";
const char* kOnePercent = R"({"fail_probability":0.01,"seed":11})";
const char* kTenPercent = R"({"fail_probability":0.1,"seed":12})";

}  // namespace

TEST_CASE("the skip and default and retry policies keep every frame accounted for",
          "[supervision]") {
  auto strategy =
      GENERATE(as<std::string>{}, "never", "immediate", "exponential", "circuit_breaker");
  auto schedule = GENERATE(as<std::string>{}, kEvery97, kOnePercent, kTenPercent);

  SECTION("skip") {
    RunResult r = run_and_account(schedule, strategy, "skip");
    const auto& flaky = row(r, "flaky");
    CHECK(flaky.skipped == flaky.errors);
    CHECK(flaky.restarts == 0);
    if (schedule == kEvery97) CHECK(flaky.skipped == kFrames / 97);
  }
  SECTION("default frame") {
    RunResult r = run_and_account(schedule, strategy, "default");
    const auto& flaky = row(r, "flaky");
    CHECK(flaky.frames_out == kFrames);
    CHECK(flaky.restarts == 0);
    if (schedule == kEvery97) CHECK(flaky.errors == kFrames / 97);
  }
  SECTION("retry") {
    RunResult r = run_and_account(schedule, strategy, "retry");
    const auto& flaky = row(r, "flaky");
    CHECK(flaky.restarts == 0);
    // Every 97th call fails, so a retry (the next call) always succeeds;
    // the retries are calls too, so a failure comes every 96 frames.
    if (schedule == kEvery97) {
      CHECK(flaky.errors == kFrames / 96);
      CHECK(flaky.dead_lettered == 0);
    }
  }
}

TEST_CASE("propagate restarts the node in place under each strategy", "[supervision]") {
  auto strategy =
      GENERATE(as<std::string>{}, "never", "immediate", "exponential", "circuit_breaker");
  auto schedule = GENERATE(as<std::string>{}, kEvery97, kOnePercent, kTenPercent);
  RunResult r = run_and_account(schedule, strategy, "propagate");
  const auto& flaky = row(r, "flaky");
  if (strategy == "never") {
    CHECK(flaky.restarts == 0);
    CHECK(flaky.state == "failed");
    CHECK(dropped(flaky, DropReason::node_failed) > 0);
    return;
  }
  CHECK(flaky.restarts > 0);
  if (schedule == kEvery97 && strategy != "circuit_breaker") {
    // Each instance fails on its 97th frame; its replacement starts counting
    // afresh with the frame that failed: a failure every 96 frames.
    CHECK(flaky.errors == (kFrames - 1) / 96);
    CHECK(flaky.restarts == (kFrames - 1) / 96);
    CHECK(flaky.frames_out == kFrames);
    CHECK(r.state == "finished");
  }
}

TEST_CASE("propagate with `never` fails the node and accounts for the rest", "[supervision]") {
  RunResult r = run_and_account(kEvery97, "never", "propagate");
  const auto& flaky = row(r, "flaky");
  CHECK(flaky.restarts == 0);
  CHECK(flaky.state == "failed");
  CHECK(flaky.frames_out == 96);
  CHECK(dropped(flaky, DropReason::node_failed) == kFrames - 96);
  CHECK(r.state == "failed");  // the node is on every path to the sink
  CHECK_THAT(r.state_reason, Catch::Contains("flaky") && Catch::Contains("seq 96"));
}

TEST_CASE("a frame that keeps failing is dead-lettered after its retries", "[supervision]") {
  SECTION("retry policy") {
    RunResult r = run_and_account(R"({"fail_every":1})", "immediate", "retry");
    const auto& flaky = row(r, "flaky");
    CHECK(flaky.dead_lettered == kFrames);
    CHECK(flaky.errors == 4 * kFrames);  // the first try and 3 retries
  }
}

TEST_CASE("a node that always fails cannot cause a restart storm", "[supervision][storm]") {
  auto strategy = GENERATE(as<std::string>{}, "immediate", "exponential", "circuit_breaker");
  std::string restart = R"({"strategy":"immediate"})";
  if (strategy == "exponential") restart = R"({"strategy":"exponential","base_ms":1,"max_ms":50})";
  if (strategy == "circuit_breaker")
    restart = R"({"strategy":"circuit_breaker","failures":3,"window_ms":1000,"open_ms":500})";
  auto spec = spec_from(R"({"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64}},
      {"id":"pace","type":"fault","config":{"delay_ms":1}},
      {"id":"broken","type":"fault","config":{"fail_every":1},
       "supervision":{"restart":)" +
                        restart + R"(,"intensity":{"max_restarts":10,"within_ms":5000}}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"pace"},{"from":"pace","to":"broken"},{"from":"broken","to":"out"}]})");
  RunOptions options;
  options.duration_s = 2;
  RunResult r = run_pipeline(spec, test_registry(), options);
  INFO(strategy);
  REQUIRE(r.started);
  const auto& broken = row(r, "broken");
  INFO("restarts " << broken.restarts << " state " << broken.state << " error "
                   << broken.last_error);
  CHECK(broken.restarts <= 10);  // the intensity limit, whatever the strategy
  CHECK_THAT(broken.last_error, Catch::Contains("injected fault"));
  CHECK(broken.frames_in ==
        broken.frames_out + broken.skipped + broken.dead_lettered + dropped_total(broken));
  if (strategy == "circuit_breaker") {
    // 3 failures open the circuit for 500 ms, and a trial comes no sooner
    // than that after the last failure: at most one per 500 ms of the run,
    // whose time includes the drain after the 2 s (long on a loaded machine).
    INFO("run took " << r.elapsed_s << " s");
    CHECK(broken.restarts <= 3 + static_cast<std::uint64_t>(r.elapsed_s / 0.5));
    CHECK(broken.dead_lettered > 0);
  } else {
    CHECK(broken.state == "failed");
    CHECK(r.state == "failed");
    CHECK_THAT(r.state_reason, Catch::Contains("broken"));
  }
}

TEST_CASE("a failed branch degrades the pipeline while the others flow", "[supervision]") {
  auto spec = spec_from(R"({"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64}},
      {"id":"broken","type":"fault","config":{"fail_every":5},"supervision":{"restart":"never"}},
      {"id":"lost","type":"null_sink"},
      {"id":"fine","type":"probe","config":{"tag":"degraded"}}],
    "connections":[{"from":"src","to":"broken"},{"from":"broken","to":"lost"},{"from":"src","to":"fine"}]})");
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(2000));
  REQUIRE(r.started);
  CHECK(r.state == "degraded");
  CHECK(row(r, "fine").frames_in == 2000);
  const auto& broken = row(r, "broken");
  CHECK(broken.state == "failed");
  CHECK(broken.frames_in == 2000);
  CHECK(dropped(broken, DropReason::node_failed) == 2000 - 4);
}

TEST_CASE("a restarted node in the middle of a fan-in loses and repeats nothing", "[supervision]") {
  auto log = log_for("fan-in");
  auto spec = spec_from(R"({"pipeline_config":{"channel_capacity":4},"nodes":[
      {"id":"a","type":"sine","config":{"frame_size":32}},
      {"id":"b","type":"sine","config":{"frame_size":32}},
      {"id":"flaky","type":"fault","config":{"fail_every":50},
       "supervision":{"restart":"immediate","intensity":{"max_restarts":1000,"within_ms":1000}}},
      {"id":"m","type":"mix"},
      {"id":"out","type":"probe","config":{"tag":"fan-in"}}],
    "connections":[{"from":"a","to":"flaky"},{"from":"flaky","to":"m"},{"from":"b","to":"m"},
                   {"from":"m","to":"out"}]})");
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(3000));
  REQUIRE(r.started);
  CHECK(row(r, "flaky").restarts == 2999 / 49);
  CHECK(row(r, "flaky").frames_out == 3000);
  CHECK(row(r, "m").frames_in == 6000);
  REQUIRE(log->seqs.size() == 3000);
  for (std::uint64_t i = 0; i < 3000; ++i) REQUIRE(log->seqs[i] == i);
}

TEST_CASE("poison frames reach the dead letters under retry, under every strategy",
          "[supervision][poison]") {
  auto strategy = GENERATE(as<std::string>{}, "never", "immediate", "exponential");
  RunResult r = run_and_account(R"({"poison_every":97})", strategy, "retry");
  const auto& flaky = row(r, "flaky");
  CHECK(flaky.dead_lettered == kFrames / 97);  // seq 96, 193, ...: the same frames each attempt
  CHECK(flaky.errors == 4 * (kFrames / 97));   // the first try and 3 retries
  CHECK(flaky.restarts == 0);
}

TEST_CASE("a poison frame under propagate restarts the node until its intensity limit",
          "[supervision][poison]") {
  ScratchFile dead_letters("poison-propagate");
  auto spec = spec_from(R"({"pipeline_config":{"dead_letter_path":")" + dead_letters.path +
                        R"("},"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":64}},
      {"id":"flaky","type":"fault","config":{"poison_every":97},
       "supervision":{"restart":{"strategy":"immediate"},
                      "intensity":{"max_restarts":5,"within_ms":600000},"on_error":"propagate"}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"flaky"},{"from":"flaky","to":"out"}]})");
  RunResult r = run_pipeline(spec, test_registry(), options_with_frames(kFrames));
  REQUIRE(r.started);
  const auto& flaky = row(r, "flaky");
  INFO("restarts " << flaky.restarts << " errors " << flaky.errors << " state " << flaky.state
                   << " error " << flaky.last_error);
  // Only the poison frames (seq 96, 193, ...) fail, and they fail in every
  // replacement: the restarts are spent on them until the intensity limit
  // fails the node for good, long before the 10000 frames are through.
  CHECK(flaky.restarts == 5);
  CHECK(flaky.errors == 6);
  CHECK(flaky.state == "failed");
  CHECK(flaky.frames_out < kFrames);
  CHECK_THAT(flaky.last_error, Catch::Contains("injected fault at seq 96") ||
                                   Catch::Contains("injected fault at seq 193"));
  CHECK(flaky.frames_in ==
        flaky.frames_out + flaky.skipped + flaky.dead_lettered + dropped_total(flaky));
}
