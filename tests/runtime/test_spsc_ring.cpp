#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "runtime/spsc_ring.hpp"

using namespace streamlab;

TEST_CASE("SpscRing is a bounded FIFO whose writes are all or nothing", "[runtime][spsc]") {
  SpscRing<int> ring(5);
  CHECK(ring.capacity() == 5);
  CHECK(ring.write_available() == 5);
  CHECK(ring.read_available() == 0);

  const int abc[] = {1, 2, 3};
  REQUIRE(ring.push(abc, 3));
  CHECK(ring.write_available() == 2);
  CHECK_FALSE(ring.push(abc, 3));  // 3 do not fit in 2: nothing is written
  CHECK(ring.read_available() == 3);

  int out[8] = {};
  REQUIRE(ring.pop(out, 2) == 2);
  CHECK(out[0] == 1);
  CHECK(out[1] == 2);

  const int defg[] = {4, 5, 6, 7};
  REQUIRE(ring.push(defg, 4));  // wraps around the end of the storage
  CHECK(ring.write_available() == 0);
  CHECK_FALSE(ring.push(8));
  CHECK(ring.size_approx() == 5);

  REQUIRE(ring.pop(out, 8) == 5);      // asks for more than there is
  CHECK(ring.write_available() == 5);  // the producer sees the room the consumer made
  CHECK(std::vector<int>(out, out + 5) == std::vector<int>{3, 4, 5, 6, 7});
  CHECK(ring.pop(out, 8) == 0);
  int one = 0;
  CHECK_FALSE(ring.pop(one));
}

TEST_CASE("SpscRing carries a stream between two threads in order, whole blocks only",
          "[runtime][spsc]") {
  // Blocks of 7 through a ring of 64: every block arrives whole and in
  // order, or was refused whole (and counted) by the producer.
  constexpr std::uint32_t kBlocks = 200000;
  constexpr std::size_t kBlock = 7;
  SpscRing<std::uint32_t> ring(64);
  std::atomic<std::uint64_t> refused{0};
  std::atomic<bool> done{false};
  std::thread producer([&] {
    std::uint32_t block[kBlock];
    for (std::uint32_t b = 0; b < kBlocks; ++b) {
      for (std::size_t i = 0; i < kBlock; ++i) block[i] = b;
      if (!ring.push(block, kBlock)) refused.fetch_add(1, std::memory_order_relaxed);
    }
    done.store(true, std::memory_order_release);
  });
  std::uint64_t received_blocks = 0;
  std::uint32_t last = 0;
  bool in_order = true;
  bool whole = true;
  std::uint32_t buffer[kBlock];
  std::size_t filled = 0;
  auto drain = [&] {
    std::uint32_t item;
    while (ring.pop(item)) {
      buffer[filled++] = item;
      if (filled < kBlock) continue;
      for (std::size_t i = 1; i < kBlock; ++i) whole = whole && buffer[i] == buffer[0];
      in_order = in_order && (received_blocks == 0 || buffer[0] > last);
      last = buffer[0];
      ++received_blocks;
      filled = 0;
    }
  };
  while (!done.load(std::memory_order_acquire)) {
    drain();
    std::this_thread::yield();
  }
  producer.join();
  drain();  // what was written before `done`
  CHECK(whole);
  CHECK(in_order);
  CHECK(filled == 0);
  CHECK(received_blocks + refused == kBlocks);
  CHECK(received_blocks > 0);
}

TEST_CASE("SpscRing reports the room the consumer made, whatever the producer saw before",
          "[runtime][spsc]") {
  SpscRing<int> ring(8);
  const int four[] = {1, 2, 3, 4};
  REQUIRE(ring.push(four, 4));
  REQUIRE(ring.push(four, 4));  // full
  int out[8];
  REQUIRE(ring.pop(out, 6) == 6);
  CHECK(ring.write_available() == 6);
  const int six[] = {5, 6, 7, 8, 9, 10};
  CHECK(ring.push(six, 6));
}

TEST_CASE("SpscRing carries trivially copyable records", "[runtime][spsc]") {
  struct Stamp {
    std::uint64_t index;
    std::int64_t time_ns;
  };
  SpscRing<Stamp> ring(2);
  REQUIRE(ring.push(Stamp{1, 10}));
  REQUIRE(ring.push(Stamp{2, 20}));
  CHECK_FALSE(ring.push(Stamp{3, 30}));
  Stamp s{};
  REQUIRE(ring.pop(s));
  CHECK(s.index == 1);
  CHECK(s.time_ns == 10);
}
