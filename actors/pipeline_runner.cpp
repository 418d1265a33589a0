#include "actors/pipeline_runner.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/message_types.hpp"
#include "actors/messages.hpp"
#include "actors/monitor.hpp"
#include "actors/scheduler.hpp"
#include "actors/supervisor.hpp"
#include "runtime/pipeline_graph.hpp"

namespace streamlab {

namespace {

using clock = std::chrono::steady_clock;

std::size_t scheduler_threads(std::size_t requested) {
  if (requested) return requested;
  return std::max(2u, std::thread::hardware_concurrency());
}

// CAF's threads sleep with the kernel's default timer slack, 50 us: every
// timed wait (the workers' polling sleeps, the clock thread's delayed
// messages) comes up to that much late. These threads ask for none, as the
// pacer's thread does for live sources' wake-ups (actors/pacer.cpp).
class TimerSlackHook : public caf::thread_hook {
 public:
  void init(caf::actor_system&) override {}
  void thread_started() override {
#ifdef PR_SET_TIMERSLACK
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
  }
  void thread_terminates() override {}
};

// A live source's work comes in bursts when a frame is due, further apart
// (an audio period, ms) than CAF's idle workers keep polling by default
// (500 sleeps of 50 us each), so the worker its wake-up lands on would
// only see it after its current sleep. Here a worker polls a few times,
// then waits on its condition variable, which that wake-up notifies, and
// looks for work to steal every ms (benchmark case 5: p50 latency down by
// a third, CPU time about halved). Timer slack is dropped too (above).
void pace_for_live_sources(caf::actor_system_config& cfg) {
  cfg.add_thread_hook<TimerSlackHook>();
  cfg.set("work-stealing.moderate-poll-attempts", std::size_t{10});
  cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{std::chrono::milliseconds(1)});
}

// Frames a producer sent that never arrived (a forced stop) are counted at
// the consumer as dropped.
void count_lost_in_transit(const PipelineSpec& spec,
                           const std::vector<std::vector<std::uint64_t>>& received,
                           RunResult& result) {
  const PipelineGraph graph(spec);
  for (const auto& edge : result.edges) {
    int to = graph.index_of(edge.to);
    if (to < 0) continue;
    NodeSnapshot& row = result.nodes[static_cast<std::size_t>(to)];
    const auto& got = received[static_cast<std::size_t>(to)];
    std::uint64_t arrived = edge.port < got.size() ? got[edge.port] : 0;
    if (edge.frames > arrived) {
      std::uint64_t lost = edge.frames - arrived;
      row.frames_in += lost;
      row.dropped[static_cast<std::size_t>(DropReason::shutdown)] += lost;
    }
  }
}

std::string default_dead_letter_path(const PipelineSpec& spec) {
  return spec.config.dead_letter_path.empty() ? spec.name + ".dead-letters"
                                              : spec.config.dead_letter_path;
}

}  // namespace

bool RunResult::succeeded() const {
  return state == "finished" && std::none_of(nodes.begin(), nodes.end(), [](const NodeSnapshot& n) {
           return n.state == "failed";
         });
}

RunResult run_pipeline(const PipelineSpec& spec, const NodeRegistry& registry,
                       const RunOptions& options) {
  RunResult result;
  auto setup = std::make_shared<SupervisorSetup>();
  setup->epoch_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();

  // Nodes are created before any actor exists: a node that cannot start
  // (say, a file that vanished since validation) means nothing starts.
  for (const auto& node : spec.nodes) {
    const NodeType* type = registry.find(node.type);
    NodeContext ctx{node.id, options.pool, options.text_out, setup->epoch_ns};
    try {
      if (!type) throw std::runtime_error("unknown node type \"" + node.type + "\"");
      setup->nodes.push_back(type->make(node.config, ctx));
    } catch (const std::exception& e) {
      result.error = spec.file + ": node \"" + node.id + "\" (" + node.type + "): " + e.what();
      return result;
    }
  }
  setup->spec = spec;
  setup->registry = &registry;
  setup->max_frames = options.max_frames;
  setup->pool = options.pool;
  setup->text_out = options.text_out;
  setup->dead_letter_path = default_dead_letter_path(spec);
  result.dead_letter_path = setup->dead_letter_path;

  caf::actor_system_config cfg;
  register_message_types(cfg);
  // 0.17's defaults are left behind on purpose: the thread count follows
  // the option (or the core count) and the scheduler is named, not implied.
  cfg.set("scheduler.max-threads", scheduler_threads(options.threads));
  use_streamlab_scheduler(cfg);
  if (std::any_of(setup->nodes.begin(), setup->nodes.end(),
                  [](const std::unique_ptr<Node>& n) { return n->live().has_value(); }))
    pace_for_live_sources(cfg);
  if (options.configure) options.configure(cfg);
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  setup->runner = caf::actor_cast<caf::actor>(self);
  caf::actor monitor = spawn_monitor(system, options.process_name);
  setup->monitor = monitor;
  std::shared_ptr<void> session;
  if (options.on_start) {
    try {
      session = options.on_start(system, monitor);
    } catch (const std::exception& e) {
      result.error = e.what();
      self->send_exit(monitor, caf::exit_reason::user_shutdown);
      return result;
    }
  }

  const PoolStats pool_before = options.pool->stats();
  const auto t0 = clock::now();
  caf::actor supervisor = spawn_supervisor(system, setup);
  // Every node here was created above: starting cannot fail for a node's
  // sake, and whatever else stops it arrives as the result below.
  self->request(supervisor, caf::infinite, start_atom::value)
      .receive([](std::string&) {}, [](caf::error&) {});
  result.started = true;

  SupervisionResultPtr outcome;
  bool stop_sent = false;
  clock::time_point stop_time;
  while (!outcome) {
    // Waits on the mailbox itself: a receive with a timeout would allocate
    // its timeout every time round.
    if (self->await_data(std::chrono::high_resolution_clock::now() + std::chrono::milliseconds(50)))
      self->receive([&](result_atom, const SupervisionResultPtr& r) { outcome = r; },
                    caf::others >> [](caf::message_view& m) -> caf::result<caf::message> {
                      spdlog::warn("pipeline runner: unexpected message {}",
                                   caf::to_string(m.content()));
                      return caf::message{};
                    });
    if (outcome) break;
    int interrupts = options.interrupts ? options.interrupts->load() : 0;
    bool duration_over = options.duration_s > 0 &&
                         clock::now() - t0 >= std::chrono::duration<double>(options.duration_s);
    if (!stop_sent && (interrupts >= 1 || duration_over)) {
      stop_sent = true;
      stop_time = clock::now();
      self->send<caf::message_priority::high>(supervisor, stop_atom::value);
    }
    bool drain_too_long = stop_sent && clock::now() - stop_time >=
                                           std::chrono::duration<double>(options.drain_timeout_s);
    if (!result.forced && (interrupts >= 2 || drain_too_long)) {
      if (drain_too_long)
        spdlog::warn("pipeline \"{}\" did not drain within {} s; forcing the stop", spec.name,
                     options.drain_timeout_s);
      result.forced = true;
      self->send<caf::message_priority::high>(supervisor, kill_atom::value);
    }
  }
  result.elapsed_s = std::chrono::duration<double>(clock::now() - t0).count();
  session.reset();
  self->send_exit(monitor, caf::exit_reason::user_shutdown);
  result.nodes = outcome->nodes;
  result.edges = outcome->edges;
  result.state = outcome->state;
  result.state_reason = outcome->error;
  result.restart_latency = outcome->restart_latency;
  result.dead_letters_written = outcome->dead_letters_written;
  result.dead_letter_error = outcome->dead_letter_error;
  count_lost_in_transit(spec, outcome->received, result);
  fill_queue_figures(result.nodes, result.edges);

  const PoolStats pool_after = options.pool->stats();
  result.pool.hits = pool_after.hits - pool_before.hits;
  result.pool.misses = pool_after.misses - pool_before.misses;
  result.pool.recycled = pool_after.recycled - pool_before.recycled;
  return result;
}

}  // namespace streamlab
