#pragma once
// Shared by the integration tests: the real `streamlab` executable, run as
// a user would in a scratch directory, and checks of its output files with
// sox, a decoder other than ours.

#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace streamlab::test {

inline const std::string kBinary = std::string(STREAMLAB_BINARY_DIR) + "/streamlab";
inline const std::string kExamples = std::string(STREAMLAB_SOURCE_DIR) + "/examples";

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ScratchDir {
  std::string path;
  ScratchDir() {
    char templ[] = "/tmp/streamlab-cli-XXXXXX";
    path = mkdtemp(templ);
  }
  ~ScratchDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return path + "/" + name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
  }
};

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line in `dir`, capturing both streams.
inline Outcome run_in(const ScratchDir& dir, const std::string& args) {
  std::string cmd = "cd '" + dir.path + "' && '" + kBinary + "' " + args + " >'" +
                    dir.file(".out") + "' 2>'" + dir.file(".err") + "'";
  int raw = std::system(cmd.c_str());
  Outcome o;
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  o.out = slurp(dir.file(".out"));
  o.err = slurp(dir.file(".err"));
  return o;
}

inline std::string shell_output(const std::string& cmd) {
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe);
  char buf[512];
  while (fgets(buf, sizeof buf, pipe)) out += buf;
  pclose(pipe);
  return out;
}

// A figure from `sox FILE -n stat`, e.g. "RMS     amplitude".
inline double sox_stat(const std::string& wav, const std::string& label) {
  std::string stats = shell_output("sox '" + wav + "' -n stat 2>&1");
  std::regex line(label + R"(:\s+(-?[0-9.]+))");
  std::smatch m;
  INFO(stats);
  REQUIRE(std::regex_search(stats, m, line));
  return std::stod(m[1]);
}

}  // namespace streamlab::test
