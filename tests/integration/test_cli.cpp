// The real `streamlab` executable, run as a user would, in a scratch
// directory. Output files are checked with sox, a decoder other than ours.

#include <catch2/catch.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_test_support.hpp"

extern char** environ;

using namespace streamlab::test;

TEST_CASE("the default example writes the tone it describes", "[integration]") {
  ScratchDir dir;
  Outcome o = run_in(dir, "run " + kExamples + "/sine_gain_wav.json --metrics-json metrics.json");
  INFO(o.err);
  REQUIRE(o.status == 0);
  CHECK_THAT(o.out,
             Catch::Contains("tone") && Catch::Contains("attenuate") && Catch::Contains("file"));

  const std::string wav = dir.file("sine_gain.wav");
  CHECK(shell_output("soxi -r '" + wav + "'") == "48000\n");
  CHECK(shell_output("soxi -c '" + wav + "'") == "1\n");
  CHECK(shell_output("soxi -e '" + wav + "'") == "Floating Point PCM\n");
  // 469 frames of 1024 samples, amplitude 0.8 halved by the gain.
  CHECK(sox_stat(wav, "Samples read") == 469 * 1024);
  CHECK(sox_stat(wav, "Length \\(seconds\\)") == Approx(469 * 1024 / 48000.0).epsilon(1e-4));
  CHECK(sox_stat(wav, "RMS     amplitude") == Approx(0.4 / std::sqrt(2.0)).epsilon(0.002));
  CHECK(sox_stat(wav, "Maximum amplitude") == Approx(0.4).epsilon(0.002));
  CHECK(sox_stat(wav, "Rough   frequency") == Approx(440).margin(3));

  auto metrics = nlohmann::json::parse(slurp(dir.file("metrics.json")));
  REQUIRE(metrics["nodes"].size() == 3);
  for (const auto& node : metrics["nodes"]) {
    INFO(node.dump());
    for (const char* key :
         {"pipeline", "node", "type", "state", "frames_in", "frames_out", "errors", "restarts",
          "dropped", "dead_lettered", "latency_us", "queue"})
      CHECK(node.contains(key));
    CHECK(node["pipeline"] == "sine_gain_wav");
    CHECK(node["state"] == "finished");
    CHECK(node["errors"] == 0);
    CHECK(node["latency_us"].contains("p99"));
    CHECK(node["queue"].contains("max_occupancy"));
  }
  CHECK(metrics["nodes"][0]["frames_out"] == 469);
  CHECK(metrics["nodes"][2]["frames_in"] == 469);
}

TEST_CASE("every example validates, and runs to the end", "[integration]") {
  ScratchDir dir;
  // wav_source.json reads what sine_gain_wav.json writes.
  for (const char* name : {"sine_gain_wav", "fanout", "mix", "wav_source", "fault_injection"}) {
    std::string file = kExamples + "/" + name + ".json";
    Outcome valid = run_in(dir, "validate " + file);
    INFO(name << ": " << valid.err);
    CHECK(valid.status == 0);
    CHECK_THAT(valid.out, Catch::Contains("valid"));
    Outcome ran = run_in(dir, "run " + file + " --quiet");
    INFO(ran.err);
    CHECK(ran.status == 0);
  }
  CHECK(sox_stat(dir.file("sine_gain_louder.wav"), "Maximum amplitude") ==
        Approx(0.8).epsilon(0.002));
  CHECK(shell_output("soxi -b '" + dir.file("fanout_raw.wav") + "'") == "16\n");
  CHECK(shell_output("soxi -c '" + dir.file("fanout_raw.wav") + "'") == "2\n");
}

TEST_CASE("bad pipelines are refused with the problem and its place", "[integration]") {
  struct Case {
    const char* name;
    const char* text;
    std::vector<const char*> expected;
  };
  const std::vector<Case> cases = {
      {"malformed json", "{\"nodes\": [\n  {\"id\": \"a\",,}\n]}", {"bad.json", "line 2, column"}},
      {"unknown type",
       R"({"nodes":[{"id":"a","type":"sinus"},{"id":"b","type":"null_sink"}],
           "connections":[{"from":"a","to":"b"}]})",
       {"/nodes/0", "\"sinus\"", "sine"}},
      {"bad config value",
       R"({"nodes":[{"id":"osc","type":"sine","config":{"frequency":-5}},{"id":"b","type":"null_sink"}],
           "connections":[{"from":"osc","to":"b"}]})",
       {"/nodes/0/config/frequency", "\"osc\"", "-5"}},
      {"duplicate id",
       R"({"nodes":[{"id":"a","type":"sine"},{"id":"a","type":"null_sink"}],
           "connections":[{"from":"a","to":"a"}]})",
       {"/nodes/1", "duplicate"}},
      {"connection to unknown node",
       R"({"nodes":[{"id":"a","type":"sine"},{"id":"b","type":"null_sink"}],
           "connections":[{"from":"a","to":"b"},{"from":"a","to":"ghost"}]})",
       {"/connections/1/to", "\"ghost\""}},
      {"cycle",
       R"({"nodes":[{"id":"s","type":"sine"},{"id":"m","type":"mix"},{"id":"g","type":"gain"},
                    {"id":"o","type":"null_sink"}],
           "connections":[{"from":"s","to":"m"},{"from":"m","to":"g"},{"from":"g","to":"m"},
                          {"from":"g","to":"o"}]})",
       {"cycle"}},
      {"missing input",
       R"({"nodes":[{"id":"s","type":"sine"},{"id":"g","type":"gain"},{"id":"o","type":"null_sink"}],
           "connections":[{"from":"s","to":"o"}]})",
       {"\"g\"", "input"}},
      {"unreadable input file",
       R"({"nodes":[{"id":"in","type":"wav_source","config":{"path":"/nonexistent/x.wav"}},
                    {"id":"o","type":"null_sink"}],
           "connections":[{"from":"in","to":"o"}]})",
       {"/nodes/0/config/path", "/nonexistent/x.wav"}},
  };
  for (const auto& c : cases) {
    ScratchDir dir;
    dir.write("bad.json", c.text);
    for (const char* command : {"validate", "run"}) {
      Outcome o = run_in(dir, std::string(command) + " bad.json");
      INFO(c.name << " / " << command << ":\n" << o.err);
      CHECK(o.status == 1);
      for (const char* fragment : c.expected) CHECK_THAT(o.err, Catch::Contains(fragment));
      if (std::string(command) == "run") CHECK_THAT(o.err, Catch::Contains("nothing was started"));
    }
  }

  ScratchDir dir;
  Outcome missing = run_in(dir, "validate no_such_file.json");
  CHECK(missing.status == 1);
  CHECK_THAT(missing.err, Catch::Contains("no_such_file.json"));
}

TEST_CASE("several problems are reported at once", "[integration]") {
  ScratchDir dir;
  dir.write("bad.json", R"({"nodes":[
      {"id":"osc","type":"sine","config":{"frequency":"high","amplitude":7}},
      {"id":"x","type":"nope"},
      {"id":"o","type":"null_sink"}],
    "connections":[{"from":"osc","to":"o"},{"from":"osc","to":"nowhere"}]})");
  Outcome o = run_in(dir, "validate bad.json");
  INFO(o.err);
  CHECK(o.status == 1);
  CHECK_THAT(o.err, Catch::Contains("/nodes/0/config/frequency"));
  CHECK_THAT(o.err, Catch::Contains("/nodes/0/config/amplitude"));
  CHECK_THAT(o.err, Catch::Contains("\"nope\""));
  CHECK_THAT(o.err, Catch::Contains("\"nowhere\""));
}

TEST_CASE("nodes lists every type with its fields", "[integration]") {
  ScratchDir dir;
  Outcome o = run_in(dir, "nodes");
  REQUIRE(o.status == 0);
  for (const char* type :
       {"sine", "gain", "mix", "wav_source", "wav_sink", "null_sink", "print", "fault",
        "dead_letter_source", "constant", "audio_capture", "audio_playback"})
    CHECK_THAT(o.out, Catch::Contains(std::string(type) + " ("));
  CHECK_THAT(o.out, Catch::Contains("frequency") && Catch::Contains("fail_every"));

  Outcome j = run_in(dir, "nodes --json");
  REQUIRE(j.status == 0);
  auto listing = nlohmann::json::parse(j.out);
  CHECK(listing.size() == 12);
}

TEST_CASE("every subcommand has --help, and bad options are refused", "[integration]") {
  ScratchDir dir;
  for (const char* sub : {"run", "validate", "nodes"}) {
    Outcome o = run_in(dir, std::string(sub) + " --help");
    INFO(sub);
    CHECK(o.status == 0);
    CHECK_THAT(o.out, Catch::Contains("Usage"));
  }
  Outcome level = run_in(dir, "--log-level loud nodes");
  CHECK(level.status == 1);
  CHECK_THAT(level.err, Catch::Contains("loud"));
  Outcome both = run_in(dir, "run x.json --frames 3 --duration 1");
  CHECK(both.status == 1);
}

TEST_CASE("Ctrl-C drains the pipeline and leaves a complete file", "[integration][signal]") {
  ScratchDir dir;
  dir.write("endless.json", R"({"nodes":[
      {"id":"tone","type":"sine","config":{"frequency":440}},
      {"id":"pace","type":"fault","config":{"delay_ms":2}},
      {"id":"file","type":"wav_sink","config":{"path":"endless.wav"}}],
    "connections":[{"from":"tone","to":"pace"},{"from":"pace","to":"file"}]})");
  std::string endless = dir.file("endless.json");
  std::string metrics = dir.file("m.json");
  std::string wav_dir = dir.path;
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (chdir(wav_dir.c_str()) != 0) _exit(99);
    freopen("/dev/null", "w", stdout);
    execl(kBinary.c_str(), kBinary.c_str(), "run", endless.c_str(), "--metrics-json",
          metrics.c_str(), static_cast<char*>(nullptr));
    _exit(98);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  kill(pid, SIGINT);
  int raw = 0;
  waitpid(pid, &raw, 0);
  REQUIRE(WIFEXITED(raw));
  CHECK(WEXITSTATUS(raw) == 0);

  auto m = nlohmann::json::parse(slurp(metrics));
  auto produced = m["nodes"][0]["frames_out"].get<std::uint64_t>();
  CHECK(produced > 0);
  CHECK(m["nodes"][2]["frames_in"] == produced);  // drained: nothing lost
  CHECK(sox_stat(dir.file("endless.wav"), "Samples read") == produced * 1024);
}

TEST_CASE("every example ends by itself and says so in its description",
          "[integration][examples]") {
  std::size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    if (entry.path().extension() != ".json") continue;
    ++seen;
    std::ifstream in(entry.path());
    const nlohmann::json doc = nlohmann::json::parse(in);
    INFO(entry.path().string());
    CHECK_THAT(doc.value("description", std::string()), Catch::Contains("Ends"));
    for (const auto& node : doc.at("nodes")) {
      const nlohmann::json config = node.value("config", nlohmann::json::object());
      const std::string type = node.at("type");
      INFO(node.at("id").get<std::string>());
      // A source without an end runs (and, unpaced, spins) until stopped.
      if (type == "sine" || type == "constant") CHECK(config.value("num_frames", 0) > 0);
      if (type == "wav_source") CHECK_FALSE(config.value("loop", false));
      if (type == "audio_capture") FAIL("a capture example never ends by itself");
    }
  }
  CHECK(seen == 6);
}
