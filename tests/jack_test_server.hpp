#pragma once
// For tests tagged [audio]: a private JACK server (dummy backend, unique
// name) with jack_simple_client tone sources, brought up and torn down by
// scripts/jack-test-server.sh, by PID. The process's JACK clients (RtAudio)
// find it through JACK_DEFAULT_SERVER, set here.
//
// Where no server can be started (jackd not installed), a test skips with a
// warning, unless STREAMLAB_REQUIRE_AUDIO=1 (CI), where it fails.

#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace streamlab::test {

// What jack_simple_client plays (example-clients/simple_client.c): a
// 200-sample sine table, stepped by 1 on the left and 3 on the right.
constexpr double kToneLeftHz = 48000.0 / 200.0;
constexpr double kToneRightHz = 3 * 48000.0 / 200.0;
constexpr double kToneAmplitude = 0.2;

inline bool audio_required() {
  const char* v = std::getenv("STREAMLAB_REQUIRE_AUDIO");
  return v && std::string(v) == "1";
}

class JackTestServer {
 public:
  // A fresh name per call: "sl<pid>_<n>_<tag>", short enough for JACK's
  // client names too.
  static std::string unique_name(const std::string& tag) {
    static std::atomic<int> counter{0};
    return "sl" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + tag;
  }

  JackTestServer(std::string tag, std::vector<std::string> tones)
      : name_(unique_name(tag)), tones_(std::move(tones)) {
    for (auto& t : tones_) t = name_ + "_" + t;
    ::setenv("JACK_DEFAULT_SERVER", name_.c_str(), 1);
    ::setenv("JACK_NO_START_SERVER", "1", 1);
    started_ = start();
  }
  ~JackTestServer() { stop(); }
  JackTestServer(const JackTestServer&) = delete;
  JackTestServer& operator=(const JackTestServer&) = delete;

  // False (after a warning) when the test should end here as skipped.
  bool usable() const {
    if (started_) return true;
    if (audio_required()) FAIL("STREAMLAB_REQUIRE_AUDIO=1 but no JACK server: " << error_);
    WARN("skipped: no JACK server could be started (" << error_ << ")");
    return false;
  }

  const std::string& name() const { return name_; }
  const std::string& error() const { return error_; }  // why the last start, kill or stop failed
  const std::string& tone(std::size_t i = 0) const { return tones_.at(i); }

  // The server and its tone clients again, under the same names.
  bool start() {
    std::string cmd = script() + " start " + name_;
    for (const auto& t : tones_) cmd += " " + t;
    return run(cmd);
  }
  // The server crashes (SIGKILL) under its clients.
  void kill() { run(script() + " kill " + name_); }
  void stop() { run(script() + " stop " + name_); }

 private:
  // Stopped by the script's watcher too, should this process be killed
  // (a test timeout) before its destructor runs.
  static std::string script() {
    return "STREAMLAB_JACK_OWNER=" + std::to_string(::getpid()) + " '" + STREAMLAB_SOURCE_DIR +
           "/scripts/jack-test-server.sh'";
  }

  bool run(const std::string& cmd) {
    std::string out;
    FILE* pipe = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!pipe) {
      error_ = "cannot run " + cmd;
      return false;
    }
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe)) out += buf;
    const int raw = ::pclose(pipe);
    const bool ok = WIFEXITED(raw) && WEXITSTATUS(raw) == 0;
    if (!ok) error_ = out.empty() ? cmd + " failed" : out;
    return ok;
  }

  std::string name_;
  std::vector<std::string> tones_;
  bool started_ = false;
  std::string error_;
};

// Both measures are medians over many short stretches, so that the odd
// glitch of a JACK server without real-time priority on a loaded machine (a
// cycle its tone client missed) does not move them; a wrong rate, level or
// channel still does.

// Frequency from the median of ten-cycle spans between upward zero
// crossings (interpolated).
inline double tone_frequency(const std::vector<float>& x, double rate) {
  std::vector<double> crossings;
  for (std::size_t i = 1; i < x.size(); ++i)
    if (x[i - 1] < 0 && x[i] >= 0) crossings.push_back((i - 1) + x[i - 1] / (x[i - 1] - x[i]));
  std::vector<double> spans;
  for (std::size_t i = 10; i < crossings.size(); i += 10)
    spans.push_back(crossings[i] - crossings[i - 10]);
  if (spans.empty()) return 0;
  std::nth_element(spans.begin(), spans.begin() + spans.size() / 2, spans.end());
  return 10 * rate / spans[spans.size() / 2];
}

// Peak amplitude of a sine, from the median RMS of 2400-sample stretches
// (whole cycles of both tones at 48 kHz).
inline double tone_amplitude(const std::vector<float>& x) {
  std::vector<double> rms;
  for (std::size_t at = 0; at + 2400 <= x.size(); at += 2400) {
    double sum = 0;
    for (std::size_t i = at; i < at + 2400; ++i) sum += double{x[i]} * x[i];
    rms.push_back(std::sqrt(sum / 2400));
  }
  if (rms.empty()) return 0;
  std::nth_element(rms.begin(), rms.begin() + rms.size() / 2, rms.end());
  return std::sqrt(2.0) * rms[rms.size() / 2];
}

inline double db(double ratio) { return 20.0 * std::log10(ratio); }

}  // namespace streamlab::test
