// The pacer (live sources' timers): timers fire in the order of their times
// and never early, a timer never keeps its actor alive, and one whose actor
// is gone gives its element back to its pool.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actors/pacer.hpp"
#include "actors/pooled_message.hpp"
#include "tests/actors/message_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using clock_type = caf::actor_clock::clock_type;

// Keeps something alive for as long as the actor object exists.
class holder : public caf::event_based_actor {
 public:
  holder(caf::actor_config& cfg, Shared held)
      : caf::event_based_actor(cfg), held_(std::move(held)) {}
  caf::behavior make_behavior() override {
    return {[](tick_atom, const Shared&) {}};
  }

 private:
  Shared held_;
};

}  // namespace

TEST_CASE("the pacer fires timers in the order of their times, none before its time",
          "[actors][pacer]") {
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor receiver{system};
  MessagePoolRef<caf::atom_value, std::uint64_t> pool;
  const auto start = clock_type::now();
  const std::vector<int> offsets_ms = {30, 10, 20, 0};
  for (int ms : offsets_ms)
    Pacer::process_pacer().schedule(start + std::chrono::milliseconds(ms),
                                    caf::weak_actor_ptr{receiver->ctrl()},
                                    pool->make(nullptr, tick_atom::value, std::uint64_t(ms)));
  std::vector<std::uint64_t> order;
  for (std::size_t i = 0; i < offsets_ms.size(); ++i)
    receiver->receive(
        [&](tick_atom, std::uint64_t ms) {
          CHECK(clock_type::now() >= start + std::chrono::milliseconds(ms));
          order.push_back(ms);
        },
        caf::after(std::chrono::seconds(5)) >> [] {});
  CHECK(order == std::vector<std::uint64_t>{0, 10, 20, 30});
}

TEST_CASE("a pending timer does not keep its actor alive, and is dropped once that is gone",
          "[actors][pacer]") {
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto held = std::make_shared<const int>(1);     // by the actor
  auto carried = std::make_shared<const int>(2);  // by the timer's message
  MessagePoolRef<caf::atom_value, Shared> pool;
  {
    caf::actor target = system.spawn<holder>(Shared{held});
    Pacer::process_pacer().schedule(
        clock_type::now() + std::chrono::milliseconds(200),
        caf::weak_actor_ptr{caf::actor_cast<caf::strong_actor_ptr>(target).get()},
        pool->make(nullptr, tick_atom::value, Shared{carried}));
    self->send_exit(target, caf::exit_reason::user_shutdown);
    self->wait_for(target);
  }
  // The actor is destroyed with its timer still pending...
  CHECK(eventually([&] { return held.use_count() == 1; }));
  // ...and when the timer comes due, its message goes back to its pool.
  CHECK(eventually([&] { return carried.use_count() == 1; }));
}
