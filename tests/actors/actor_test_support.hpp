#pragma once
// Shared by the actor tests: a probe sink that records what reaches it, a
// registry with the built-in types plus the probe, and small accessors.

#include <catch2/catch.hpp>

#include <map>
#include <mutex>

#include "actors/pipeline_runner.hpp"

namespace streamlab::test {

// What a probe sink saw.
struct ProbeLog {
  std::mutex mutex;
  std::vector<const void*> buffers;
  std::vector<std::uint64_t> seqs;
  std::vector<float> first_samples;
  std::uint64_t misses_after_warmup = 0;
};

inline std::mutex g_logs_mutex;
inline std::map<std::string, std::shared_ptr<ProbeLog>> g_logs;

// A new, empty log under this tag (a test that runs twice starts clean).
inline std::shared_ptr<ProbeLog> fresh_log(const std::string& tag) {
  std::lock_guard<std::mutex> lock(g_logs_mutex);
  return g_logs[tag] = std::make_shared<ProbeLog>();
}

inline std::shared_ptr<ProbeLog> log_for(const std::string& tag) {
  std::lock_guard<std::mutex> lock(g_logs_mutex);
  auto& log = g_logs[tag];
  if (!log) log = std::make_shared<ProbeLog>();
  return log;
}

// A sink that records each frame's buffer identity, sequence number and
// first sample, and the pool's miss count once warm-up is over.
class ProbeSink : public Node {
 public:
  ProbeSink(std::shared_ptr<ProbeLog> log, BufferPool* pool, std::uint64_t warmup)
      : log_(std::move(log)), pool_(pool), warmup_(warmup) {}
  Status process(const Inputs& in, FrameList&) override {
    const Frame& f = *in[0];
    std::lock_guard<std::mutex> lock(log_->mutex);
    log_->buffers.push_back(f.samples.id());
    log_->seqs.push_back(f.seq);
    log_->first_samples.push_back(f.samples.size() ? f.samples.data()[0] : 0.f);
    if (++seen_ == warmup_) log_->misses_after_warmup = pool_->stats().misses;
    return Status::ok();
  }

 private:
  std::shared_ptr<ProbeLog> log_;
  BufferPool* pool_;
  std::uint64_t warmup_;
  std::uint64_t seen_ = 0;
};

inline const NodeRegistry& test_registry() {
  static const NodeRegistry registry = [] {
    NodeRegistry r;
    for (const auto* schema : NodeRegistry::builtin().schemas())
      r.add(*NodeRegistry::builtin().find(schema->type));
    NodeType probe;
    probe.schema.type = "probe";
    probe.schema.summary = "test sink that records what it receives";
    probe.schema.has_output = false;
    FieldSpec tag;
    tag.name = "tag";
    tag.type = FieldType::string;
    tag.default_value = "default";
    FieldSpec warmup;
    warmup.name = "warmup";
    warmup.type = FieldType::integer;
    warmup.default_value = 0;
    probe.schema.fields = {tag, warmup};
    probe.make = [](const json& config, const NodeContext& ctx) -> std::unique_ptr<Node> {
      return std::make_unique<ProbeSink>(log_for(config.at("tag").get<std::string>()), ctx.pool,
                                         config.at("warmup").get<std::uint64_t>());
    };
    r.add(std::move(probe));
    return r;
  }();
  return registry;
}

inline PipelineSpec spec_from(const std::string& text) {
  ParseResult parsed = parse_pipeline(text, "test.json", test_registry().schemas());
  for (const auto& p : parsed.problems) FAIL(p.to_string());
  REQUIRE(parsed.spec);
  return *parsed.spec;
}

inline const NodeSnapshot& row(const RunResult& r, const std::string& id) {
  for (const auto& n : r.nodes)
    if (n.node == id) return n;
  FAIL("no row for node " << id);
  throw std::logic_error("unreachable");
}

inline std::uint64_t dropped(const NodeSnapshot& n, DropReason reason) {
  return n.dropped[static_cast<std::size_t>(reason)];
}

inline std::uint64_t dropped_total(const NodeSnapshot& n) {
  std::uint64_t sum = 0;
  for (auto d : n.dropped) sum += d;
  return sum;
}

inline RunOptions options_with_frames(std::uint64_t frames) {
  RunOptions o;
  o.max_frames = frames;
  o.threads = 2;
  return o;
}

}  // namespace streamlab::test
