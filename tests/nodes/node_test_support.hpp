#pragma once
// Shared by the node tests: build nodes the way a pipeline does (through the
// registry, validated config with defaults), make frames, run steps, and
// scratch directories.

#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nodes/registry.hpp"

namespace streamlab::test {

constexpr double kTwoPi = 6.283185307179586476925286766559;

inline Problems validate(const std::string& type_name, const json& config) {
  const NodeType* type = NodeRegistry::builtin().find(type_name);
  REQUIRE(type != nullptr);
  Problems problems;
  validate_config(type->schema, config, Problem{}, problems);
  return problems;
}

inline std::string describe(const Problems& problems) {
  std::string out;
  for (const auto& p : problems) out += p.to_string() + "\n";
  return out;
}

inline std::unique_ptr<Node> make_node(const std::string& type_name, const json& config,
                                       const NodeContext& ctx = NodeContext{}) {
  const NodeType* type = NodeRegistry::builtin().find(type_name);
  REQUIRE(type != nullptr);
  Problems problems;
  validate_config(type->schema, config, Problem{}, problems);
  INFO(describe(problems));
  REQUIRE(problems.empty());
  auto node = type->make(with_defaults(type->schema, config), ctx);
  REQUIRE(node != nullptr);
  return node;
}

inline Frame make_frame(BufferPool& pool, std::uint64_t seq, std::uint32_t rate,
                        std::uint32_t channels, const std::vector<float>& planar) {
  REQUIRE(channels > 0);
  REQUIRE(planar.size() % channels == 0);
  WritableBuffer w = pool.acquire(planar.size());
  std::copy(planar.begin(), planar.end(), w.data());
  Frame f;
  f.seq = seq;
  f.timestamp_ns = 1'000'000'000LL + static_cast<std::int64_t>(seq);
  f.sample_rate = rate;
  f.channels = channels;
  f.frames = static_cast<std::uint32_t>(planar.size() / channels);
  f.samples = std::move(w).freeze();
  return f;
}

inline std::vector<float> samples_of(const Frame& f) {
  return std::vector<float>(f.samples.data(), f.samples.data() + f.sample_count());
}

// One processing step with the given slots (null = no frame on that port).
inline Status step(Node& node, std::vector<const Frame*> slots, FrameList& out) {
  Inputs in{slots.data(), slots.size()};
  return node.process(in, out);
}

inline Status step(Node& node, const Frame& frame, FrameList& out) {
  return step(node, std::vector<const Frame*>{&frame}, out);
}

// Runs a source to its end (or `max_frames`), returning its frames.
inline FrameList drain(Node& source, std::size_t max_frames = 1'000'000) {
  FrameList all;
  bool eos = false;
  while (!eos && all.size() < max_frames) {
    Status s = source.generate(all, eos);
    INFO(s.message());
    REQUIRE(s.is_ok());
  }
  return all;
}

// Channel `c` of consecutive frames, joined.
inline std::vector<float> concat_channel(const FrameList& frames, std::uint32_t c) {
  std::vector<float> out;
  for (const auto& f : frames) out.insert(out.end(), f.channel(c), f.channel(c) + f.frames);
  return out;
}

// Amplitude of the component at `hz` (exact for a whole number of periods).
inline double tone_amplitude(const std::vector<float>& x, double hz, double rate) {
  std::complex<double> sum = 0.0;
  for (std::size_t n = 0; n < x.size(); ++n) {
    const double a = -kTwoPi * hz * static_cast<double>(n) / rate;
    sum += static_cast<double>(x[n]) * std::complex<double>(std::cos(a), std::sin(a));
  }
  return 2.0 * std::abs(sum) / static_cast<double>(x.size());
}

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "streamlab-nodes-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace streamlab::test
