// A distributed start that its starter gives up on (a member's deploy
// timing out) must leave nothing half started: (kill) during the start
// shuts down what was spawned, answers the start with why, and reports the
// pipeline failed.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/message_types.hpp"
#include "actors/messages.hpp"
#include "actors/node_host.hpp"
#include "actors/supervisor.hpp"
#include "messages/buffer_pool.hpp"
#include "nodes/registry.hpp"

using namespace streamlab;

namespace {

// A host that takes spawn requests and never answers them.
caf::behavior silent_host(caf::event_based_actor* self) {
  return {
      [self](spawn_atom, NodeSpawn&) -> caf::result<caf::actor> {
        return self->make_response_promise<caf::actor>();
      },
  };
}

}  // namespace

TEST_CASE("a kill during a distributed start stops it and fails the pipeline",
          "[supervision][start]") {
  const std::string text = R"({"name":"p","nodes":[
      {"id":"src","type":"sine"},{"id":"sink","type":"null_sink"}],
      "connections":[{"from":"src","to":"sink"}]})";
  ParseResult parsed = parse_pipeline(text, "p.json", NodeRegistry::builtin().schemas());
  REQUIRE(parsed.spec);

  caf::actor_system_config cfg;
  register_message_types(cfg);
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  BufferPool pool;
  auto setup = std::make_shared<SupervisorSetup>();
  setup->spec = *parsed.spec;
  setup->registry = &NodeRegistry::builtin();
  setup->pool = &pool;
  setup->runner = caf::actor_cast<caf::actor>(self);
  setup->hosts = {PlacedHost{"x", system.spawn(silent_host)}};
  setup->placement = {0, 0};
  setup->spec_text = text;
  setup->dead_letter_path = "/dev/null";
  caf::actor supervisor = spawn_supervisor(system, setup);

  auto started = self->request(supervisor, caf::infinite, start_atom::value);
  self->send(supervisor, kill_atom::value);  // behind the start, while its spawn hangs
  std::string start_answer = "none";
  started.receive([&](std::string& why) { start_answer = why; },
                  [&](caf::error& err) { FAIL(caf::to_string(err)); });
  SupervisionResultPtr result;
  self->receive([&](result_atom, const SupervisionResultPtr& r) { result = r; },
                caf::after(std::chrono::seconds(10)) >> [] {});
  CHECK(start_answer == "stopped before every node had started");
  REQUIRE(result);
  CHECK(result->state == "failed");
  self->send_exit(setup->hosts[0].host, caf::exit_reason::user_shutdown);
}
