// dead_letter_source: replays stored frames unchanged, filtered by node,
// and reports a damaged file after the frames before the damage.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "node_test_support.hpp"
#include "runtime/dead_letter_file.hpp"

using namespace streamlab;
using namespace streamlab::test;
using Catch::Matchers::Contains;

namespace {

DeadLetter letter(BufferPool& pool, const std::string& node, std::uint64_t seq) {
  DeadLetter d;
  d.pipeline = "demo";
  d.node = node;
  d.reason = "retries_exhausted";
  d.error = "boom";
  d.attempts = 3;
  d.time_ns = 1'718'000'000'000'000'000LL;
  d.frame = make_frame(pool, seq, 44100, 2, {0.5f, -0.5f, static_cast<float>(seq), 1.0f});
  d.frame.timestamp_ns = 1'000 + static_cast<std::int64_t>(seq);
  d.frame.metadata = std::make_shared<const Metadata>(Metadata{{"from", node}});
  return d;
}

// Writes letters of nodes "amp", "mixer", "amp", "amp" with seq 10, 11, 12, 13.
std::string write_file(const TempDir& dir, BufferPool& pool) {
  const std::string path = dir.file("demo.deadletters");
  DeadLetterWriter writer(path);
  const char* nodes[] = {"amp", "mixer", "amp", "amp"};
  for (std::uint64_t i = 0; i < 4; ++i) writer.append(letter(pool, nodes[i], 10 + i));
  return path;
}

}  // namespace

TEST_CASE("dead_letter_source emits the frames of one node, unchanged, then ends",
          "[nodes][dead_letter_source]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = write_file(dir, pool);
  auto source = make_node("dead_letter_source", {{"path", path}, {"node", "amp"}});
  FrameList frames = drain(*source);
  REQUIRE(frames.size() == 3);
  const std::uint64_t seqs[] = {10, 12, 13};
  for (std::size_t i = 0; i < 3; ++i) {
    INFO(i);
    CHECK(frames[i].seq == seqs[i]);
    CHECK(frames[i].timestamp_ns == 1'000 + static_cast<std::int64_t>(seqs[i]));
    CHECK(frames[i].sample_rate == 44100);
    CHECK(frames[i].channels == 2);
    CHECK(frames[i].frames == 2);
    CHECK(samples_of(frames[i]) ==
          std::vector<float>{0.5f, -0.5f, static_cast<float>(seqs[i]), 1.0f});
    REQUIRE(frames[i].metadata);
    CHECK(frames[i].metadata->at("from") == "amp");
  }
  // Ended for good.
  FrameList more;
  bool eos = false;
  REQUIRE(source->generate(more, eos).is_ok());
  CHECK(eos);
  CHECK(more.empty());
}

TEST_CASE("dead_letter_source with no node emits every frame in file order",
          "[nodes][dead_letter_source]") {
  TempDir dir;
  BufferPool pool;
  auto source = make_node("dead_letter_source", {{"path", write_file(dir, pool)}});
  FrameList frames = drain(*source);
  REQUIRE(frames.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) CHECK(frames[i].seq == 10 + i);
  CHECK(frames[1].metadata->at("from") == "mixer");
}

TEST_CASE("dead_letter_source takes its samples from the context's pool",
          "[nodes][dead_letter_source]") {
  TempDir dir;
  BufferPool writer_pool;
  const std::string path = write_file(dir, writer_pool);
  BufferPool pool;
  NodeContext ctx;
  ctx.pool = &pool;
  auto source = make_node("dead_letter_source", {{"path", path}}, ctx);
  FrameList frames = drain(*source);
  PoolStats stats = pool.stats();
  CHECK(stats.hits + stats.misses == 4);
}

TEST_CASE("dead_letter_source skips many letters of other nodes without ending early",
          "[nodes][dead_letter_source]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = dir.file("mostly_others");
  {
    DeadLetterWriter writer(path);
    for (std::uint64_t i = 0; i < 1000; ++i) writer.append(letter(pool, "other", i));
    writer.append(letter(pool, "amp", 1000));
  }
  auto source = make_node("dead_letter_source", {{"path", path}, {"node", "amp"}});
  FrameList frames = drain(*source);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].seq == 1000);
}

TEST_CASE("dead_letter_source emits what precedes a damaged tail, then fails naming it",
          "[nodes][dead_letter_source]") {
  TempDir dir;
  BufferPool pool;
  const std::string path = write_file(dir, pool);
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 10);  // the 4th record loses its end

  auto source = make_node("dead_letter_source", {{"path", path}, {"node", "amp"}});
  FrameList frames;
  bool eos = false;
  Status status = Status::ok();
  while (!eos && status.is_ok()) status = source->generate(frames, eos);
  CHECK(eos);
  REQUIRE_FALSE(status.is_ok());
  CHECK_THAT(status.message(), Contains("dead_letter_source") && Contains(path) &&
                                   Contains("truncated") && Contains("record 4 at byte offset"));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].seq == 10);
  CHECK(frames[1].seq == 12);
}

TEST_CASE("dead_letter_source validation: path required, readable, and a dead-letter file",
          "[nodes][dead_letter_source]") {
  TempDir dir;
  BufferPool pool;
  CHECK_THAT(describe(validate("dead_letter_source", json::object())), Contains("path"));
  CHECK_THAT(describe(validate("dead_letter_source", {{"path", dir.file("none")}})),
             Contains("does not exist"));
  CHECK_THAT(describe(validate("dead_letter_source", {{"path", dir.file("none")}, {"node", 3}})),
             Contains("node"));

  const std::string text = dir.file("notes.txt");
  std::ofstream(text) << "this is not a dead-letter file\n";
  CHECK_THAT(describe(validate("dead_letter_source", {{"path", text}})),
             Contains("/path") && Contains("byte offset 0"));

  const std::string empty = dir.file("empty.deadletters");
  { DeadLetterWriter writer(empty); }
  CHECK(validate("dead_letter_source", {{"path", empty}}).empty());
  CHECK(validate("dead_letter_source", {{"path", write_file(dir, pool)}}).empty());

  auto source = make_node("dead_letter_source", {{"path", empty}});
  CHECK(drain(*source).empty());
}

TEST_CASE("dead_letter_source is a source that refuses a file gone since validation",
          "[nodes][dead_letter_source]") {
  const NodeType* type = NodeRegistry::builtin().find("dead_letter_source");
  REQUIRE(type != nullptr);
  CHECK(type->schema.is_source());
  CHECK_FALSE(type->schema.is_sink());
  CHECK_THROWS_WITH(type->make({{"path", "/nonexistent/x.deadletters"}, {"node", ""}}, {}),
                    Contains("/nonexistent/x.deadletters"));
}
