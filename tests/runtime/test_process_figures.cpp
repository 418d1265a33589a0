// What the system reports about this very process, checked against what the
// test itself can see.

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
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
  volatile double sink = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  while (std::chrono::steady_clock::now() < end) sink = sink + 1;
  const double after = read_process_figures().cpu_seconds;
  CHECK(after >= before + 0.02);
  CHECK(after < before + 5);
}
