#pragma once
// Tests that start `streamlab` processes: a background child ended by its
// PID on every path out of a test, a foreground run bounded by `timeout`,
// and a listener that never answers.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_support.hpp"

namespace streamlab::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A Debug build under load starts slowly; the figures asked for below are
// far tighter than these.
constexpr auto kStartLimit = 20s;
constexpr auto kExitLimit = 20s;

// `streamlab ARGS` in the background, its output in files, until it ends
// or this object goes (then SIGKILL, after a SIGCONT in case it was stopped).
class Child {
 public:
  Child(const ScratchDir& dir, const std::vector<std::string>& args, const std::string& name)
      : out_(dir.file(name + ".out")), err_(dir.file(name + ".err")) {
    std::vector<std::string> argv{kBinary};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    const std::string cwd = dir.path;
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      const int out = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(cwd.c_str()) != 0)
        _exit(99);
      execv(raw[0], raw.data());
      _exit(98);
    }
  }
  ~Child() {
    if (pid_ <= 0) return;
    kill(pid_, SIGCONT);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }
  void signal(int sig) const { REQUIRE(kill(pid_, sig) == 0); }

  // The exit status once the process has ended; nullopt if it still runs
  // after `limit`; -1 if a signal ended it.
  std::optional<int> wait_for(Clock::duration limit) {
    const auto end = Clock::now() + limit;
    while (pid_ > 0) {
      int raw = 0;
      const pid_t done = waitpid(pid_, &raw, WNOHANG);
      REQUIRE(done >= 0);
      if (done == pid_) {
        pid_ = -1;
        return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
      }
      if (Clock::now() >= end) return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  // The first capture of `pattern` in the process's stderr, once it shows.
  std::uint16_t wait_for_port(const std::string& pattern) {
    const std::regex re(pattern);
    const auto end = Clock::now() + kStartLimit;
    for (;;) {
      std::smatch m;
      const std::string text = err();
      if (std::regex_search(text, m, re)) return static_cast<std::uint16_t>(std::stoul(m[1]));
      INFO(text);
      REQUIRE(Clock::now() < end);
      REQUIRE_FALSE(wait_for(0s).has_value());  // it ended instead of listening
      std::this_thread::sleep_for(50ms);
    }
  }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
};

struct Timed {
  Outcome outcome;
  double seconds = 0;
};

// A foreground `streamlab ARGS`, killed by `timeout` if it overruns, so a
// hang fails the test instead of stalling it.
inline Timed run_bounded(const ScratchDir& dir, const std::string& args, int limit_s = 20) {
  const auto t0 = Clock::now();
  const std::string cmd = "cd '" + dir.path + "' && timeout -k 2 " + std::to_string(limit_s) +
                          " '" + kBinary + "' " + args + " >'" + dir.file(".out") + "' 2>'" +
                          dir.file(".err") + "'";
  const int raw = std::system(cmd.c_str());
  Timed t;
  t.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  t.outcome.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  t.outcome.out = slurp(dir.file(".out"));
  t.outcome.err = slurp(dir.file(".err"));
  return t;
}

// A socket that listens and never answers: the kernel accepts connections
// for it, as it does for a stopped process, but it is not a CAF node.
struct SilentListener {
  int fd = -1;
  std::uint16_t port = 0;
  SilentListener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(fd, 8) == 0);
    socklen_t length = sizeof address;
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port = ntohs(address.sin_port);
  }
  ~SilentListener() { close(fd); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
};

}  // namespace streamlab::test
