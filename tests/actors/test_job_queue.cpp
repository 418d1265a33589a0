// The scheduler's worker queue: the order work stealing relies on (the
// owner takes the newest prepended job first, thieves take the oldest),
// growth that keeps that order, and no job lost or taken twice when an
// owner, an enqueuer and a thief use it at once.

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <random>
#include <thread>
#include <vector>

#include "actors/job_queue.hpp"

using streamlab::JobQueue;

namespace {

// Jobs are only handed around, never run: numbers stand in for them.
caf::resumable* job(std::size_t n) {
  return reinterpret_cast<caf::resumable*>(static_cast<std::uintptr_t>(n) + 1);
}

std::size_t number(caf::resumable* j) { return reinterpret_cast<std::uintptr_t>(j) - 1; }

}  // namespace

TEST_CASE("an empty job queue gives nothing from either end", "[job_queue]") {
  JobQueue q;
  CHECK(q.empty());
  CHECK(q.size() == 0);
  CHECK(q.take_head() == nullptr);
  CHECK(q.take_tail() == nullptr);
  q.append(job(1));
  CHECK_FALSE(q.empty());
  CHECK(q.take_head() == job(1));
  CHECK(q.empty());
  CHECK(q.take_tail() == nullptr);
}

TEST_CASE("appended jobs come out of the head first in, of the tail last in", "[job_queue]") {
  JobQueue q;
  for (std::size_t i = 0; i < 5; ++i) q.append(job(i));
  CHECK(q.size() == 5);
  CHECK(q.take_head() == job(0));
  CHECK(q.take_tail() == job(4));
  CHECK(q.take_head() == job(1));
  CHECK(q.take_tail() == job(3));
  CHECK(q.take_tail() == job(2));
  CHECK(q.empty());
}

TEST_CASE("a prepended job is the next at the head and the last at the tail", "[job_queue]") {
  JobQueue q;
  q.append(job(1));
  q.append(job(2));
  q.prepend(job(0));
  q.prepend(job(9));
  // head: 9 0 1 2 :tail
  CHECK(q.take_head() == job(9));
  CHECK(q.take_tail() == job(2));
  CHECK(q.take_tail() == job(1));
  CHECK(q.take_tail() == job(0));
  CHECK(q.empty());
}

TEST_CASE("the capacity is a power of two", "[job_queue]") {
  CHECK(JobQueue(1).capacity() == 1);
  CHECK(JobQueue(5).capacity() == 8);
  CHECK(JobQueue(64).capacity() == 64);
}

TEST_CASE("a job queue grows past its capacity and keeps the order", "[job_queue]") {
  JobQueue q(4);
  SECTION("appending only") {
    for (std::size_t i = 0; i < 100; ++i) q.append(job(i));
    CHECK(q.capacity() == 128);
    for (std::size_t i = 0; i < 100; ++i) REQUIRE(q.take_head() == job(i));
  }
  SECTION("prepending only") {
    for (std::size_t i = 0; i < 100; ++i) q.prepend(job(i));
    CHECK(q.capacity() == 128);
    for (std::size_t i = 0; i < 100; ++i) REQUIRE(q.take_tail() == job(i));
  }
  SECTION("full while the ring has wrapped around") {
    // Moves the head to the middle, so the jobs wrap past the array's end
    // when the queue fills up and grows.
    q.append(job(100));
    q.append(job(101));
    CHECK(q.take_head() == job(100));
    CHECK(q.take_head() == job(101));
    for (std::size_t i = 2; i < 10; ++i) q.append(job(i));
    q.prepend(job(1));
    q.prepend(job(0));
    CHECK(q.capacity() == 16);
    CHECK(q.size() == 10);
    for (std::size_t i = 0; i < 10; ++i) REQUIRE(q.take_head() == job(i));
    CHECK(q.empty());
  }
}

TEST_CASE("a job queue does what a std::deque does under random operations", "[job_queue]") {
  JobQueue q(2);
  std::deque<caf::resumable*> model;
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> op(0, 3);
  std::size_t next = 0;
  for (int step = 0; step < 100000; ++step) {
    switch (op(rng)) {
      case 0:
        q.append(job(next));
        model.push_back(job(next++));
        break;
      case 1:
        q.prepend(job(next));
        model.push_front(job(next++));
        break;
      case 2: {
        caf::resumable* expected = model.empty() ? nullptr : model.front();
        if (!model.empty()) model.pop_front();
        REQUIRE(q.take_head() == expected);
        break;
      }
      default: {
        caf::resumable* expected = model.empty() ? nullptr : model.back();
        if (!model.empty()) model.pop_back();
        REQUIRE(q.take_tail() == expected);
        break;
      }
    }
    REQUIRE(q.size() == model.size());
  }
}

// The three ways CAF's worker queue is used at once: its worker prepends
// (exec_later) and takes at the head, other threads append (actors
// scheduled from outside) and steal from the tail.
TEST_CASE("jobs an owner, an enqueuer and a thief move concurrently are each taken once",
          "[job_queue]") {
  constexpr std::size_t per_producer = 200000;
  JobQueue q(2);  // small, so it grows while the others use it
  std::vector<std::atomic<int>> taken(2 * per_producer);
  std::atomic<std::size_t> total{0};
  std::atomic<bool> producers_done{false};
  auto record = [&](caf::resumable* j) {
    taken[number(j)].fetch_add(1, std::memory_order_relaxed);
    total.fetch_add(1, std::memory_order_relaxed);
  };

  std::thread enqueuer([&] {
    for (std::size_t i = per_producer; i < 2 * per_producer; ++i) q.append(job(i));
  });
  std::thread thief([&] {
    // Stops once the producers are done and the queue is drained, by
    // whichever thread drained it.
    for (;;) {
      bool done = producers_done.load();
      if (auto* j = q.take_tail())
        record(j);
      else if (done)
        break;
    }
  });
  // The owner: prepends its jobs and takes at the head after every other one.
  for (std::size_t i = 0; i < per_producer; ++i) {
    q.prepend(job(i));
    if (i % 2 == 1)
      if (auto* j = q.take_head()) record(j);
  }
  enqueuer.join();
  producers_done = true;
  while (auto* j = q.take_head()) record(j);
  thief.join();

  CHECK(q.empty());
  CHECK(total.load() == 2 * per_producer);
  std::size_t not_once = 0;
  for (auto& t : taken)
    if (t.load() != 1) ++not_once;
  CHECK(not_once == 0);
}
