#include "actors/pacer.hpp"

#include <algorithm>

#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <caf/abstract_actor.hpp>

namespace streamlab {

namespace {
// Room for this many timers before the heap first grows: one per live source.
constexpr std::size_t kInitialTimers = 64;
}  // namespace

Pacer::Pacer() {
  timers_.reserve(kInitialTimers);
  due_.reserve(kInitialTimers);
  thread_ = std::thread([this] { run(); });
}

Pacer::~Pacer() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  changed_.notify_one();
  thread_.join();
}

Pacer& Pacer::process_pacer() {
  static Pacer pacer;
  return pacer;
}

void Pacer::schedule(time_point when, caf::weak_actor_ptr receiver,
                     caf::mailbox_element_ptr message) {
  bool earliest;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    timers_.push_back(Timer{when, std::move(receiver), std::move(message)});
    std::push_heap(timers_.begin(), timers_.end(), later);
    earliest = timers_.front().when == when;
  }
  if (earliest) changed_.notify_one();
}

void Pacer::run() {
#ifdef PR_SET_TIMERSLACK
  // The kernel's default slack (50 us) would make every wake-up that late.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (timers_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const time_point next = timers_.front().when;
    if (caf::actor_clock::clock_type::now() < next) {
      changed_.wait_until(lock, next);
      continue;
    }
    take_due(caf::actor_clock::clock_type::now());
    lock.unlock();
    for (Timer& t : due_) {
      if (caf::strong_actor_ptr receiver = t.receiver.lock())
        receiver->get()->enqueue(std::move(t.message), nullptr);
    }
    due_.clear();  // drops the messages of receivers that are gone
    lock.lock();
  }
}

void Pacer::take_due(time_point now) {
  while (!timers_.empty() && timers_.front().when <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), later);
    due_.push_back(std::move(timers_.back()));
    timers_.pop_back();
  }
}

}  // namespace streamlab
