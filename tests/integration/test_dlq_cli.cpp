// `streamlab dlq`: dead-letter files written by the runtime's writer, read
// by the real executable (and by the capnp tool), replayed into a pipeline
// whose output is checked with sox.

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_support.hpp"
#include "runtime/dead_letter_file.hpp"

using namespace streamlab;
using namespace streamlab::test;
using Catch::Matchers::Contains;

namespace {

// 2024-06-10T06:13:21.234Z, plus a few nanoseconds that must not show.
constexpr std::int64_t kTimeNs = 1'718'000'001'234'567'890LL;

DeadLetter letter(const std::string& node, std::uint64_t seq, float value = 0.8f,
                  std::uint32_t frames = 1024) {
  BufferPool& pool = BufferPool::process_pool();
  DeadLetter d;
  d.pipeline = "dlq_demo";
  d.node = node;
  d.port = 0;
  d.reason = "retries_exhausted";
  d.error = "gain: injected failure\nsecond line";
  d.attempts = 4;
  d.time_ns = kTimeNs + static_cast<std::int64_t>(seq) * 1'000'000;
  Frame& f = d.frame;
  f.seq = seq;
  f.timestamp_ns = 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(seq);
  f.sample_rate = 48000;
  f.channels = 1;
  f.frames = frames;
  WritableBuffer buf = pool.acquire(frames);
  for (std::uint32_t i = 0; i < frames; ++i) buf.data()[i] = i % 2 ? value : -value;
  f.samples = std::move(buf).freeze();
  f.metadata = std::make_shared<const Metadata>(Metadata{{"source", "test"}});
  return d;
}

// Appends the letters; returns the file size after each one.
std::vector<std::uintmax_t> write_letters(const std::string& path,
                                          const std::vector<DeadLetter>& letters) {
  std::vector<std::uintmax_t> ends;
  DeadLetterWriter writer(path);
  for (const auto& d : letters) {
    writer.append(d);
    ends.push_back(std::filesystem::file_size(path));
  }
  return ends;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const char* kPipeline = R"({
  "name": "dlq_demo",
  "nodes": [
    {"id": "tone", "type": "sine", "config": {"frequency": 440, "num_frames": 100}},
    {"id": "amp", "type": "gain", "config": {"gain": 0.5}},
    {"id": "file", "type": "wav_sink", "config": {"path": "replayed.wav"}}
  ],
  "connections": [{"from": "tone", "to": "amp"}, {"from": "amp", "to": "file"}]
})";

}  // namespace

TEST_CASE("dlq inspect prints one row per dead letter", "[integration][dlq]") {
  ScratchDir dir;
  write_letters(dir.file("d.dlq"), {letter("amp", 7), letter("amp", 8), letter("mixer", 9)});
  Outcome o = run_in(dir, "dlq inspect d.dlq");
  INFO(o.out << o.err);
  REQUIRE(o.status == 0);
  auto lines = lines_of(o.out);
  REQUIRE(lines.size() == 4);
  for (const char* column :
       {"TIME", "PIPELINE", "NODE", "PORT", "SEQ", "REASON", "ATTEMPTS", "FRAMES", "ERROR"})
    CHECK_THAT(lines[0], Contains(column));
  CHECK_THAT(lines[1], Contains("2024-06-10T06:13:21.241Z") && Contains("dlq_demo") &&
                           Contains("amp") && Contains(" 7 ") && Contains("retries_exhausted") &&
                           Contains(" 4 ") && Contains("1 x 1024 @ 48000") &&
                           Contains("gain: injected failure second line"));
  CHECK_THAT(lines[3], Contains("mixer") && Contains(" 9 "));
  CHECK(o.err.empty());
}

TEST_CASE("dlq inspect --json prints an array of objects", "[integration][dlq]") {
  ScratchDir dir;
  write_letters(dir.file("d.dlq"), {letter("amp", 7), letter("mixer", 9)});
  Outcome o = run_in(dir, "dlq inspect d.dlq --json");
  INFO(o.out << o.err);
  REQUIRE(o.status == 0);
  auto rows = nlohmann::json::parse(o.out);
  REQUIRE(rows.is_array());
  REQUIRE(rows.size() == 2);
  const auto& first = rows[0];
  CHECK(first["node"] == "amp");
  CHECK(first["pipeline"] == "dlq_demo");
  CHECK(first["port"] == 0);
  CHECK(first["reason"] == "retries_exhausted");
  CHECK(first["error"] == "gain: injected failure\nsecond line");
  CHECK(first["attempts"] == 4);
  CHECK(first["time"] == "2024-06-10T06:13:21.241Z");
  CHECK(first["time_ns"] == kTimeNs + 7'000'000);
  CHECK(first["offset"] == 0);
  CHECK(first["frame"]["seq"] == 7);
  CHECK(first["frame"]["sample_rate"] == 48000);
  CHECK(first["frame"]["channels"] == 1);
  CHECK(first["frame"]["frames"] == 1024);
  CHECK(first["frame"]["metadata"]["source"] == "test");
  CHECK(rows[1]["node"] == "mixer");
  CHECK(rows[1]["offset"].get<std::uint64_t>() > 0);
}

TEST_CASE("the capnp tool decodes a dead-letter file", "[integration][dlq]") {
  ScratchDir dir;
  write_letters(dir.file("d.dlq"), {letter("amp", 7, 0.8f, 4), letter("mixer", 9, 0.8f, 4)});
  std::string out =
      shell_output("capnp decode '" + std::string(STREAMLAB_SOURCE_DIR) +
                   "/messages/dead_letter.capnp' DeadLetter < '" + dir.file("d.dlq") + "' 2>&1");
  INFO(out);
  CHECK_THAT(out, Contains("node = \"amp\"") && Contains("node = \"mixer\"") &&
                      Contains("reason = \"retries_exhausted\"") && Contains("seq = 7") &&
                      Contains("sampleRate = 48000"));
}

TEST_CASE("dlq inspect of a truncated file shows what was read, then fails", "[integration][dlq]") {
  ScratchDir dir;
  const std::string path = dir.file("d.dlq");
  auto ends = write_letters(path, {letter("amp", 1), letter("amp", 2), letter("amp", 3)});
  std::filesystem::resize_file(path, ends[1] + (ends[2] - ends[1]) / 2);

  Outcome o = run_in(dir, "dlq inspect d.dlq");
  INFO(o.out << o.err);
  CHECK(o.status == 1);
  auto lines = lines_of(o.out);
  REQUIRE(lines.size() == 3);  // header and two rows
  CHECK_THAT(lines[2], Contains(" 2 "));
  CHECK_THAT(o.err, Contains("d.dlq") && Contains("truncated") &&
                        Contains("byte offset " + std::to_string(ends[1])));

  Outcome j = run_in(dir, "dlq inspect d.dlq --json");
  CHECK(j.status == 1);
  CHECK(nlohmann::json::parse(j.out).size() == 2);
  CHECK_THAT(j.err, Contains("byte offset " + std::to_string(ends[1])));
}

TEST_CASE("dlq inspect: missing, empty and foreign files", "[integration][dlq]") {
  ScratchDir dir;
  Outcome missing = run_in(dir, "dlq inspect nothing.dlq");
  CHECK(missing.status == 1);
  CHECK_THAT(missing.err, Contains("nothing.dlq") && Contains("No such file"));

  write_letters(dir.file("empty.dlq"), {});
  Outcome empty = run_in(dir, "dlq inspect empty.dlq");
  CHECK(empty.status == 0);
  CHECK_THAT(empty.out, Contains("no dead letters"));
  Outcome empty_json = run_in(dir, "dlq inspect empty.dlq --json");
  CHECK(empty_json.status == 0);
  CHECK(nlohmann::json::parse(empty_json.out) == nlohmann::json::array());

  dir.write("notes.txt", "certainly not a dead letter\n");
  Outcome foreign = run_in(dir, "dlq inspect notes.txt");
  CHECK(foreign.status == 1);
  CHECK_THAT(foreign.err, Contains("notes.txt") && Contains("byte offset 0"));
}

TEST_CASE("dlq replay runs the frames through the node and what follows it", "[integration][dlq]") {
  ScratchDir dir;
  dir.write("pipeline.json", kPipeline);
  std::vector<DeadLetter> letters;
  for (std::uint64_t seq = 10; seq < 15; ++seq) letters.push_back(letter("amp", seq));
  letters.push_back(letter("file", 20, 0.2f, 512));  // another node's: not replayed
  write_letters(dir.file("d.dlq"), letters);

  Outcome o = run_in(dir, "dlq replay d.dlq --into pipeline.json --node amp --metrics-json m.json");
  INFO(o.out << o.err);
  REQUIRE(o.status == 0);
  CHECK_THAT(o.out, Contains("dead_letters") && Contains("amp") && Contains("file"));
  CHECK_THAT(o.out, !Contains("tone"));  // upstream of amp: left out

  // Beside the pipeline's output, never over it.
  const std::string wav = dir.file("replayed.replay.wav");
  CHECK_FALSE(std::filesystem::exists(dir.file("replayed.wav")));
  CHECK(shell_output("soxi -s '" + wav + "'") == std::to_string(5 * 1024) + "\n");
  CHECK(sox_stat(wav, "Maximum amplitude") == Approx(0.4).epsilon(1e-4));

  auto metrics = nlohmann::json::parse(slurp(dir.file("m.json")));
  REQUIRE(metrics["nodes"].size() == 3);
  CHECK(metrics["nodes"][0]["node"] == "dead_letters");
  CHECK(metrics["nodes"][0]["type"] == "dead_letter_source");
  CHECK(metrics["nodes"][0]["frames_out"] == 5);
  CHECK(metrics["nodes"][1]["node"] == "amp");
  CHECK(metrics["nodes"][1]["frames_in"] == 5);
  CHECK(metrics["nodes"][2]["frames_in"] == 5);

  // Each section replays again: clear what the first replay left.
  std::filesystem::remove(dir.file("d.dlq.replayed"));
  std::filesystem::remove(wav);
  SECTION("--frames-only-from picks another node's letters") {
    Outcome other = run_in(
        dir, "dlq replay d.dlq --into pipeline.json --node amp --frames-only-from file --quiet");
    INFO(other.err);
    REQUIRE(other.status == 0);
    CHECK(other.out.empty());
    CHECK(shell_output("soxi -s '" + wav + "'") == "512\n");
  }
  SECTION("a replay into the sink skips the gain") {
    Outcome sink = run_in(dir,
                          "dlq replay d.dlq --into pipeline.json --node file "
                          "--frames-only-from amp --quiet");
    INFO(sink.err);
    REQUIRE(sink.status == 0);
    CHECK(sox_stat(wav, "Maximum amplitude") == Approx(0.8).epsilon(1e-4));
  }
}

TEST_CASE("dlq replay of a truncated file replays what was read, then fails",
          "[integration][dlq]") {
  ScratchDir dir;
  dir.write("pipeline.json", kPipeline);
  const std::string path = dir.file("d.dlq");
  auto ends = write_letters(path, {letter("amp", 1), letter("amp", 2), letter("amp", 3)});
  std::filesystem::resize_file(path, ends[2] - 16);
  Outcome o = run_in(dir, "dlq replay d.dlq --into pipeline.json --node amp");
  INFO(o.out << o.err);
  CHECK(o.status == 2);
  CHECK_THAT(o.out, Contains("byte offset " + std::to_string(ends[1])));
  CHECK(shell_output("soxi -s '" + dir.file("replayed.replay.wav") + "'") == "2048\n");
}

TEST_CASE("dlq replay writes beside the outputs and to a new failures file, once",
          "[integration][dlq]") {
  ScratchDir dir;
  // Every other frame is poison: it fails on every attempt, so retries give
  // up on it, and a replay fails it again.
  dir.write("p.json", R"({"name":"poisoned","pipeline_config":{"dead_letter_path":"d.dlq"},
    "nodes":[
      {"id":"tone","type":"sine","config":{"num_frames":10}},
      {"id":"bad","type":"fault","config":{"poison_every":2,"action":"error"},
       "supervision":{"on_error":"retry","retry":{"attempts":1,"backoff_ms":0}}},
      {"id":"file","type":"wav_sink","config":{"path":"out.wav"}}],
    "connections":[{"from":"tone","to":"bad"},{"from":"bad","to":"file"}]})");
  Outcome first = run_in(dir, "run p.json --quiet");
  INFO(first.out << first.err);
  REQUIRE(first.status == 0);
  const std::string letters = dir.file("d.dlq");
  const auto letters_size = std::filesystem::file_size(letters);
  const std::string out = dir.file("out.wav");
  CHECK(shell_output("soxi -s '" + out + "'") == std::to_string(5 * 1024) + "\n");

  Outcome replay = run_in(dir, "dlq replay d.dlq --into p.json --node bad --quiet");
  INFO(replay.out << replay.err);
  CHECK(replay.status == 0);
  // The poison frames failed again: into a new file, not the one being read.
  CHECK(std::filesystem::file_size(letters) == letters_size);
  Outcome failures = run_in(dir, "dlq inspect d.replay.dlq --json");
  REQUIRE(failures.status == 0);
  CHECK(nlohmann::json::parse(failures.out).size() == 5);
  CHECK(shell_output("soxi -s '" + out + "'") == std::to_string(5 * 1024) + "\n");
  CHECK_THAT(slurp(dir.file("d.dlq.replayed")), Contains("d.replay.dlq"));

  // A second replay would deliver the same frames again: refused.
  Outcome again = run_in(dir, "dlq replay d.dlq --into p.json --node bad --quiet");
  CHECK(again.status == 1);
  CHECK_THAT(again.err, Contains("already replayed") && Contains("nothing was started"));
  Outcome failures_after = run_in(dir, "dlq inspect d.replay.dlq --json");
  CHECK(nlohmann::json::parse(failures_after.out).size() == 5);

  // Replayed into the sink, the frames go beside its file, which keeps its 5 frames.
  std::filesystem::copy_file(letters, dir.file("e.dlq"));
  Outcome into_sink =
      run_in(dir, "dlq replay e.dlq --into p.json --node file --frames-only-from bad --quiet");
  INFO(into_sink.err);
  CHECK(into_sink.status == 0);
  CHECK(shell_output("soxi -s '" + out + "'") == std::to_string(5 * 1024) + "\n");
  CHECK(shell_output("soxi -s '" + dir.file("out.replay.wav") + "'") ==
        std::to_string(5 * 1024) + "\n");
  // An existing .replay file is never overwritten either.
  std::filesystem::remove(dir.file("e.dlq.replayed"));
  Outcome over = run_in(dir, "dlq replay e.dlq --into p.json --node file --frames-only-from bad");
  CHECK(over.status == 1);
  CHECK_THAT(over.err, Contains("out.replay.wav") && Contains("never overwrites"));
}

TEST_CASE("dlq replay refuses what it cannot replay, starting nothing", "[integration][dlq]") {
  ScratchDir dir;
  dir.write("pipeline.json", kPipeline);
  write_letters(dir.file("d.dlq"), {letter("amp", 1)});

  Outcome unknown = run_in(dir, "dlq replay d.dlq --into pipeline.json --node ampp");
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.err, Contains("\"ampp\"") && Contains("tone, amp, file"));

  Outcome source = run_in(dir, "dlq replay d.dlq --into pipeline.json --node tone");
  CHECK(source.status == 1);
  CHECK_THAT(source.err, Contains("\"tone\"") && Contains("source"));

  Outcome missing = run_in(dir, "dlq replay gone.dlq --into pipeline.json --node amp");
  CHECK(missing.status == 1);
  CHECK_THAT(missing.err, Contains("gone.dlq") && Contains("nothing was started"));

  dir.write("bad.json", R"({"nodes": []})");
  Outcome bad = run_in(dir, "dlq replay d.dlq --into bad.json --node amp");
  CHECK(bad.status == 1);
  CHECK_THAT(bad.err, Contains("bad.json") && Contains("nothing was started"));

  Outcome no_node = run_in(dir, "dlq replay d.dlq --into pipeline.json");
  CHECK(no_node.status == 1);
  CHECK_THAT(no_node.err, Contains("--node"));

  CHECK_FALSE(std::filesystem::exists(dir.file("replayed.wav")));
}

TEST_CASE("dlq and its subcommands have --help", "[integration][dlq]") {
  ScratchDir dir;
  for (const char* args : {"dlq --help", "dlq inspect --help", "dlq replay --help"}) {
    Outcome o = run_in(dir, args);
    INFO(args);
    CHECK(o.status == 0);
    CHECK_THAT(o.out, Contains("Usage"));
  }
  Outcome replay_help = run_in(dir, "dlq replay --help");
  CHECK_THAT(replay_help.out, Contains("--into") && Contains("--node") &&
                                  Contains("--frames-only-from") && Contains("--metrics-json"));
  Outcome bare = run_in(dir, "dlq");
  CHECK(bare.status == 1);
}
