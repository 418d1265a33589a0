// The `streamlab` executable with audio devices: `devices` lists what a
// private JACK server offers, and `run` captures its tone into a file with
// the capture's own figures in --metrics-json.

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "../jack_test_server.hpp"
#include "cli_test_support.hpp"

using namespace streamlab::test;
using Catch::Matchers::Contains;
using nlohmann::json;

TEST_CASE("streamlab devices lists the JACK server's devices, as a table and as JSON",
          "[audio][cli]") {
  JackTestServer jack("dev", {"tone"});
  if (!jack.usable()) return;
  ScratchDir dir;
  Outcome table = run_in(dir, "devices --api jack");
  INFO(table.out << table.err);
  CHECK(table.status == 0);
  CHECK_THAT(table.out, Contains("JACK (--api jack)"));
  CHECK_THAT(table.out, Contains("\"" + jack.tone() + "\""));
  CHECK_THAT(table.out, Contains("input, output"));  // the defaults: system, both ways

  Outcome listing = run_in(dir, "devices --api jack --json");
  INFO(listing.out << listing.err);
  REQUIRE(listing.status == 0);
  const json all = json::parse(listing.out);
  REQUIRE(all.at("apis").size() == 1);
  const json& jack_api = all.at("apis")[0];
  CHECK(jack_api.at("api") == "jack");
  CHECK_FALSE(jack_api.contains("problem"));
  bool found = false;
  for (const auto& d : jack_api.at("devices")) {
    if (d.at("name") != jack.tone()) continue;
    found = true;
    CHECK(d.at("input_channels") == 2);
    CHECK(d.at("output_channels") == 0);
    CHECK(d.at("sample_rates") == json::array({48000}));
    CHECK(d.at("default_input") == false);
  }
  CHECK(found);
}

TEST_CASE("streamlab devices says when the audio server cannot be reached", "[cli]") {
  const std::string absent = JackTestServer::unique_name("absent");
  ::setenv("JACK_DEFAULT_SERVER", absent.c_str(), 1);
  ::setenv("JACK_NO_START_SERVER", "1", 1);
  ScratchDir dir;
  Outcome o = run_in(dir, "devices --api jack");
  CHECK(o.status == 1);
  CHECK(o.out == "JACK (--api jack): cannot reach a JACK server (JACK_DEFAULT_SERVER=\"" + absent +
                     "\"): is jackd running?\n");

  Outcome unknown = run_in(dir, "devices --api coreaudio");
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.err, Contains("--api"));

  // Validation does not need the device: it is looked for when the run starts.
  dir.write("capture.json", R"({"name":"c","nodes":[
      {"id":"mic","type":"audio_capture","config":{"api":"jack","device":"tone"}},
      {"id":"out","type":"null_sink"}],"connections":[{"from":"mic","to":"out"}]})");
  CHECK(run_in(dir, "validate capture.json").status == 0);
  Outcome run = run_in(dir, "run capture.json --duration 1");
  CHECK(run.status == 1);
  CHECK_THAT(run.err, Contains("audio_capture \"mic\": cannot reach a JACK server "
                               "(JACK_DEFAULT_SERVER=\"" +
                               absent + "\"): is jackd running?"));
}

TEST_CASE("streamlab run captures the tone into a WAV file and reports the capture's figures",
          "[audio][cli]") {
  JackTestServer jack("run", {"tone"});
  if (!jack.usable()) return;
  ScratchDir dir;
  dir.write("capture.json", R"({"name":"capture","nodes":[
      {"id":"mic","type":"audio_capture",
       "config":{"api":"jack","device":")" +
                                jack.tone() + R"(","channels":2}},
      {"id":"file","type":"wav_sink","config":{"path":"tone.wav"}}],
    "connections":[{"from":"mic","to":"file"}]})");
  Outcome o = run_in(dir, "run capture.json --duration 2 --metrics-json metrics.json");
  INFO(o.out << o.err);
  REQUIRE(o.status == 0);
  const json metrics = json::parse(slurp(dir.file("metrics.json")));
  json mic, file;
  for (const auto& n : metrics.at("nodes")) {
    if (n.at("node") == "mic") mic = n;
    if (n.at("node") == "file") file = n;
  }
  REQUIRE(mic.is_object());
  const json& figures = mic.at("figures");
  for (const char* name : {"callbacks", "callback_period_p50_us", "callback_period_p99_us", "xruns",
                           "ring_overflows", "ring_fill_ratio", "clock_drift_ppm"})
    CHECK(figures.contains(name));
  CHECK(figures.at("callbacks") > 100);  // 375 in 2 s, fewer on a loaded machine
  CHECK(figures.at("ring_overflows") == 0);
  CHECK(file.at("end_to_end_latency_us").at("p50") > 0);
  CHECK_FALSE(file.contains("figures"));

  // sox, a decoder other than ours: two channels at 48 kHz, the tone's level.
  const std::string wav = dir.file("tone.wav");
  CHECK(sox_stat(wav, "Samples read") == mic.at("frames_out").get<double>() * 256 * 2);
  CHECK(sox_stat(wav, "RMS     amplitude") == Approx(kToneAmplitude / std::sqrt(2.0)).epsilon(0.1));
}
