// Pooled mailbox elements: what is sent in them arrives as from CAF's own
// send, their elements are reused once receivers are done with them, what
// they carry is let go of then, and a pool lives until its last element is
// back, however long its owner lives.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <caf/all.hpp>

#include "actors/pooled_message.hpp"
#include "tests/actors/message_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;

// Counts its live instances: an element never freed keeps one alive.
struct Tracked {
  static std::atomic<int> live;
  std::uint64_t value = 0;
  Tracked() { ++live; }
  explicit Tracked(std::uint64_t v) : value(v) { ++live; }
  Tracked(const Tracked& other) : value(other.value) { ++live; }
  Tracked& operator=(const Tracked&) = default;
  ~Tracked() { --live; }
};
std::atomic<int> Tracked::live{0};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Tracked& x) {
  return f(caf::meta::type_name("tracked"), x.value);
}

caf::abstract_actor* address_of(const caf::actor& a) {
  return caf::actor_cast<caf::abstract_actor*>(a);
}

}  // namespace

TEST_CASE("pooled messages arrive, and their elements are reused", "[actors][pooled]") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  std::atomic<std::uint64_t> sum{0};
  auto receiver = system.spawn([&sum](caf::event_based_actor* me) -> caf::behavior {
    return {[me, &sum](ping_atom, std::uint64_t x) {
      sum += x;
      me->send(caf::actor_cast<caf::actor>(me->current_sender()), ack_atom::value);
    }};
  });
  MessagePoolRef<caf::atom_value, std::uint64_t> pool;
  constexpr std::uint64_t kRounds = 1000;
  for (std::uint64_t i = 1; i <= kRounds; ++i) {
    pool->send(self.ptr(), address_of(receiver), ping_atom::value, i);
    bool acked = false;
    self->receive([&](ack_atom) { acked = true; }, caf::after(std::chrono::seconds(5)) >> [] {});
    REQUIRE(acked);
  }
  CHECK(sum == kRounds * (kRounds + 1) / 2);
  // One round trip at a time: one element out, and at most one more taken
  // while the receiver had not yet given the last back.
  CHECK(pool->created() <= 2);
  self->send_exit(receiver, caf::exit_reason::user_shutdown);
}

TEST_CASE("a pooled message lets go of what it carries once its receiver is done",
          "[actors][pooled]") {
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto receiver = system.spawn(
      [](caf::event_based_actor*) -> caf::behavior { return {[](ping_atom, const Shared&) {}}; });
  MessagePoolRef<caf::atom_value, Shared> pool;
  auto payload = std::make_shared<const int>(42);
  pool->send(self.ptr(), address_of(receiver), ping_atom::value, Shared{payload});
  CHECK(eventually([&] { return payload.use_count() == 1; }));
  self->send_exit(receiver, caf::exit_reason::user_shutdown);
}

TEST_CASE("a pool outlives its owner until every element is back, then frees them all",
          "[actors][pooled]") {
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor sender{system};
  caf::scoped_actor receiver{system};
  const int live_before = Tracked::live;
  {
    MessagePoolRef<caf::atom_value, Tracked> pool;
    for (std::uint64_t i = 1; i <= 10; ++i)
      pool->send(sender.ptr(), caf::actor_cast<caf::abstract_actor*>(receiver.ptr()),
                 ping_atom::value, Tracked{i});
    CHECK(pool->created() == 10);  // all ten wait in the receiver's mailbox
  }                                // the owner lets go here
  std::uint64_t sum = 0;
  for (int i = 0; i < 10; ++i)
    receiver->receive([&](ping_atom, const Tracked& t) { sum += t.value; },
                      caf::after(std::chrono::seconds(5)) >> [] {});
  CHECK(sum == 55);
  // The last element back deleted the pool, and the pool its elements.
  CHECK(Tracked::live == live_before);
}

TEST_CASE("a pooled message to an actor that has quit goes back to its pool", "[actors][pooled]") {
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto receiver = system.spawn(
      [](caf::event_based_actor*) -> caf::behavior { return {[](ping_atom, std::uint64_t) {}}; });
  self->send_exit(receiver, caf::exit_reason::user_shutdown);
  self->wait_for(receiver);
  MessagePoolRef<caf::atom_value, std::uint64_t> pool;
  for (std::uint64_t i = 0; i < 100; ++i)
    pool->send(self.ptr(), address_of(receiver), ping_atom::value, i);
  CHECK(pool->created() == 1);
}

TEST_CASE("a pooled message's content can be moved into a message, as for a remote receiver",
          "[actors][pooled]") {
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor sender{system};
  caf::scoped_actor receiver{system};
  MessagePoolRef<caf::atom_value, std::uint64_t> pool;
  pool->send(sender.ptr(), caf::actor_cast<caf::abstract_actor*>(receiver.ptr()), ping_atom::value,
             std::uint64_t{7});
  caf::message moved;
  receiver->receive(
      [&](ping_atom, std::uint64_t) {
        moved = receiver->current_mailbox_element()->move_content_to_message();
      },
      caf::after(std::chrono::seconds(5)) >> [] {});
  REQUIRE(moved.size() == 2);
  CHECK(moved.match_elements<caf::atom_value, std::uint64_t>());
  CHECK(moved.get_as<caf::atom_value>(0) == ping_atom::value);
  CHECK(moved.get_as<std::uint64_t>(1) == 7);
}
