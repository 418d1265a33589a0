// audio_capture and audio_playback against a real (private, dummy-backend)
// JACK server: no actor system, the node driven the way its actor drives a
// live source (generate() polled, returning what is ready).

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <thread>

#include "../jack_test_server.hpp"
#include "node_test_support.hpp"
#include "nodes/audio_device.hpp"

using namespace streamlab;
using namespace streamlab::test;
using Catch::Matchers::Contains;

namespace {

std::string all_figures(const Node& node) {
  std::vector<NamedFigure> figures;
  node.figures(figures);
  std::string out;
  for (const auto& f : figures) out += f.name + "=" + std::to_string(f.value) + " ";
  return out;
}

double figure(const Node& node, const std::string& name) {
  std::vector<NamedFigure> figures;
  node.figures(figures);
  for (const auto& f : figures)
    if (f.name == name) return f.value;
  FAIL("no figure " << name);
  return 0;
}

bool silent(const Frame& f) {
  for (std::size_t i = 0; i < f.sample_count(); ++i)
    if (f.samples.data()[i] != 0.0f) return false;
  return true;
}

struct Polled {
  std::vector<Frame> frames;
  std::string error;
};

// Polls generate() every millisecond for `seconds`, or until it fails.
Polled poll(Node& node, double seconds) {
  Polled out;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  FrameList produced;
  while (std::chrono::steady_clock::now() < until) {
    produced.clear();
    bool eos = false;
    Status s = node.generate(produced, eos);
    for (auto& f : produced) out.frames.push_back(f);
    if (!s.is_ok()) {
      out.error = s.message();
      break;
    }
    REQUIRE_FALSE(eos);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return out;
}

// One channel of the frames, concatenated, from frame `skip` on.
std::vector<float> channel(const std::vector<Frame>& frames, std::uint32_t c, std::size_t skip) {
  std::vector<float> out;
  for (std::size_t i = skip; i < frames.size(); ++i)
    out.insert(out.end(), frames[i].channel(c), frames[i].channel(c) + frames[i].frames);
  return out;
}

json capture_config(const std::string& device) {
  return {{"api", "jack"},
          {"device", device},
          {"channels", 2},
          {"sample_rate", 48000},
          {"frame_size", 256}};
}

std::string error_of(const std::string& type, const json& config, const std::string& id) {
  const NodeType* t = NodeRegistry::builtin().find(type);
  REQUIRE(t);
  NodeContext ctx;
  ctx.node_id = id;
  try {
    t->make(with_defaults(t->schema, config), ctx);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("audio_capture records the tone of a JACK client: frequency, level, gapless",
          "[audio][nodes]") {
  JackTestServer jack("cap", {"tone"});
  if (!jack.usable()) return;
  NodeContext ctx;
  ctx.node_id = jack.name() + "_mic";
  auto node = make_node("audio_capture", capture_config(jack.tone()), ctx);
  REQUIRE(node->live());
  CHECK(node->live()->overflow == Overflow::drop_oldest);
  CHECK(node->live()->backlog == 4);

  const Polled got = poll(*node, 2.5);
  INFO(got.error);
  INFO(all_figures(*node));
  REQUIRE(got.error.empty());
  REQUIRE(got.frames.size() > 300);  // 2.5 s is 468 frames of 256

  for (std::size_t i = 0; i < got.frames.size(); ++i) {
    const Frame& f = got.frames[i];
    INFO("frame " << i);
    REQUIRE(f.seq == i);  // no gap in sequence numbers
    REQUIRE(f.frames == 256);
    REQUIRE(f.channels == 2);
    REQUIRE(f.sample_rate == 48000);
    if (i > 0) {
      // Capture times follow the device: one frame length apart (with the
      // callbacks' scheduling jitter). Silence that stands for frames an
      // xrun lost can land a block off (JACK reports an xrun from another
      // thread, often after the next cycle; a burst of late callbacks can
      // make a loss look a block longer): next to it, times may step back
      // by up to a block and the jitter.
      const double gap_ms = (f.timestamp_ns - got.frames[i - 1].timestamp_ns) / 1e6;
      if (silent(f) || silent(got.frames[i - 1]))
        CHECK(gap_ms > -2 * 256e3 / 48000);
      else
        CHECK(gap_ms > 0.0);
      CHECK(gap_ms < 250.0);  // the dummy backend stalls on a loaded machine
    }
  }
  // The device's clock against the system's: reported once the stream has
  // run a second. (The dummy backend's clock is the system's, but it falls
  // far behind on a loaded machine: only a sane range is checked.)
  CHECK(std::abs(figure(*node, "clock_drift_ppm")) < 500000);

  // The first blocks may be silence while RtAudio connects the ports.
  const std::size_t skip = 40;
  const auto left = channel(got.frames, 0, skip);
  const auto right = channel(got.frames, 1, skip);
  CHECK(tone_frequency(left, 48000) == Approx(kToneLeftHz).margin(1.0));
  CHECK(tone_frequency(right, 48000) == Approx(kToneRightHz).margin(1.0));
  CHECK(std::abs(db(tone_amplitude(left) / kToneAmplitude)) < 0.5);
  CHECK(std::abs(db(tone_amplitude(right) / kToneAmplitude)) < 0.5);

  // The node's own figures.
  CHECK(figure(*node, "callbacks") > 300);
  CHECK(figure(*node, "period_frames") == 256);
  CHECK(figure(*node, "callback_period_p50_us") == Approx(256e6 / 48000).epsilon(0.25));
  // Device overruns (JACK xruns) happen on a loaded machine: the dummy
  // backend runs without real-time priority. The ring must not overflow.
  CHECK(figure(*node, "xruns") >= 0);
  CHECK(figure(*node, "ring_overflows") == 0);
  CHECK(figure(*node, "ring_fill_max_ratio") < 0.5);
  // Every frame out was captured, or is silence in place of what an xrun lost.
  CHECK(figure(*node, "frames_captured") + figure(*node, "xrun_frames_filled") >=
        got.frames.size() * 256);

  FrameList rest;
  REQUIRE(node->finish(rest).is_ok());
}

TEST_CASE("audio_capture counts ring overflows apart from device overruns, keeping the timeline",
          "[audio][nodes]") {
  JackTestServer jack("ovf", {"tone"});
  if (!jack.usable()) return;
  auto config = capture_config(jack.tone());
  config["buffer_ms"] = 10;  // the ring holds 4 frames (1024 samples per channel) at least
  auto node = make_node("audio_capture", config);
  Polled first = poll(*node, 0.2);
  REQUIRE(first.error.empty());
  // Nobody drains the ring for 300 ms: the callback has to drop blocks.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Polled second = poll(*node, 0.3);
  REQUIRE(second.error.empty());

  CHECK(figure(*node, "ring_overflows") > 0);
  CHECK(figure(*node, "ring_overflow_frames") >= 256 * figure(*node, "ring_overflows"));
  INFO(all_figures(*node));
  CHECK(figure(*node, "ring_fill_max_ratio") == Approx(1.0).margin(0.3));
  // The lost blocks are replaced by silence of the same length, so the
  // frames go on gapless and hold every frame of the device's timeline:
  // those captured and those lost, to the ring or to an xrun (but for the
  // last blocks, lost and not yet followed by one that arrived, and the
  // frame under way).
  std::vector<Frame> all = first.frames;
  all.insert(all.end(), second.frames.begin(), second.frames.end());
  for (std::size_t i = 0; i < all.size(); ++i) REQUIRE(all[i].seq == i);
  const double timeline = figure(*node, "frames_captured") + figure(*node, "ring_overflow_frames") +
                          figure(*node, "xrun_frames_filled");
  CHECK(all.size() * 256.0 <= timeline);
  CHECK(all.size() * 256.0 > timeline - 8 * 256);
}

TEST_CASE("audio_capture fails, after sending what it had, when the JACK server dies",
          "[audio][nodes]") {
  JackTestServer jack("die", {"tone"});
  if (!jack.usable()) return;
  auto node = make_node("audio_capture", capture_config(jack.tone()));
  Polled before = poll(*node, 0.5);
  REQUIRE(before.error.empty());
  REQUIRE_FALSE(before.frames.empty());

  jack.kill();
  Polled after = poll(*node, 3.0);  // RtAudio closes the stream within ~250 ms
  CHECK(after.error == "audio_capture \"\": the JACK stream of \"" + jack.tone() +
                           "\" was closed under us (JACK server gone?)");
  for (const auto& f : after.frames) CHECK(f.frames == 256);  // the last one completed with silence
  FrameList more;
  bool eos = false;
  CHECK(node->generate(more, eos).message() == after.error);  // it stays failed

  // And while the server is away, the node cannot be created again.
  CHECK_THAT(error_of("audio_capture", capture_config(jack.tone()), "mic"),
             Contains("audio_capture \"mic\": cannot reach a JACK server (JACK_DEFAULT_SERVER=\"" +
                      jack.name() + "\"): is jackd running?"));
}

TEST_CASE("audio_capture errors say what is wrong and what there is", "[audio][nodes]") {
  JackTestServer jack("err", {"tone"});
  if (!jack.usable()) return;
  const std::string devices =
      "0 \"system\" (2 ch, 48000 Hz), 1 \"" + jack.tone() + "\" (2 ch, 48000 Hz)";

  CHECK(error_of("audio_capture", capture_config("nope"), "mic") ==
        "audio_capture \"mic\": no input device \"nope\" on JACK; input devices: " + devices);

  auto rate = capture_config(jack.tone());
  rate["sample_rate"] = 44100;
  CHECK(error_of("audio_capture", rate, "mic") ==
        "audio_capture \"mic\": input device \"" + jack.tone() +
            "\" on JACK does not support 44100 Hz; it supports 48000 Hz");

  auto channels = capture_config(jack.tone());
  channels["channels"] = 4;
  CHECK(error_of("audio_capture", channels, "mic") ==
        "audio_capture \"mic\": input device \"" + jack.tone() +
            "\" on JACK has 2 input channels, 4 asked for");

  // By index, as `streamlab devices` lists them.
  CHECK(error_of("audio_capture", capture_config("1"), "mic").empty());

  CHECK(error_of("audio_playback", {{"api", "jack"}, {"device", jack.tone()}}, "spk") ==
        "audio_playback \"spk\": no output device \"" + jack.tone() +
            "\" on JACK; output devices: 0 \"system\" (2 ch, 48000 Hz)");

  ::setenv("JACK_DEFAULT_SERVER", (jack.name() + "_absent").c_str(), 1);
  CHECK(error_of("audio_capture", capture_config(jack.tone()), "mic") ==
        "audio_capture \"mic\": cannot reach a JACK server (JACK_DEFAULT_SERVER=\"" + jack.name() +
            "_absent\"): is jackd running?");
  ::setenv("JACK_DEFAULT_SERVER", jack.name().c_str(), 1);
}

TEST_CASE("the device list shows the tone client as a 2-channel input at the server's rate",
          "[audio][nodes]") {
  JackTestServer jack("list", {"tone"});
  if (!jack.usable()) return;
  const auto listing = audio::list_devices("jack");
  CHECK(listing.problem.empty());
  std::map<std::string, audio::DeviceInfo> by_name;
  for (const auto& d : listing.devices) by_name[d.name] = d;
  REQUIRE(by_name.count("system") == 1);
  REQUIRE(by_name.count(jack.tone()) == 1);
  const auto& tone = by_name.at(jack.tone());
  CHECK(tone.input_channels == 2);
  CHECK(tone.output_channels == 0);
  CHECK(tone.sample_rates == std::vector<unsigned>{48000});
  CHECK(by_name.at("system").default_input);
}

TEST_CASE("audio_playback plays its input: a capture of its JACK ports hears it",
          "[audio][nodes]") {
  JackTestServer jack("play", {});
  if (!jack.usable()) return;
  NodeContext play_ctx;
  play_ctx.node_id = jack.name() + "_spk";  // its JACK client name
  auto speaker = make_node("audio_playback", {{"api", "jack"}, {"device", "system"}}, play_ctx);

  BufferPool pool;
  // 1 kHz at 0.25, mono, in frames of 480: the first frame opens the device.
  auto sine_frame = [&](std::uint64_t seq) {
    std::vector<float> samples(480);
    for (std::size_t i = 0; i < samples.size(); ++i)
      samples[i] = 0.25f * static_cast<float>(std::sin(kTwoPi * 1000.0 * (seq * 480 + i) / 48000));
    return make_frame(pool, seq, 48000, 1, samples);
  };
  FrameList none;
  Frame f0 = sine_frame(0);
  const Frame* in0[] = {&f0};
  REQUIRE(speaker->process(Inputs{in0, 1}, none).is_ok());

  // Its output ports are now an input device named after it.
  auto config = capture_config(play_ctx.node_id);
  config["channels"] = 1;
  auto ear = make_node("audio_capture", config);
  std::vector<Frame> heard;
  for (std::uint64_t seq = 1; seq < 300; ++seq) {  // 3 s; process() waits for room
    Frame f = sine_frame(seq);
    const Frame* in[] = {&f};
    REQUIRE(speaker->process(Inputs{in, 1}, none).is_ok());
    FrameList got;
    bool eos = false;
    REQUIRE(ear->generate(got, eos).is_ok());
    heard.insert(heard.end(), got.begin(), got.end());
  }
  REQUIRE(heard.size() > 200);
  const auto x = channel(heard, 0, heard.size() / 2);
  CHECK(tone_frequency(x, 48000) == Approx(1000.0).margin(1.0));
  CHECK(std::abs(db(tone_amplitude(x) / 0.25)) < 0.5);
  CHECK(figure(*speaker, "callbacks") > 0);
  CHECK(figure(*speaker, "frames_played") > 0);
  REQUIRE(speaker->finish(none).is_ok());
}

TEST_CASE("audio node configs: fields, defaults and choices", "[nodes]") {
  CHECK(validate("audio_capture", json::object()).empty());
  CHECK(validate("audio_playback", json::object()).empty());
  CHECK_FALSE(validate("audio_capture", {{"overflow", "drop_all"}}).empty());
  CHECK_FALSE(validate("audio_capture", {{"api", "coreaudio"}}).empty());
  CHECK_FALSE(validate("audio_capture", {{"frame_size", 0}}).empty());
  const auto* type = NodeRegistry::builtin().find("audio_capture");
  REQUIRE(type);
  CHECK(type->schema.is_source());
  const auto config = with_defaults(type->schema, json::object());
  CHECK(config.at("api") == "default");
  CHECK(config.at("device") == "");
  CHECK(config.at("overflow") == "drop_oldest");
  CHECK(NodeRegistry::builtin().find("audio_playback")->schema.is_sink());
}
