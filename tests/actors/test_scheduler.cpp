// The scheduler use_streamlab_scheduler installs: CAF's actor system takes
// it in place of its own, actors run on its workers, the jobs they schedule
// go through the policy's queue (not the one CAF's work stealing would
// use), CAF's work-stealing settings still apply, and messages flow.

#include <catch2/catch.hpp>

#include <chrono>
#include <typeinfo>

#include <caf/all.hpp>

#include "actors/scheduler.hpp"
#include "actors/stealing_policy.hpp"

using namespace streamlab;

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;
using probe_atom = caf::atom_constant<caf::atom("probe")>;

using Worker = caf::scheduler::worker<StealingPolicy>;

caf::actor_system_config& configured(caf::actor_system_config& cfg, int threads) {
  cfg.set("scheduler.max-threads", threads);
  use_streamlab_scheduler(cfg);
  return cfg;
}

}  // namespace

TEST_CASE("an actor system configured for StreamLab runs CAF's coordinator on our policy",
          "[scheduler]") {
  caf::actor_system_config cfg;
  caf::actor_system system{configured(cfg, 3)};
  auto& scheduler = system.scheduler();
  CHECK(typeid(scheduler) == typeid(StealingScheduler));
  CHECK(system.scheduler().num_workers() == 3);
  // An actor's execution unit is one of its workers.
  auto a = system.spawn([](caf::event_based_actor* self) -> caf::behavior {
    return {[=](probe_atom) { return dynamic_cast<Worker*>(self->context()) != nullptr; }};
  });
  caf::scoped_actor self{system};
  bool on_our_worker = false;
  self->request(a, caf::infinite, probe_atom::value)
      .receive([&](bool b) { on_our_worker = b; }, [](caf::error&) {});
  CHECK(on_our_worker);
  self->send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("jobs an actor schedules go to the policy's job queue", "[scheduler]") {
  // One worker, so that nobody steals the jobs before they are counted.
  caf::actor_system_config cfg;
  caf::actor_system system{configured(cfg, 1)};
  constexpr std::size_t spawned = 5;
  auto a = system.spawn([](caf::event_based_actor* self) -> caf::behavior {
    return {[=](probe_atom) {
      auto* worker = dynamic_cast<Worker*>(self->context());
      if (!worker) return caf::make_message(std::size_t{0}, std::size_t{0});
      // Each actor spawned here is scheduled on this worker (exec_later),
      // to run once this handler returns.
      for (std::size_t i = 0; i < spawned; ++i) self->spawn([](caf::event_based_actor*) {});
      auto& data = worker->data();
      std::size_t ours = data.queue.size();
      std::size_t cafs = data.StealingPolicy::base_worker_data::queue.empty() ? 0 : 1;
      return caf::make_message(ours, cafs);
    }};
  });
  caf::scoped_actor self{system};
  std::size_t ours = 0;
  std::size_t cafs = 1;
  self->request(a, caf::infinite, probe_atom::value)
      .receive(
          [&](std::size_t o, std::size_t c) {
            ours = o;
            cafs = c;
          },
          [](caf::error&) {});
  CHECK(ours == spawned);
  CHECK(cafs == 0);
  self->send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("CAF's work-stealing settings reach the workers", "[scheduler]") {
  caf::actor_system_config cfg;
  cfg.set("work-stealing.moderate-poll-attempts", std::size_t{10});
  cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{std::chrono::milliseconds(1)});
  caf::actor_system system{configured(cfg, 2)};
  auto& sched = dynamic_cast<StealingScheduler&>(system.scheduler());
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& strategies = sched.worker_by_id(i)->data().strategies;
    CHECK(strategies[1].attempts == 10);
    CHECK(strategies[2].sleep_duration == caf::timespan{std::chrono::milliseconds(1)});
  }
}

TEST_CASE("pairs of actors on the StreamLab scheduler play ping-pong to the end", "[scheduler]") {
  constexpr int pairs = 8;
  constexpr int rounds = 20000;
  caf::actor_system_config cfg;
  caf::actor_system system{configured(cfg, 4)};
  caf::scoped_actor self{system};
  auto pong = [](caf::event_based_actor*) -> caf::behavior {
    return {[](ping_atom, int n) { return caf::make_message(pong_atom::value, n); }};
  };
  // Pings its partner until `rounds` answers came back, then tells `done`.
  auto ping = [](caf::event_based_actor* self, caf::actor partner, caf::actor done) {
    self->send(partner, ping_atom::value, 1);
    return caf::behavior{[=](pong_atom, int n) {
      if (n == rounds) {
        self->send(done, n);
        self->send_exit(partner, caf::exit_reason::user_shutdown);
        self->quit();
      } else {
        self->send(partner, ping_atom::value, n + 1);
      }
    }};
  };
  for (int i = 0; i < pairs; ++i) system.spawn(ping, system.spawn(pong), caf::actor{self});
  int finished = 0;
  long answers = 0;
  self->receive_for(finished, pairs)([&](int n) { answers += n; });
  CHECK(finished == pairs);
  CHECK(answers == long{pairs} * rounds);
}
