#include <catch2/catch.hpp>

#include <sndfile.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "messages/input_limits.hpp"
#include "node_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

namespace {

// Writes every frame of `frames` through a wav_sink and closes it.
void write_through_sink(const std::string& path, const std::string& format,
                        const FrameList& frames) {
  auto sink = make_node("wav_sink", {{"path", path}, {"format", format}});
  FrameList none;
  for (const Frame& f : frames) {
    Status s = step(*sink, f, none);
    INFO(s.message());
    REQUIRE(s.is_ok());
  }
  REQUIRE(sink->finish(none).is_ok());
  CHECK(none.empty());
}

FrameList read_through_source(const std::string& path, int frame_size) {
  auto source = make_node("wav_source", {{"path", path}, {"frame_size", frame_size}});
  return drain(*source);
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  REQUIRE(pclose(pipe) == 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

FrameList sine_frames(std::uint32_t channels, int frame_size, int count, double amplitude = 0.9) {
  auto sine = make_node("sine", {{"frequency", 997},
                                 {"amplitude", amplitude},
                                 {"channels", channels},
                                 {"frame_size", frame_size}});
  return drain(*sine, static_cast<std::size_t>(count));
}

}  // namespace

TEST_CASE("wav_sink float -> wav_source round trip is exact", "[nodes][wav]") {
  TempDir dir;
  const std::string path = dir.file("tone.wav");
  FrameList written = sine_frames(2, 256, 40);  // 10240 frames per channel
  write_through_sink(path, "float", written);

  // A different frame size on the way back: 10 full frames and a short one.
  FrameList read = read_through_source(path, 1000);
  REQUIRE(read.size() == 11);
  for (std::size_t i = 0; i < read.size(); ++i) {
    CHECK(read[i].seq == i);
    CHECK(read[i].sample_rate == 48000);
    CHECK(read[i].channels == 2);
    CHECK(read[i].frames == (i < 10 ? 1000u : 240u));
  }
  for (std::uint32_t c = 0; c < 2; ++c)
    CHECK(concat_channel(read, c) == concat_channel(written, c));
  CHECK(run("sox --i -b '" + path + "'") == "32");
  CHECK(run("sox --i -t '" + path + "'") == "wav");
}

TEST_CASE("wav_sink pcm16 round trips within one step of 16 bits", "[nodes][wav]") {
  TempDir dir;
  const std::string name = GENERATE(as<std::string>{}, "tone.wav", "tone.flac");
  const std::string path = dir.file(name);
  FrameList written = sine_frames(3, 500, 20);
  write_through_sink(path, "pcm16", written);

  FrameList read = read_through_source(path, 4096);
  for (std::uint32_t c = 0; c < 3; ++c) {
    const auto expected = concat_channel(written, c);
    const auto got = concat_channel(read, c);
    REQUIRE(got.size() == expected.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, static_cast<double>(std::abs(got[i] - expected[i])));
    CHECK(worst <= 1.0 / 32768.0);
  }
  CHECK(run("sox --i -r '" + path + "'") == "48000");
  CHECK(run("sox --i -c '" + path + "'") == "3");
  CHECK(run("sox --i -b '" + path + "'") == "16");
  CHECK(run("sox --i -t '" + path + "'") == (name == "tone.wav" ? "wav" : "flac"));
}

TEST_CASE("wav_sink pcm16 clips overloads instead of wrapping", "[nodes][wav]") {
  TempDir dir;
  const std::string path = dir.file("clip.wav");
  BufferPool pool;
  write_through_sink(path, "pcm16",
                     {make_frame(pool, 0, 8000, 1, {1.5f, -1.5f, 1.0f, -1.0f, 0.25f})});
  FrameList read = read_through_source(path, 64);
  REQUIRE(read.size() == 1);
  CHECK(samples_of(read[0]) ==
        std::vector<float>{32767 / 32768.0f, -1.0f, 32767 / 32768.0f, -1.0f, 0.25f});
}

TEST_CASE("wav_source reads a 16-bit file written by sox", "[nodes][wav]") {
  TempDir dir;
  const std::string path = dir.file("sox.wav");
  run("sox -n -r 48000 -b 16 '" + path + "' synth 0.5 sine 1000");
  FrameList read = read_through_source(path, 1024);
  REQUIRE_FALSE(read.empty());
  for (const Frame& f : read) {
    CHECK(f.sample_rate == 48000);
    CHECK(f.channels == 1);
  }
  const auto x = concat_channel(read, 0);
  REQUIRE(x.size() == 24000);
  CHECK(read.back().frames == 24000 % 1024);
  // sox synthesises at full scale, with dither of about one 16-bit step.
  CHECK(tone_amplitude(x, 1000.0, 48000.0) == Approx(1.0).margin(1e-3));
  CHECK(tone_amplitude(x, 1100.0, 48000.0) < 1e-3);
}

TEST_CASE("wav_source loop restarts seamlessly; without it the stream ends", "[nodes][wav]") {
  TempDir dir;
  const std::string path = dir.file("ramp.wav");
  BufferPool pool;
  std::vector<float> ramp(100);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<float>(i) / 128.0f;
  write_through_sink(path, "float", {make_frame(pool, 0, 48000, 1, ramp)});

  SECTION("loop") {
    auto source = make_node("wav_source", {{"path", path}, {"frame_size", 64}, {"loop", true}});
    FrameList frames;
    bool eos = false;
    for (int i = 0; i < 7; ++i) {
      REQUIRE(source->generate(frames, eos).is_ok());
      REQUIRE_FALSE(eos);
    }
    const auto x = concat_channel(frames, 0);
    REQUIRE(x.size() == 7 * 64);
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(x[i] == ramp[i % ramp.size()]);
  }
  SECTION("a length that is a multiple of the frame size ends with an empty step") {
    auto source = make_node("wav_source", {{"path", path}, {"frame_size", 50}});
    FrameList frames;
    bool eos = false;
    REQUIRE(source->generate(frames, eos).is_ok());
    REQUIRE(source->generate(frames, eos).is_ok());
    CHECK_FALSE(eos);
    CHECK(frames.size() == 2);
    REQUIRE(source->generate(frames, eos).is_ok());
    CHECK(eos);
    CHECK(frames.size() == 2);
    REQUIRE(source->generate(frames, eos).is_ok());
    CHECK(eos);
  }
  SECTION("the short last frame carries end of stream") {
    auto source = make_node("wav_source", {{"path", path}, {"frame_size", 64}});
    FrameList frames;
    bool eos = false;
    REQUIRE(source->generate(frames, eos).is_ok());
    CHECK_FALSE(eos);
    REQUIRE(source->generate(frames, eos).is_ok());
    CHECK(eos);
    REQUIRE(frames.size() == 2);
    CHECK(frames[1].frames == 36);
  }
}

TEST_CASE("wav_source: unreadable files", "[nodes][wav]") {
  TempDir dir;
  SECTION("missing file: validation names the path; construction throws with it") {
    const std::string path = dir.file("missing.wav");
    Problems p = validate("wav_source", {{"path", path}});
    REQUIRE(p.size() == 1);
    CHECK(p[0].path == "/path");
    CHECK_THAT(p[0].message, Catch::Contains(path));
    const NodeType* type = NodeRegistry::builtin().find("wav_source");
    json config = with_defaults(type->schema, {{"path", path}});
    CHECK_THROWS_WITH(type->make(config, NodeContext{}), Catch::Contains(path));
  }
  SECTION("not audio: validation says libsndfile cannot read it") {
    const std::string path = dir.file("notes.wav");
    std::ofstream(path) << "this is not a RIFF file\n";
    Problems p = validate("wav_source", {{"path", path}});
    REQUIRE(p.size() == 1);
    CHECK(p[0].path == "/path");
    CHECK_THAT(p[0].message, Catch::Contains(path) && Catch::Contains("as audio"));
  }
  SECTION(
      "more channels than a frame may carry: refused at validation and at start, naming "
      "the limit") {
    const std::string path = dir.file("wide.wav");
    SF_INFO info{};
    info.samplerate = 8000;
    info.channels = static_cast<int>(limits::kMaxFrameChannels) + 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* out = sf_open(path.c_str(), SFM_WRITE, &info);
    REQUIRE(out);
    std::vector<float> samples(std::size_t{16} * static_cast<std::size_t>(info.channels), 0.25f);
    sf_writef_float(out, samples.data(), 16);
    sf_close(out);
    Problems p = validate("wav_source", {{"path", path}});
    REQUIRE(p.size() == 1);
    CHECK(p[0].path == "/path");
    CHECK_THAT(p[0].message, Catch::Contains("65 channels") && Catch::Contains("limit of 64"));
    const NodeType* type = NodeRegistry::builtin().find("wav_source");
    json config = with_defaults(type->schema, {{"path", path}});
    CHECK_THROWS_WITH(type->make(config, NodeContext{}), Catch::Contains("limit of 64"));
  }
  SECTION("path is required") {
    Problems p = validate("wav_source", json::object());
    REQUIRE(p.size() == 1);
    CHECK(p[0].path == "/path");
  }
}

TEST_CASE("wav_sink config: container by extension, FLAC only as pcm16", "[nodes][wav]") {
  TempDir dir;
  CHECK(validate("wav_sink", {{"path", dir.file("a.wav")}}).empty());
  CHECK(validate("wav_sink", {{"path", dir.file("a.WAV")}, {"format", "pcm16"}}).empty());
  CHECK(validate("wav_sink", {{"path", dir.file("a.flac")}, {"format", "pcm16"}}).empty());
  Problems p = validate("wav_sink", {{"path", dir.file("a.flac")}});
  REQUIRE(p.size() == 1);
  CHECK(p[0].path == "/format");
  p = validate("wav_sink", {{"path", dir.file("a.mp3")}});
  REQUIRE(p.size() == 1);
  CHECK(p[0].path == "/path");
  p = validate("wav_sink", {{"path", dir.file("noext")}});
  REQUIRE(p.size() == 1);
  CHECK(p[0].path == "/path");
  CHECK(validate("wav_sink", {{"path", dir.file("a.wav")}, {"format", "pcm24"}}).size() == 1);
  CHECK(validate("wav_sink", {{"path", dir.file("no/such/dir/a.wav")}}).size() == 1);
}

TEST_CASE("wav_sink rejects a format change mid-stream", "[nodes][wav]") {
  TempDir dir;
  const std::string path = dir.file("change.wav");
  BufferPool pool;
  auto sink = make_node("wav_sink", {{"path", path}});
  FrameList none;
  REQUIRE(step(*sink, make_frame(pool, 0, 48000, 1, std::vector<float>(64, 0.1f)), none).is_ok());
  // A larger frame of the same format is fine (the scratch grows).
  REQUIRE(step(*sink, make_frame(pool, 1, 48000, 1, std::vector<float>(4096, 0.2f)), none).is_ok());
  Status s = step(*sink, make_frame(pool, 2, 48000, 2, std::vector<float>(128, 0.1f)), none);
  REQUIRE_FALSE(s.is_ok());
  CHECK_THAT(s.message(), Catch::Contains(path) && Catch::Contains("2 ch") &&
                              Catch::Contains("1 ch") && Catch::Contains("seq 2"));
  s = step(*sink, make_frame(pool, 3, 44100, 1, std::vector<float>(64, 0.1f)), none);
  CHECK_FALSE(s.is_ok());
  REQUIRE(sink->finish(none).is_ok());

  FrameList read = read_through_source(path, 8192);
  REQUIRE(read.size() == 1);
  CHECK(read[0].frames == 64 + 4096);
}

TEST_CASE("wav_sink that saw no frame writes no file", "[nodes][wav]") {
  TempDir dir;
  const std::string path = dir.file("silent.wav");
  auto sink = make_node("wav_sink", {{"path", path}});
  FrameList none;
  REQUIRE(sink->finish(none).is_ok());
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("wav_sink reports an open failure with the path", "[nodes][wav]") {
  TempDir dir;
  const std::string path = dir.file("gone/out.wav");
  std::filesystem::create_directory(dir.file("gone"));
  auto sink = make_node("wav_sink", {{"path", path}});
  std::filesystem::remove(dir.file("gone"));  // validated, then vanished before the first frame
  BufferPool pool;
  FrameList none;
  Status s = step(*sink, make_frame(pool, 0, 48000, 1, std::vector<float>(16, 0.0f)), none);
  REQUIRE_FALSE(s.is_ok());
  CHECK_THAT(s.message(), Catch::Contains(path));
}

namespace {

double figure(const Node& node, const std::string& name) {
  std::vector<NamedFigure> figures;
  node.figures(figures);
  for (const auto& f : figures)
    if (f.name == name) return f.value;
  FAIL("no figure " << name);
  return -1;
}

}  // namespace

TEST_CASE("wav_source on a truncated file warns and counts the frames it could not read",
          "[nodes][wav]") {
  TempDir dir;
  const std::string path = dir.file("cut.wav");
  write_through_sink(path, "float", sine_frames(1, 256, 40));  // 10240 frames promised
  const auto full = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, full - 4 * 6000);  // 6000 mono float frames cut off

  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  auto source = make_node("wav_source", {{"path", path}, {"frame_size", 256}});
  const FrameList frames = drain(*source);
  spdlog::set_default_logger(previous);

  std::uint64_t read = 0;
  for (const Frame& f : frames) read += f.frames;
  CHECK(read == 10240 - 6000);
  CHECK(figure(*source, "file_frames_promised") == 10240);
  CHECK(figure(*source, "file_frames_read") == 10240 - 6000);
  CHECK(figure(*source, "file_frames_missing") == 6000);
  CHECK_THAT(log.str(), Catch::Contains(path) && Catch::Contains("truncated") &&
                            Catch::Contains("promises 10240 frames") &&
                            Catch::Contains("4240 were read"));

  SECTION("a whole file counts nothing missing") {
    const std::string whole = dir.file("whole.wav");
    write_through_sink(whole, "float", sine_frames(1, 256, 4));
    auto ok = make_node("wav_source", {{"path", whole}, {"frame_size", 256}});
    drain(*ok);
    CHECK(figure(*ok, "file_frames_promised") == 1024);
    CHECK(figure(*ok, "file_frames_missing") == 0);
  }
}
