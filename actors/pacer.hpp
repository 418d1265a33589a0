#pragma once
// Wakes actors at given times without allocating: how live sources are
// paced. CAF 0.17's clock allocates an event, a map node and a mailbox
// element for every delayed message, and a live source asks to be woken for
// every frame it makes. The pacer keeps its timers in a binary heap in a
// vector that only ever grows, and delivers an element the actor made from
// its own pool (actors/pooled_message.hpp).
//
// It holds receivers weakly: a timer never keeps an actor alive, and one
// for an actor that is gone is dropped (its element goes back to its pool).

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/mailbox_element.hpp>

namespace streamlab {

class Pacer {
 public:
  using time_point = caf::actor_clock::time_point;  // steady clock, as CAF's clock

  Pacer();
  ~Pacer();
  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  // The one every node actor of this process uses (its thread starts on
  // first use).
  static Pacer& process_pacer();

  // Enqueues `message` to `receiver` at `when` (at once if that has passed).
  void schedule(time_point when, caf::weak_actor_ptr receiver, caf::mailbox_element_ptr message);

 private:
  struct Timer {
    time_point when;
    caf::weak_actor_ptr receiver;
    caf::mailbox_element_ptr message;
  };
  // Orders the heap earliest first.
  static bool later(const Timer& a, const Timer& b) { return a.when > b.when; }

  void run();
  void take_due(time_point now);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Timer> timers_;  // a heap
  std::vector<Timer> due_;     // taken off the heap, delivered outside the lock
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace streamlab
