// Live sources in the node actor (docs/architecture.md#live-sources): they never
// wait for credits; what has no room is held in a bounded backlog and,
// past it, dropped by the node's overflow policy and counted, so that
// produced == sent + dropped holds exactly. Elapsed times are only checked
// against generous sanity limits.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

#include "actors/pipeline_runner.hpp"
#include "tests/actors/actor_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

namespace {

// What a stamp probe saw: sequence numbers and timestamps, in arrival order.
struct StampLog {
  std::mutex mutex;
  std::vector<std::uint64_t> seqs;
  std::vector<std::int64_t> stamps;
};

std::mutex g_stamp_mutex;
std::map<std::string, std::shared_ptr<StampLog>> g_stamps;

std::shared_ptr<StampLog> stamp_log(const std::string& tag) {
  std::lock_guard<std::mutex> lock(g_stamp_mutex);
  auto& log = g_stamps[tag];
  if (!log) log = std::make_shared<StampLog>();
  return log;
}

std::shared_ptr<StampLog> fresh_stamp_log(const std::string& tag) {
  std::lock_guard<std::mutex> lock(g_stamp_mutex);
  return g_stamps[tag] = std::make_shared<StampLog>();
}

class StampProbe : public Node {
 public:
  explicit StampProbe(std::shared_ptr<StampLog> log) : log_(std::move(log)) {}
  Status process(const Inputs& in, FrameList&) override {
    std::lock_guard<std::mutex> lock(log_->mutex);
    log_->seqs.push_back(in[0]->seq);
    log_->stamps.push_back(in[0]->timestamp_ns);
    return Status::ok();
  }

 private:
  std::shared_ptr<StampLog> log_;
};

Frame small_frame(BufferPool& pool, std::uint64_t seq) {
  WritableBuffer w = pool.acquire(16);
  std::fill(w.data(), w.data() + 16, static_cast<float>(seq));
  Frame f;
  f.seq = seq;
  f.sample_rate = 48000;
  f.channels = 1;
  f.frames = 16;
  f.samples = std::move(w).freeze();
  return f;
}

// A live source that emits `burst` frames in its first step, all at once,
// so the actor sees them together and the outcome does not depend on
// timing: one goes out, `backlog` are held, the rest overflow. Then it
// ends its stream, or (end = false) stays live with nothing more to say.
class BurstSource : public Node {
 public:
  BurstSource(const json& config, const NodeContext& ctx)
      : pool_(ctx.pool),
        burst_(config.at("burst").get<std::uint64_t>()),
        end_(config.at("end").get<bool>()) {
    pacing_.poll_interval_ns = 1'000'000;
    pacing_.backlog = config.at("backlog").get<std::size_t>();
    pacing_.overflow =
        config.at("overflow") == "drop_newest" ? Overflow::drop_newest : Overflow::drop_oldest;
  }
  std::optional<LivePacing> live() const override { return pacing_; }
  Status generate(FrameList& out, bool& end_of_stream) override {
    if (!done_)
      for (std::uint64_t i = 0; i < burst_; ++i) out.push_back(small_frame(*pool_, i));
    done_ = true;
    end_of_stream = end_;
    return Status::ok();
  }

 private:
  BufferPool* pool_;
  std::uint64_t burst_;
  bool end_;
  LivePacing pacing_;
  bool done_ = false;
};

// A live source that has a frame ready every `period_ms`, polled every
// `poll_ms`; counts how often it is asked. With `announce`, it also says
// when its next frame is due (next_due_ns), as a clock-paced source does.
std::atomic<std::uint64_t> g_ticker_calls{0};

class Ticker : public Node {
 public:
  Ticker(const json& config, const NodeContext& ctx)
      : pool_(ctx.pool),
        period_(config.at("period_ms").get<double>()),
        announce_(config.at("announce").get<bool>()) {
    pacing_.poll_interval_ns =
        static_cast<std::int64_t>(config.at("poll_ms").get<double>() * 1'000'000.0);
  }
  std::optional<LivePacing> live() const override { return pacing_; }
  std::optional<std::int64_t> next_due_ns() const override {
    if (!announce_ || seq_ == 0) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(due(seq_).time_since_epoch())
        .count();
  }
  Status generate(FrameList& out, bool&) override {
    ++g_ticker_calls;
    const auto now = std::chrono::steady_clock::now();
    if (seq_ == 0) start_ = now;
    if (now < due(seq_)) return Status::ok();
    out.push_back(small_frame(*pool_, seq_++));
    return Status::ok();
  }

 private:
  std::chrono::steady_clock::time_point due(std::uint64_t seq) const {
    return start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        period_ * static_cast<double>(seq));
  }

  BufferPool* pool_;
  std::chrono::duration<double, std::milli> period_;
  bool announce_;
  LivePacing pacing_;
  std::chrono::steady_clock::time_point start_;
  std::uint64_t seq_ = 0;
};

// A source that fails once, in its first instance, after `fail_after`
// frames, then (restarted) numbers its frames from 0 again, as every fresh
// node does, and ends after `frames`. Its finish() flushes one more frame,
// as a capture completes its partial frame. Live or not, by `live`.
std::atomic<int> g_flusher_instances{0};

class FlushingSource : public Node {
 public:
  FlushingSource(const json& config, const NodeContext& ctx)
      : pool_(ctx.pool),
        frames_(config.at("frames").get<std::uint64_t>()),
        fail_after_(g_flusher_instances++ == 0 ? config.at("fail_after").get<std::uint64_t>()
                                               : frames_ + 1) {
    if (config.at("live").get<bool>()) {
      pacing_ = LivePacing{};
      pacing_->poll_interval_ns = 1'000'000;
      pacing_->backlog = 64;
    }
  }
  std::optional<LivePacing> live() const override { return pacing_; }
  Status generate(FrameList& out, bool& end_of_stream) override {
    if (seq_ == fail_after_) return Status::error("flusher: fails once, on purpose");
    out.push_back(small_frame(*pool_, seq_++));
    end_of_stream = seq_ >= frames_;
    return Status::ok();
  }
  Status finish(FrameList& out) override {
    out.push_back(small_frame(*pool_, seq_++));
    return Status::ok();
  }

 private:
  BufferPool* pool_;
  std::uint64_t frames_;
  std::uint64_t fail_after_;
  std::optional<LivePacing> pacing_;
  std::uint64_t seq_ = 0;
};

FieldSpec field(std::string name, FieldType type, json default_value) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = type;
  f.default_value = std::move(default_value);
  if (f.type == FieldType::choice) f.choices = {"drop_oldest", "drop_newest"};
  return f;
}

const NodeRegistry& live_registry() {
  static const NodeRegistry registry = [] {
    NodeRegistry r;
    for (const auto* schema : test_registry().schemas()) r.add(*test_registry().find(schema->type));

    NodeType burst;
    burst.schema.type = "burst";
    burst.schema.summary = "test live source: one burst of frames at once";
    burst.schema.min_inputs = 0;
    burst.schema.max_inputs = 0;
    burst.schema.fields = {field("burst", FieldType::integer, 50),
                           field("backlog", FieldType::integer, 4),
                           field("overflow", FieldType::choice, "drop_oldest"),
                           field("end", FieldType::boolean, true)};
    burst.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
      return std::make_unique<BurstSource>(config, ctx);
    };
    r.add(std::move(burst));

    NodeType ticker;
    ticker.schema.type = "ticker";
    ticker.schema.summary = "test live source: a frame every period_ms";
    ticker.schema.min_inputs = 0;
    ticker.schema.max_inputs = 0;
    ticker.schema.fields = {field("period_ms", FieldType::number, 20.0),
                            field("poll_ms", FieldType::number, 5.0),
                            field("announce", FieldType::boolean, false)};
    ticker.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
      return std::make_unique<Ticker>(config, ctx);
    };
    r.add(std::move(ticker));

    NodeType flusher;
    flusher.schema.type = "flusher";
    flusher.schema.summary = "test source: fails once, flushes a frame on finish";
    flusher.schema.min_inputs = 0;
    flusher.schema.max_inputs = 0;
    flusher.schema.fields = {field("frames", FieldType::integer, 10),
                             field("fail_after", FieldType::integer, 5),
                             field("live", FieldType::boolean, false)};
    flusher.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
      return std::make_unique<FlushingSource>(config, ctx);
    };
    r.add(std::move(flusher));

    NodeType probe;
    probe.schema.type = "stamp_probe";
    probe.schema.summary = "test sink that records sequence numbers and timestamps";
    probe.schema.has_output = false;
    probe.schema.fields = {field("tag", FieldType::string, "default")};
    probe.make = [](const json& config, const NodeContext&) -> std::unique_ptr<Node> {
      return std::make_unique<StampProbe>(stamp_log(config.at("tag").get<std::string>()));
    };
    r.add(std::move(probe));
    return r;
  }();
  return registry;
}

PipelineSpec live_spec(const std::string& text) {
  ParseResult parsed = parse_pipeline(text, "test.json", live_registry().schemas());
  for (const auto& p : parsed.problems) FAIL(p.to_string());
  REQUIRE(parsed.spec);
  return *parsed.spec;
}

std::string burst_into_probe(const std::string& overflow, int backlog, const std::string& tag) {
  return R"({"nodes":[
      {"id":"src","type":"burst","config":{"burst":50,"backlog":)" +
         std::to_string(backlog) + R"(,"overflow":")" + overflow + R"("}},
      {"id":"out","type":"stamp_probe","config":{"tag":")" +
         tag + R"("}}],
    "connections":[{"from":"src","to":"out","capacity":1}]})";
}

}  // namespace

TEST_CASE("a live source holds its backlog and drops the rest by its overflow policy",
          "[actors][live]") {
  struct Case {
    const char* overflow;
    int backlog;
    std::vector<std::uint64_t> delivered;
  };
  for (const Case& c :
       {Case{"drop_oldest", 4, {0, 46, 47, 48, 49}}, Case{"drop_newest", 4, {0, 1, 2, 3, 4}},
        Case{"drop_oldest", 0, {0}}, Case{"drop_newest", 1, {0, 1}}}) {
    INFO(c.overflow << ", backlog " << c.backlog);
    const std::string tag = std::string("burst-") + c.overflow + std::to_string(c.backlog);
    auto log = fresh_stamp_log(tag);
    RunOptions options;
    options.threads = 2;
    RunResult r = run_pipeline(live_spec(burst_into_probe(c.overflow, c.backlog, tag)),
                               live_registry(), options);
    REQUIRE(r.started);
    CHECK_FALSE(r.forced);
    CHECK(r.succeeded());
    // The edge holds one frame: the first goes out, `backlog` wait, the
    // policy picks which; every other frame is counted as an overflow.
    CHECK(log->seqs == c.delivered);
    const auto& src = row(r, "src");
    const auto& out = row(r, "out");
    CHECK(src.frames_out == c.delivered.size());
    CHECK(dropped(src, DropReason::overflow) == 50 - c.delivered.size());
    CHECK(dropped(src, DropReason::shutdown) == 0);
    CHECK(src.frames_out + dropped(src, DropReason::overflow) == 50);
    CHECK(out.frames_in == src.frames_out);
    CHECK(dropped_total(out) == 0);
    REQUIRE(r.edges.size() == 1);
    CHECK(r.edges[0].frames == c.delivered.size());
    CHECK(r.edges[0].max_occupancy <= 1);
  }
}

TEST_CASE("a real-time source into a slow node drops, and counts every frame exactly",
          "[actors][live]") {
  // 1 ms frames into a node that takes 5 ms each: most frames overflow.
  auto log = fresh_stamp_log("slow-live");
  auto spec = live_spec(R"({"pipeline_config":{"channel_capacity":2},"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":48,"realtime":true}},
      {"id":"slow","type":"fault","config":{"delay_ms":5}},
      {"id":"out","type":"stamp_probe","config":{"tag":"slow-live"}}],
    "connections":[{"from":"src","to":"slow"},{"from":"slow","to":"out"}]})");
  RunResult r = run_pipeline(spec, live_registry(), options_with_frames(200));
  REQUIRE(r.started);
  CHECK_FALSE(r.forced);
  CHECK(r.succeeded());
  CHECK(r.elapsed_s < 60.0);
  const auto& src = row(r, "src");
  const auto& slow = row(r, "slow");
  const auto& out = row(r, "out");
  const std::uint64_t overflow = dropped(src, DropReason::overflow);
  CHECK(overflow > 0);
  // Produced == sent + dropped, at the source and all the way to the sink.
  CHECK(src.frames_out + overflow == 200);
  CHECK(dropped(src, DropReason::shutdown) == 0);
  CHECK(slow.frames_in == src.frames_out);
  CHECK(slow.frames_out == slow.frames_in);
  CHECK(out.frames_in == slow.frames_out);
  CHECK(out.frames_in + overflow == 200);
  for (const auto& n : {slow, out}) CHECK(dropped_total(n) == 0);
  // The non-live edge downstream still waits rather than drops.
  for (const auto& e : r.edges) CHECK(e.max_occupancy <= e.capacity);
  // What arrives is in order, each frame stamped when it became due.
  std::lock_guard<std::mutex> lock(log->mutex);
  REQUIRE(log->seqs.size() == out.frames_in);
  for (std::size_t i = 1; i < log->seqs.size(); ++i) {
    INFO("arrival " << i);
    REQUIRE(log->seqs[i] > log->seqs[i - 1]);
    CHECK(log->stamps[i] - log->stamps[i - 1] ==
          static_cast<std::int64_t>(log->seqs[i] - log->seqs[i - 1]) * 1'000'000);
  }
  CHECK(log->seqs.back() < 200);
}

TEST_CASE("a real-time sine through a chain keeps its frame timestamps one period apart",
          "[actors][live]") {
  auto log = fresh_stamp_log("rt-chain");
  auto spec = live_spec(R"({"nodes":[
      {"id":"src","type":"sine","config":{"frame_size":480,"realtime":true}},
      {"id":"amp","type":"gain","config":{"gain":0.5}},
      {"id":"out","type":"stamp_probe","config":{"tag":"rt-chain"}}],
    "connections":[{"from":"src","to":"amp"},{"from":"amp","to":"out"}]})");
  RunResult r = run_pipeline(spec, live_registry(), options_with_frames(30));
  REQUIRE(r.started);
  CHECK(r.succeeded());
  // 30 frames of 10 ms: paced, so at least ~0.29 s; the upper bound is sanity only.
  CHECK(r.elapsed_s >= 0.28);
  CHECK(r.elapsed_s < 60.0);
  const auto& src = row(r, "src");
  CHECK(src.frames_out + dropped(src, DropReason::overflow) == 30);
  CHECK(row(r, "out").frames_in == src.frames_out);
  CHECK(row(r, "out").end_to_end_p50_us > 0);
  // The source's own end-to-end latency is how late its frames left (its
  // timer's wake-up): part of every later node's, frame by frame.
  CHECK(src.end_to_end_p50_us > 0);
  CHECK(row(r, "amp").end_to_end_p50_us >= src.end_to_end_p50_us);
  CHECK(row(r, "out").end_to_end_p50_us >= src.end_to_end_p50_us);
  std::lock_guard<std::mutex> lock(log->mutex);
  REQUIRE(log->seqs.size() == src.frames_out);
  REQUIRE_FALSE(log->seqs.empty());
  for (std::size_t i = 1; i < log->seqs.size(); ++i) {
    REQUIRE(log->seqs[i] > log->seqs[i - 1]);
    CHECK(log->stamps[i] - log->stamps[i - 1] ==
          static_cast<std::int64_t>(log->seqs[i] - log->seqs[i - 1]) * 10'000'000);
  }
}

TEST_CASE("a live source with nothing ready waits for its poll timer instead of spinning",
          "[actors][live]") {
  g_ticker_calls = 0;
  auto spec = live_spec(R"({"nodes":[
      {"id":"src","type":"ticker","config":{"period_ms":20,"poll_ms":5}},
      {"id":"out","type":"stamp_probe","config":{"tag":"ticker"}}],
    "connections":[{"from":"src","to":"out"}]})");
  auto log = fresh_stamp_log("ticker");
  RunResult r = run_pipeline(spec, live_registry(), options_with_frames(10));
  REQUIRE(r.started);
  CHECK(r.succeeded());
  CHECK(row(r, "src").frames_out + dropped(row(r, "src"), DropReason::overflow) == 10);
  CHECK(row(r, "out").frames_in == row(r, "src").frames_out);
  // ~180 ms at one poll per 5 ms is ~40 calls; a spinning actor would make
  // millions. The bound is loose on purpose.
  CHECK(g_ticker_calls.load() >= 10);
  CHECK(g_ticker_calls.load() < 5000);
}

TEST_CASE("a live source that says when its next frame is due wakes then, not at its poll interval",
          "[actors][live]") {
  // A frame every 20 ms, but a poll interval of 10 s: only the due time
  // announced by the node can wake the actor within a 0.5 s run. Without
  // it (announce = false), the run ends with only the first frame, which is
  // due at once.
  for (bool announce : {true, false}) {
    INFO("announce " << announce);
    g_ticker_calls = 0;
    const std::string tag = std::string("due-") + (announce ? "announced" : "unknown");
    auto log = fresh_stamp_log(tag);
    auto spec = live_spec(R"({"nodes":[
      {"id":"src","type":"ticker","config":{"period_ms":20,"poll_ms":10000,"announce":)" +
                          std::string(announce ? "true" : "false") + R"(}},
      {"id":"out","type":"stamp_probe","config":{"tag":")" +
                          tag + R"("}}],
    "connections":[{"from":"src","to":"out"}]})");
    RunOptions options;
    options.threads = 2;
    options.duration_s = 0.5;
    RunResult r = run_pipeline(spec, live_registry(), options);
    REQUIRE(r.started);
    CHECK(r.succeeded());
    const auto& src = row(r, "src");
    CHECK(row(r, "out").frames_in == src.frames_out);
    if (announce) {
      // ~25 frames are due in 0.5 s; the bound leaves room for a slow machine.
      CHECK(src.frames_out >= 5);
      // One wake-up per frame (CAF's timer never fires early): two calls,
      // the one that yields the frame and the one that finds nothing more
      // and sets the timer, and the odd one when credits come back. A
      // spinning actor would make millions.
      INFO("generate() calls: " << g_ticker_calls.load());
      CHECK(g_ticker_calls.load() <= 4 * src.frames_out + 10);
    } else {
      CHECK(src.frames_out == 1);
    }
    std::lock_guard<std::mutex> lock(log->mutex);
    for (std::size_t i = 0; i < log->seqs.size(); ++i) CHECK(log->seqs[i] == i);
  }
}

TEST_CASE("stopping a live source sends what it holds when room comes in time",
          "[actors][live][stop]") {
  auto log = fresh_stamp_log("live-drain");
  // The burst stays live (no end of stream): only the duration stops it.
  auto spec = live_spec(R"({"nodes":[
      {"id":"src","type":"burst","config":{"burst":50,"backlog":4,"end":false}},
      {"id":"slow","type":"fault","config":{"delay_ms":20}},
      {"id":"out","type":"stamp_probe","config":{"tag":"live-drain"}}],
    "connections":[{"from":"src","to":"slow","capacity":1},{"from":"slow","to":"out"}]})");
  RunOptions options;
  options.threads = 2;
  options.duration_s = 0.05;
  options.drain_timeout_s = 30;
  RunResult r = run_pipeline(spec, live_registry(), options);
  REQUIRE(r.started);
  CHECK_FALSE(r.forced);
  CHECK(r.succeeded());
  const auto& src = row(r, "src");
  CHECK(src.frames_out == 5);
  CHECK(dropped(src, DropReason::overflow) == 45);
  CHECK(dropped(src, DropReason::shutdown) == 0);
  CHECK(log->seqs == std::vector<std::uint64_t>{0, 46, 47, 48, 49});
}

TEST_CASE("a forced stop counts what a live source still holds as dropped on shutdown",
          "[actors][live][stop]") {
  // The node behind the source takes 1 s per frame; the drain gives up
  // long before the 4 held frames could go.
  auto spec = live_spec(R"({"nodes":[
      {"id":"src","type":"burst","config":{"burst":50,"backlog":4,"end":false}},
      {"id":"slow","type":"fault","config":{"delay_ms":1000}},
      {"id":"out","type":"null_sink"}],
    "connections":[{"from":"src","to":"slow","capacity":1},{"from":"slow","to":"out"}]})");
  RunOptions options;
  options.threads = 2;
  options.duration_s = 0.1;
  options.drain_timeout_s = 0.3;
  RunResult r = run_pipeline(spec, live_registry(), options);
  REQUIRE(r.started);
  CHECK(r.forced);
  const auto& src = row(r, "src");
  const auto& slow = row(r, "slow");
  const std::uint64_t shutdown = dropped(src, DropReason::shutdown);
  CHECK(shutdown >= 1);
  CHECK(src.frames_out + dropped(src, DropReason::overflow) + shutdown == 50);
  CHECK(dropped(src, DropReason::overflow) == 45);
  CHECK(slow.frames_in == src.frames_out);
  CHECK(slow.frames_in == slow.frames_out + dropped_total(slow));
}

TEST_CASE("a restarted source numbers what its finish flushes after its predecessors' frames",
          "[actors][live][supervision]") {
  const bool live = GENERATE(false, true);
  INFO((live ? "live" : "pulled") << " source");
  g_flusher_instances = 0;
  const std::string tag = live ? "flush_live" : "flush_pulled";
  auto log = fresh_stamp_log(tag);
  auto spec = live_spec(R"({"nodes":[
      {"id":"src","type":"flusher","config":{"frames":10,"fail_after":4,"live":)" +
                        std::string(live ? "true" : "false") + R"(},
       "supervision":{"restart":{"strategy":"immediate"}}},
      {"id":"out","type":"stamp_probe","config":{"tag":")" +
                        tag + R"("}}],
    "connections":[{"from":"src","to":"out"}]})");
  RunOptions options;
  options.threads = 2;
  RunResult r = run_pipeline(spec, live_registry(), options);
  REQUIRE(r.started);
  CHECK(r.succeeded());
  const auto& src = row(r, "src");
  CHECK(src.restarts == 1);
  // 4 frames from the first instance; 10 and the flushed one from the second.
  CHECK(src.frames_out == 15);
  std::lock_guard<std::mutex> lock(log->mutex);
  REQUIRE(log->seqs.size() == 15);
  for (std::size_t i = 0; i < log->seqs.size(); ++i) CHECK(log->seqs[i] == i);
}
