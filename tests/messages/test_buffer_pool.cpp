// The sample buffer pool, its handles and the lock-free queue under it.

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

#include "messages/buffer_pool.hpp"
#include "messages/frame.hpp"

using namespace streamlab;

TEST_CASE("pool: acquire and release count hits, misses and recycled", "[pool]") {
  BufferPool pool;
  PoolStats s = pool.stats();
  REQUIRE(s.hits == 0);
  REQUIRE(s.misses == 0);

  BufferRef first = pool.acquire(256).freeze();
  const void* block = first.id();
  REQUIRE(first.size() == 256);
  REQUIRE(pool.stats().misses == 1);
  REQUIRE(pool.stats().recycled == 0);

  first.reset();
  REQUIRE_FALSE(first);
  REQUIRE(pool.stats().recycled == 1);

  BufferRef second = pool.acquire(256).freeze();
  REQUIRE(second.id() == block);  // the same block, back from the pool
  s = pool.stats();
  REQUIRE(s.hits == 1);
  REQUIRE(s.misses == 1);
}

TEST_CASE("pool: buffers are cache-line aligned", "[pool]") {
  BufferPool pool;
  for (std::size_t n : {1u, 64u, 1000u, 4096u}) {
    WritableBuffer b = pool.acquire(n);
    REQUIRE(reinterpret_cast<std::uintptr_t>(b.data()) % 64 == 0);
  }
}

TEST_CASE("pool: fan-out shares one block and the last release recycles it", "[pool]") {
  BufferPool pool;
  WritableBuffer w = pool.acquire(512);
  for (std::size_t i = 0; i < 512; ++i) w.data()[i] = static_cast<float>(i);
  BufferRef a = std::move(w).freeze();
  REQUIRE_FALSE(w);
  REQUIRE(a.use_count() == 1);

  BufferRef b = a;
  BufferRef c = b;
  REQUIRE(a.id() == b.id());
  REQUIRE(b.id() == c.id());
  REQUIRE(a.data() == c.data());
  REQUIRE(a.use_count() == 3);

  BufferRef moved = std::move(c);  // a move is not a new owner
  REQUIRE_FALSE(c);
  REQUIRE(a.use_count() == 3);

  // Frames copied to four consumers: four more references, no sample copy.
  Frame frame;
  frame.channels = 1;
  frame.frames = 512;
  frame.samples = a;
  std::vector<Frame> consumers(4, frame);
  REQUIRE(a.use_count() == 8);
  for (const Frame& f : consumers) REQUIRE(f.samples.id() == a.id());
  consumers.clear();
  frame = Frame{};
  REQUIRE(a.use_count() == 3);

  a.reset();
  b.reset();
  REQUIRE(pool.stats().recycled == 0);
  REQUIRE(moved.data()[511] == 511.0f);  // still readable through the last owner
  moved.reset();
  REQUIRE(pool.stats().recycled == 1);
}

TEST_CASE("pool: requests share power-of-two size classes", "[pool]") {
  BufferPool pool;
  const void* block = nullptr;
  {
    BufferRef r = pool.acquire(1024).freeze();
    block = r.id();
  }
  BufferRef r = pool.acquire(1000).freeze();  // rounds up to the 1024 class
  REQUIRE(r.id() == block);
  REQUIRE(r.size() == 1000);
  REQUIRE(pool.stats().hits == 1);

  BufferRef bigger = pool.acquire(1025).freeze();  // 2048 class: nothing there yet
  REQUIRE(bigger.id() != block);
  REQUIRE(pool.stats().misses == 2);

  // Everything up to 64 samples (including 0) is the smallest class.
  { BufferRef tiny = pool.acquire(1).freeze(); }
  BufferRef empty = pool.acquire(0).freeze();
  REQUIRE(empty);
  REQUIRE(empty.size() == 0);
  REQUIRE(pool.stats().hits == 2);
}

TEST_CASE("pool: oversized requests bypass the pool and count a miss", "[pool]") {
  BufferPool pool;
  const std::size_t n = (std::size_t{1} << BufferPool::kMaxClassBits) + 1;
  WritableBuffer w = pool.acquire(n);
  REQUIRE(w.size() == n);
  w.data()[0] = 1.0f;
  w.data()[n - 1] = 2.0f;
  BufferRef r = std::move(w).freeze();
  REQUIRE(r.data()[n - 1] == 2.0f);
  PoolStats s = pool.stats();
  REQUIRE(s.misses == 1);
  REQUIRE(s.hits == 0);
  r.reset();  // freed directly, not recycled
  s = pool.stats();
  REQUIRE(s.recycled == 0);

  // A request whose byte size would overflow fails instead of wrapping around.
  REQUIRE_THROWS_AS(pool.acquire(SIZE_MAX / 2), std::bad_alloc);
}

TEST_CASE("pool: a WritableBuffer dropped without freeze goes back to the pool", "[pool]") {
  BufferPool pool;
  const float* storage = nullptr;
  {
    WritableBuffer w = pool.acquire(300);
    storage = w.data();
    WritableBuffer moved = std::move(w);  // the moved-from handle releases nothing
  }
  PoolStats s = pool.stats();
  REQUIRE(s.recycled == 1);
  WritableBuffer again = pool.acquire(300);
  REQUIRE(again.data() == storage);
  REQUIRE(pool.stats().hits == 1);

  WritableBuffer other = pool.acquire(300);
  other = std::move(again);  // move-assignment releases what `other` held
  REQUIRE(pool.stats().recycled == 2);
}

TEST_CASE("pool: every returned buffer is kept, the latest handed out first", "[pool]") {
  BufferPool pool;
  std::vector<BufferRef> held;
  for (std::size_t i = 0; i < 600; ++i) held.push_back(pool.acquire(64).freeze());
  const void* last = held.back().id();
  held.clear();  // released in order: the last one released is held[599]
  REQUIRE(pool.stats().recycled == 600);
  BufferRef again = pool.acquire(64).freeze();
  REQUIRE(again.id() == last);  // warmest in cache
  for (std::size_t i = 0; i < 599; ++i) held.push_back(pool.acquire(64).freeze());
  PoolStats s = pool.stats();
  REQUIRE(s.misses == 600);
  REQUIRE(s.hits == 600);
}

TEST_CASE("pool: process_pool is one pool", "[pool]") {
  REQUIRE(&BufferPool::process_pool() == &BufferPool::process_pool());
  BufferRef r = BufferPool::process_pool().acquire(128).freeze();
  REQUIRE(r.size() == 128);
}

TEST_CASE("pool: buffers cross threads between producers and consumers", "[pool][threads]") {
  constexpr std::size_t kTotal = 200'000;
  constexpr int kProducers = 2;
  constexpr int kConsumers = 2;
  constexpr std::size_t kMaxInFlight = 2048;  // bounds memory; > the pool's slots per class
  BufferPool pool;

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<BufferRef> queue;
  std::size_t produced = 0;
  std::atomic<std::size_t> consumed{0};
  std::atomic<std::size_t> corrupt{0};

  auto producer = [&](int id) {
    for (std::size_t i = 0; i < kTotal / kProducers; ++i) {
      const std::size_t n = (i % 3 == 0) ? 1024 : 256 + (i % 7);  // two size classes
      WritableBuffer w = pool.acquire(n);
      const float tag = static_cast<float>(i * kProducers + static_cast<std::size_t>(id));
      w.data()[0] = tag;
      w.data()[n - 1] = tag;
      BufferRef r = std::move(w).freeze();
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return queue.size() < kMaxInFlight; });
      queue.push_back(std::move(r));
      ++produced;
      changed.notify_all();
    }
  };
  auto consumer = [&] {
    for (;;) {
      BufferRef r;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return !queue.empty() || produced == kTotal; });
        if (queue.empty()) return;  // all produced and all taken
        r = std::move(queue.front());
        queue.pop_front();
        changed.notify_all();
      }
      // The producer's writes are visible here; then the drop recycles the
      // block from this thread into the pool the producer acquires from.
      const std::size_t n = r.size();
      if (n < 256 || r.data()[0] != r.data()[n - 1]) corrupt.fetch_add(1);
      r.reset();
      consumed.fetch_add(1);
    }
  };

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) threads.emplace_back(producer, p);
  for (int c = 0; c < kConsumers; ++c) threads.emplace_back(consumer);
  for (auto& t : threads) t.join();

  REQUIRE(consumed.load() == kTotal);
  REQUIRE(corrupt.load() == 0);
  PoolStats s = pool.stats();
  REQUIRE(s.hits + s.misses == kTotal);
  REQUIRE(s.recycled == kTotal);
  CHECK(s.hits > s.misses);  // steady state is served from the pool
}
