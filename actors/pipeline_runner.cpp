#include "actors/pipeline_runner.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/message_types.hpp"
#include "actors/messages.hpp"
#include "actors/node_actor.hpp"

namespace streamlab {

namespace {

using clock = std::chrono::steady_clock;

// Consumers before producers, so every producer is spawned knowing its
// consumers' addresses. Validation guarantees the graph has no cycle.
std::vector<std::size_t> sinks_first_order(const PipelineSpec& spec) {
  std::vector<std::size_t> pending_outputs(spec.nodes.size());
  for (std::size_t i = 0; i < spec.nodes.size(); ++i)
    pending_outputs[i] = spec.outputs_of(spec.nodes[i].id).size();
  std::vector<std::size_t> order;
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < spec.nodes.size(); ++i)
    if (pending_outputs[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    std::size_t i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (const auto* c : spec.inputs_of(spec.nodes[i].id)) {
      auto producer = static_cast<std::size_t>(spec.index_of(c->from));
      if (--pending_outputs[producer] == 0) ready.push_back(producer);
    }
  }
  return order;
}

std::uint32_t port_of(const PipelineSpec& spec, const ConnectionSpec& connection) {
  auto inputs = spec.inputs_of(connection.to);
  auto it = std::find(inputs.begin(), inputs.end(), &connection);
  return static_cast<std::uint32_t>(it - inputs.begin());
}

std::size_t scheduler_threads(std::size_t requested) {
  if (requested) return requested;
  return std::max(2u, std::thread::hardware_concurrency());
}

// Queue figures belong to the consumer's row; frames its producers sent
// that never arrived (a forced stop) are counted there as dropped.
void attribute_edges(const PipelineSpec& spec,
                     const std::vector<std::vector<std::uint64_t>>& received, RunResult& result) {
  for (const auto& edge : result.edges) {
    int to = spec.index_of(edge.to);
    if (to < 0) continue;
    NodeSnapshot& row = result.nodes[static_cast<std::size_t>(to)];
    row.queue_capacity = std::max<std::uint64_t>(row.queue_capacity, edge.capacity);
    row.queue_max_occupancy = std::max(row.queue_max_occupancy, edge.max_occupancy);
    const auto& got = received[static_cast<std::size_t>(to)];
    std::uint64_t arrived = edge.port < got.size() ? got[edge.port] : 0;
    if (edge.frames > arrived) {
      std::uint64_t lost = edge.frames - arrived;
      row.frames_in += lost;
      row.dropped[static_cast<std::size_t>(DropReason::shutdown)] += lost;
    }
  }
}

}  // namespace

bool RunResult::any_node_failed() const {
  return std::any_of(nodes.begin(), nodes.end(),
                     [](const NodeSnapshot& n) { return n.state == "failed"; });
}

RunResult run_pipeline(const PipelineSpec& spec, const NodeRegistry& registry,
                       const RunOptions& options) {
  RunResult result;
  const std::size_t n = spec.nodes.size();

  // Nodes are created before any actor exists: a node that cannot start
  // (say, a file that vanished since validation) means nothing starts.
  std::vector<std::unique_ptr<Node>> nodes;
  for (const auto& node : spec.nodes) {
    const NodeType* type = registry.find(node.type);
    NodeContext ctx{node.id, options.pool, options.text_out};
    try {
      if (!type) throw std::runtime_error("unknown node type \"" + node.type + "\"");
      nodes.push_back(type->make(node.config, ctx));
    } catch (const std::exception& e) {
      result.error = spec.file + ": node \"" + node.id + "\" (" + node.type + "): " + e.what();
      return result;
    }
  }

  caf::actor_system_config cfg;
  register_message_types(cfg);
  // 0.17's defaults are left behind on purpose: the thread count follows
  // the option (or the core count) and the policy is named, not implied.
  cfg.set("scheduler.max-threads", scheduler_threads(options.threads));
  cfg.set("scheduler.policy", caf::atom("stealing"));
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};

  const PoolStats pool_before = options.pool->stats();
  const auto t0 = clock::now();
  std::vector<caf::actor> actors(n);
  for (std::size_t i : sinks_first_order(spec)) {
    const NodeSpec& node = spec.nodes[i];
    auto setup = std::make_shared<NodeActorSetup>();
    setup->pipeline = spec.name;
    setup->node_id = node.id;
    setup->type = node.type;
    setup->node = std::move(nodes[i]);
    setup->runner = caf::actor_cast<caf::actor>(self);
    for (const auto* c : spec.inputs_of(node.id))
      setup->input_capacities.push_back(static_cast<std::uint32_t>(c->capacity));
    for (const auto* c : spec.outputs_of(node.id)) {
      auto to = static_cast<std::size_t>(spec.index_of(c->to));
      setup->outputs.push_back(OutputLink{actors[to], c->to, port_of(spec, *c),
                                          static_cast<std::uint32_t>(c->capacity)});
    }
    if (setup->input_capacities.empty()) setup->max_frames = options.max_frames;
    actors[i] = spawn_node_actor(system, std::move(setup));
    self->monitor(actors[i]);
  }
  result.started = true;
  for (std::size_t i = 0; i < n; ++i)
    if (spec.inputs_of(spec.nodes[i].id).empty()) self->send(actors[i], start_atom::value);

  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) index[spec.nodes[i].id] = i;
  result.nodes.resize(n);
  std::vector<std::vector<std::uint64_t>> received(n);
  std::vector<bool> reported(n, false);
  std::size_t remaining = n;
  bool stop_sent = false;
  bool kill_sent = false;
  clock::time_point stop_time;

  auto broadcast_stop = [&] {
    if (stop_sent) return;
    stop_sent = true;
    stop_time = clock::now();
    for (const auto& a : actors) self->send<caf::message_priority::high>(a, stop_atom::value);
  };
  auto broadcast_kill = [&] {
    if (kill_sent) return;
    kill_sent = true;
    result.forced = true;
    for (const auto& a : actors) self->send<caf::message_priority::high>(a, kill_atom::value);
  };

  while (remaining > 0) {
    self->receive(
        [&](report_atom, NodeReport& report) {
          auto it = index.find(report.snapshot.node);
          if (it == index.end() || reported[it->second]) return;
          reported[it->second] = true;
          --remaining;
          received[it->second] = std::move(report.received);
          for (auto& e : report.edges) result.edges.push_back(std::move(e));
          result.nodes[it->second] = std::move(report.snapshot);
        },
        [&](caf::down_msg& down) {
          auto it = std::find(actors.begin(), actors.end(), down.source);
          if (it == actors.end()) return;
          auto i = static_cast<std::size_t>(it - actors.begin());
          if (reported[i]) return;
          // Node errors are caught inside the actor; an actor that dies
          // without reporting is a defect. Stop everything rather than hang
          // on an edge that will never see its end of stream.
          reported[i] = true;
          --remaining;
          NodeSnapshot& row = result.nodes[i];
          row.pipeline = spec.name;
          row.node = spec.nodes[i].id;
          row.type = spec.nodes[i].type;
          row.state = "failed";
          row.last_error = "actor died: " + caf::to_string(down.reason);
          spdlog::error("node \"{}\": {}", row.node, row.last_error);
          broadcast_kill();
        },
        caf::after(std::chrono::milliseconds(50)) >> [] {});

    int interrupts = options.interrupts ? options.interrupts->load() : 0;
    if (interrupts >= 1) broadcast_stop();
    if (interrupts >= 2) broadcast_kill();
    if (options.duration_s > 0 &&
        clock::now() - t0 >= std::chrono::duration<double>(options.duration_s))
      broadcast_stop();
    if (stop_sent && !kill_sent &&
        clock::now() - stop_time >= std::chrono::duration<double>(options.drain_timeout_s)) {
      spdlog::warn("pipeline \"{}\" did not drain within {} s; forcing the stop", spec.name,
                   options.drain_timeout_s);
      broadcast_kill();
    }
  }
  result.elapsed_s = std::chrono::duration<double>(clock::now() - t0).count();
  attribute_edges(spec, received, result);

  const PoolStats pool_after = options.pool->stats();
  result.pool.hits = pool_after.hits - pool_before.hits;
  result.pool.misses = pool_after.misses - pool_before.misses;
  result.pool.recycled = pool_after.recycled - pool_before.recycled;
  result.pool.discarded = pool_after.discarded - pool_before.discarded;
  return result;
}

}  // namespace streamlab
