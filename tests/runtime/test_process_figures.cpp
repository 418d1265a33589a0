// What the system reports about this very process, checked against what the
// test itself can see.

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/process_figures.hpp"

using namespace streamlab;

TEST_CASE("resident memory is a plausible byte count") {
  const auto figures = read_process_figures();
  // A running C++ test binary is well over 1 MB and well under 64 GB.
  CHECK(figures.rss_bytes > (1u << 20));
  CHECK(figures.rss_bytes < (std::uint64_t{64} << 30));
}

TEST_CASE("threads counts the threads the test starts") {
  const auto before = read_process_figures().threads;
  REQUIRE(before >= 1);

  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return release; });
    });
  }
  const auto during = read_process_figures().threads;
  {
    std::lock_guard<std::mutex> lock(mutex);
    release = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  CHECK(during == before + 3);
}

TEST_CASE("CPU time grows while the process computes") {
  const double before = read_process_figures().cpu_seconds;
  CHECK(before > 0);
  // Spins until the kernel's own clock shows 30 ms of CPU used (bounded by
  // 10 s of wall time): a wall-clock spin got less than 20 ms of CPU on a
  // loaded machine, which is no fault of the figures.
  volatile double sink = 0;
  const auto cpu_ns = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
  };
  const auto cpu_end = cpu_ns() + 30'000'000LL;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (cpu_ns() < cpu_end && std::chrono::steady_clock::now() < give_up) sink = sink + 1;
  const double after = read_process_figures().cpu_seconds;
  CHECK(after >= before + 0.02);
  CHECK(after < before + 5);
}
