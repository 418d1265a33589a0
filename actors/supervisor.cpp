#include "actors/supervisor.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/caf_words.hpp"
#include "actors/dead_letter_actor.hpp"
#include "actors/messages.hpp"
#include "actors/node_actor.hpp"
#include "actors/node_host.hpp"
#include "runtime/pipeline_graph.hpp"
#include "runtime/restart_strategy.hpp"

namespace streamlab {

namespace {

// A host that does not answer a spawn in this time is taken for lost.
constexpr auto kSpawnTimeout = std::chrono::seconds(5);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// True when no source can reach any sink without passing `node`.
bool on_every_path_to_a_sink(const PipelineGraph& graph, std::size_t node) {
  std::vector<bool> seen(graph.size(), false);
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < graph.size(); ++i)
    if (i != node && graph.is_source(i)) todo.push_back(i);
  while (!todo.empty()) {
    std::size_t i = todo.back();
    todo.pop_back();
    if (seen[i]) continue;
    seen[i] = true;
    if (graph.outputs(i).empty()) return false;  // reached a sink
    for (std::size_t c : graph.outputs(i))
      if (graph.to(c) != node) todo.push_back(graph.to(c));
  }
  return true;
}

class supervisor_actor : public caf::event_based_actor {
 public:
  supervisor_actor(caf::actor_config& cfg, std::shared_ptr<SupervisorSetup> setup)
      : caf::event_based_actor(cfg), setup_(std::move(setup)), graph_(setup_->spec) {
    std::random_device entropy;
    for (const auto& node : spec().nodes) {
      const auto& sup = node.supervision_config;
      slots_.emplace_back(RestartStrategy(sup.restart, sup.intensity, entropy()));
    }
    set_down_handler([this](caf::down_msg& down) { on_down(down); });
    if (spec().config.max_memory_bytes)
      memory_ = std::make_shared<MemoryBudget>(spec().config.max_memory_bytes);
    host_alive_.assign(setup_->hosts.size(), true);
    text_sent_.assign(setup_->hosts.size(), false);
    placement_ = setup_->placement;
  }

  const char* name() const override { return "streamlab.supervisor"; }

  // Its nodes hold the supervisor as it holds them (strong references both
  // ways): once terminated it lets go, so both can be freed.
  void on_exit() override {
    slots_.clear();
    dead_letters_ = nullptr;
    start_promise_ = caf::response_promise{};
    setup_.reset();
  }

  caf::behavior make_behavior() override {
    return {
        [this](start_atom) -> caf::result<std::string> { return start(); },
        [this](stop_atom) { stop(); },
        [this](kill_atom) { kill(); },
        [this](failed_atom, Handover& handover) {
          int i = slot_of(current_sender());
          if (i >= 0)
            on_failure(static_cast<std::size_t>(i),
                       std::make_shared<Handover>(std::move(handover)));
        },
        [this](restart_atom, std::uint64_t i) {
          if (!killing_ && !slots_[i].reported && slots_[i].backing_off) replace(i, StandIn::none);
        },
        [this](trial_atom, std::uint64_t i) {
          if (!killing_ && !slots_[i].reported) send(slots_[i].actor, handover_atom::value);
        },
        [this](handover_atom, Handover& handover) {
          int i = slot_of(current_sender());
          if (i < 0 || slots_[i].reported || killing_) return;
          slots_[i].handover = std::make_shared<Handover>(std::move(handover));
          const auto& trials = spec().nodes[i].supervision_config.restart.half_open_trials;
          replace(static_cast<std::size_t>(i), StandIn::none, trials);
        },
        [this](success_atom) {
          int i = slot_of(current_sender());
          if (i >= 0) slots_[i].strategy.on_frame_ok(now_ns());
        },
        [this](report_atom, NodeReport& report) { on_report(std::move(report)); },
        [this](memory_atom, const std::string& why) {
          // Over the pipeline's memory bound: the run fails, cleanly.
          if (killing_) return;
          state_ = "failed";
          error_ += (error_.empty() ? "" : "; ") + why;
          spdlog::error("{}; stopping the pipeline", why);
          kill();
        },
        [this](snapshot_atom) -> caf::result<MetricsSnapshot> { return snapshot(); },
    };
  }

 private:
  struct Slot {
    explicit Slot(RestartStrategy s) : strategy(std::move(s)) {}
    caf::actor actor;  // the current instance (or stand-in); the last one while backing off
    RestartStrategy strategy;
    HandoverPtr handover;               // left by the last instance, for the next
    caf::strong_actor_ptr handed_over;  // that instance: its down message is expected
    bool backing_off = false;
    bool spawning = false;  // a replacement is being created (on a host)
    bool reported = false;
    std::int64_t failed_at = 0;
    NodeReport report;
  };

  const PipelineSpec& spec() const { return setup_->spec; }
  bool is_source(std::size_t i) const { return graph_.is_source(i); }
  // The spec's lookups, through the precomputed graph (linear ones here
  // made a 10,000-node start quadratic).
  std::vector<const ConnectionSpec*> connections(const std::vector<std::size_t>& indices) const {
    std::vector<const ConnectionSpec*> out;
    out.reserve(indices.size());
    for (std::size_t c : indices) out.push_back(&spec().connections[c]);
    return out;
  }
  std::vector<const ConnectionSpec*> inputs_of(std::size_t i) const {
    return connections(graph_.inputs(i));
  }
  std::vector<const ConnectionSpec*> outputs_of(std::size_t i) const {
    return connections(graph_.outputs(i));
  }
  int index_of(const std::string& id) const { return graph_.index_of(id); }
  std::uint32_t port_of(const ConnectionSpec& c) const {
    return graph_.port(static_cast<std::size_t>(&c - spec().connections.data()));
  }

  // The slot whose current instance sent this, or -1. Through a map of
  // every instance ever spawned: a scan per message (every node's down
  // message at the end) was quadratic in the node count.
  int slot_of(const caf::strong_actor_ptr& sender) const {
    if (!sender) return -1;
    auto it = slot_by_addr_.find(sender->address());
    if (it == slot_by_addr_.end()) return -1;
    const std::size_t i = it->second;
    return caf::actor_cast<caf::strong_actor_ptr>(slots_[i].actor) == sender ? static_cast<int>(i)
                                                                             : -1;
  }
  void set_actor(std::size_t i, caf::actor actor) {
    if (actor) slot_by_addr_[actor.address()] = i;
    slots_[i].actor = std::move(actor);
  }

  std::vector<OutputLink> output_links(std::size_t i) const {
    std::vector<OutputLink> links;
    for (const auto* c : outputs_of(i)) {
      auto to = static_cast<std::size_t>(index_of(c->to));
      links.push_back(OutputLink{slots_[to].actor, c->to, port_of(*c),
                                 static_cast<std::uint32_t>(c->capacity)});
    }
    return links;
  }

  bool distributed() const { return !setup_->hosts.empty(); }

  std::unique_ptr<Node> make_node(std::size_t i) {
    const NodeSpec& n = spec().nodes[i];
    const NodeType* type = setup_->registry->find(n.type);
    NodeContext ctx{n.id, setup_->pool, setup_->text_out, setup_->epoch_ns};
    return type->make(n.config, ctx);
  }

  using Spawned = std::function<void(caf::actor)>;
  using SpawnFailed = std::function<void(const std::string&)>;

  // Creates an instance of node i (or a stand-in) wired to the current
  // instances of its consumers: here, or on its host. Stand-ins always run
  // here: they only count, and must work when the host is gone.
  void spawn_node(std::size_t i, std::unique_ptr<Node> node, StandIn mode,
                  std::uint32_t report_successes, Spawned done, SpawnFailed failed) {
    if (!distributed() || mode != StandIn::none) {
      auto s = std::make_shared<NodeActorSetup>();
      describe_node(spec(), graph_, i, *s);
      s->node = std::move(node);
      s->stand_in = mode;
      s->supervisor = caf::actor_cast<caf::actor>(this);
      s->dead_letters = dead_letters_;
      s->resume = slots_[i].handover;
      s->report_successes = report_successes;
      s->memory = memory_;
      s->outputs = output_links(i);
      if (s->input_capacities.empty()) s->max_frames = setup_->max_frames;
      done(spawn_node_actor(system(), std::move(s)));
      return;
    }
    auto host = host_for(i);
    if (!host) {
      failed("no cluster member is up to run it");
      return;
    }
    NodeSpawn ask;
    const std::size_t h = *host;
    // Once per host: sending (and parsing) the whole text for every node
    // made a deploy quadratic in the pipeline's size.
    if (!text_sent_[h]) ask.pipeline_text = setup_->spec_text;
    ask.file = spec().file;
    ask.node_id = spec().nodes[i].id;
    ask.outputs = output_links(i);
    ask.max_frames = setup_->max_frames;
    ask.supervisor = caf::actor_cast<caf::actor>(this);
    ask.dead_letters = dead_letters_;
    if (slots_[i].handover) ask.resume.push_back(*slots_[i].handover);
    ask.report_successes = report_successes;
    ask.epoch_ns = setup_->epoch_ns;
    request(setup_->hosts[h].host, kSpawnTimeout, spawn_atom::value, std::move(ask))
        .then(
            [this, h, done](caf::actor& node) {
              text_sent_[h] = true;
              done(std::move(node));
            },
            [this, h, failed](caf::error& err) {
              failed("on member \"" + setup_->hosts[h].name + "\": " + plain_words(err));
            });
  }

  // The host node i runs on: its own while it lives; else, unless the node
  // is pinned, the live host with the fewest of this pipeline's nodes.
  // A pinned node ("on") is placed again too: losing the member must not
  // end the stream; a node that cannot run elsewhere (a device that only
  // that machine has) fails to be created there, and its supervision applies.
  std::optional<std::size_t> host_for(std::size_t i) {
    if (host_alive_[placement_[i]]) return placement_[i];
    std::optional<std::size_t> best;
    std::vector<std::size_t> load(setup_->hosts.size(), 0);
    for (std::size_t k = 0; k < placement_.size(); ++k) ++load[placement_[k]];
    for (std::size_t h = 0; h < setup_->hosts.size(); ++h)
      if (host_alive_[h] && (!best || load[h] < load[*best])) best = h;
    if (best) placement_[i] = *best;
    return best;
  }

  // Spawns every node, consumers before producers, then starts the sources.
  caf::result<std::string> start() {
    dead_letters_ = spawn_dead_letter_actor(system(), setup_->dead_letter_path);
    if (setup_->monitor)
      send(setup_->monitor, register_atom::value, spec().name, caf::actor_cast<caf::actor>(this));
    for (const auto& h : setup_->hosts) monitor(h.host);
    start_promise_ = make_response_promise();
    starting_ = true;
    auto order = std::make_shared<std::vector<std::size_t>>(graph_.sinks_first_order());
    spawn_in_order(order, 0);
    return start_promise_;
  }

  // A loop, not a recursion: spawning here completes at once, and a call
  // per node nested in the last one's completion overflowed the stack at
  // 10,000 nodes. A host's answer arrives later, on a fresh stack, and
  // continues the loop from there.
  void spawn_in_order(std::shared_ptr<std::vector<std::size_t>> order, std::size_t k) {
    for (; k < order->size(); ++k) {
      const std::size_t i = (*order)[k];
      if (distributed()) {
        spawn_node(
            i, nullptr, StandIn::none, 0,
            [this, order, k, i](caf::actor actor) {
              set_actor(i, std::move(actor));
              monitor(slots_[i].actor);
              spawn_in_order(order, k + 1);
            },
            [this](const std::string& why) { abandon_start(why); });
        return;
      }
      spawn_node(
          i, std::move(setup_->nodes[i]), StandIn::none, 0,
          [this, i](caf::actor actor) {
            set_actor(i, std::move(actor));
            monitor(slots_[i].actor);
          },
          [this](const std::string& why) { abandon_start(why); });
    }
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (is_source(i)) send(slots_[i].actor, start_atom::value);
    starting_ = false;
    start_promise_.deliver(std::string());
  }

  // A node could not be created: nothing runs, and the runner learns why.
  void abandon_start(const std::string& why) {
    starting_ = false;
    state_ = "failed";
    error_ = why;
    spdlog::error("pipeline \"{}\" cannot start: {}", spec().name, why);
    for (auto& slot : slots_)
      if (slot.actor) send(slot.actor, shutdown_atom::value);
    start_promise_.deliver(why);
    auto result = std::make_shared<SupervisionResult>();
    result->state = state_;
    result->error = error_;
    send(dead_letters_, shutdown_atom::value);
    send(setup_->runner, result_atom::value, SupervisionResultPtr(result));
    quit();
  }

  void stop() {
    stopping_ = true;
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (is_source(i) && !slots_[i].backing_off)
        send<caf::message_priority::high>(slots_[i].actor, stop_atom::value);
  }

  // Forced: live instances flush and report. Before every node has
  // started (its starter gave up waiting), nothing may be left half
  // started: what was spawned is shut down and the pipeline fails.
  void kill() {
    if (starting_) {
      abandon_start("stopped before every node had started");
      return;
    }
    killing_ = true;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      Slot& slot = slots_[i];
      if (slot.reported) continue;
      if (slot.backing_off || slot.spawning)
        report_from_handover(i);
      else
        send<caf::message_priority::high>(slot.actor, kill_atom::value);
    }
  }

  // A node with no instance (waiting for its restart) reports what its
  // last instance left.
  void report_from_handover(std::size_t i) { on_report(handover_report(i)); }

  NodeReport handover_report(std::size_t i) const {
    const Slot& slot = slots_[i];
    NodeReport report;
    if (!slot.handover) {
      report.snapshot.pipeline = spec().name;
      report.snapshot.node = spec().nodes[i].id;
      report.snapshot.type = spec().nodes[i].type;
      report.snapshot.state = "starting";
      return report;
    }
    report.snapshot = make_snapshot(slot.handover->metrics);
    report.snapshot.pipeline = spec().name;
    report.snapshot.node = spec().nodes[i].id;
    report.snapshot.type = spec().nodes[i].type;
    report.snapshot.state = "backing_off";
    report.snapshot.last_error = slot.handover->error;
    report.received = slot.handover->consumed;
    for (std::size_t k = 0; k < slot.handover->outputs.size(); ++k) {
      const auto* c = &spec().connections[graph_.outputs(i)[k]];
      const auto& out = slot.handover->outputs[k];
      EdgeSnapshot e{c->from,     c->to,
                     port_of(*c), static_cast<std::uint32_t>(c->capacity),
                     out.sent,    out.max_in_flight};
      e.pipeline = spec().name;
      e.occupancy = out.sent - out.acked;
      report.edges.push_back(std::move(e));
    }
    return report;
  }

  void on_failure(std::size_t i, const HandoverPtr& handover) {
    Slot& slot = slots_[i];
    const std::string& id = spec().nodes[i].id;
    slot.handover = handover;
    slot.handed_over = caf::actor_cast<caf::strong_actor_ptr>(slot.actor);
    slot.failed_at = now_ns();
    if (killing_) {  // no restart during a forced stop
      report_from_handover(i);
      return;
    }
    RestartDecision decision =
        slot.strategy.on_failure(slot.failed_at, handover->error, progress_of(handover->metrics));
    using Kind = RestartDecision::Kind;
    switch (decision.kind) {
      case Kind::restart:
        spdlog::warn("node \"{}\" failed: {}; restarting in {:.1f} ms ({})", id, handover->error,
                     decision.delay_ns / 1e6, decision.reason);
        if (decision.delay_ns <= 0) {
          replace(i, StandIn::none);
        } else {
          slot.backing_off = true;
          delayed_send(this, std::chrono::nanoseconds(decision.delay_ns), restart_atom::value,
                       static_cast<std::uint64_t>(i));
        }
        break;
      case Kind::open:
        spdlog::warn("node \"{}\" failed: {}; circuit open, frames go to the dead letters ({})", id,
                     handover->error, decision.reason);
        replace(i, StandIn::dead_letter);
        delayed_send(this, std::chrono::nanoseconds(decision.delay_ns), trial_atom::value,
                     static_cast<std::uint64_t>(i));
        break;
      case Kind::escalate:
        escalate(i, handover->error + " (" + decision.reason + ")");
        break;
    }
  }

  void escalate(std::size_t i, const std::string& why) {
    const std::string& id = spec().nodes[i].id;
    bool fatal = on_every_path_to_a_sink(graph_, i);
    if (fatal || state_ != "failed") state_ = fatal ? "failed" : "degraded";
    if (!error_.empty()) error_ += "; ";
    error_ += "node \"" + id + "\" failed: " + why;
    spdlog::error("node \"{}\" failed for good: {}; pipeline \"{}\" is {}", id, why, spec().name,
                  state_);
    replace(i, StandIn::drop);
  }

  // Puts a new instance (or a stand-in) in node i's place and re-wires its
  // neighbours to it. Nobody else is touched.
  void replace(std::size_t i, StandIn mode, std::uint32_t report_successes = 0) {
    Slot& slot = slots_[i];
    std::unique_ptr<Node> node;
    if (mode == StandIn::none && !distributed()) {
      try {
        node = make_node(i);
      } catch (const std::exception& e) {
        cannot_create(i, e.what());
        return;
      }
    }
    slot.backing_off = false;
    slot.spawning = true;
    spawn_node(
        i, std::move(node), mode, report_successes,
        [this, i, mode](caf::actor fresh) { wire_in(i, std::move(fresh), mode); },
        [this, i](const std::string& why) {
          slots_[i].spawning = false;
          if (!killing_ && !slots_[i].reported) cannot_create(i, why);
        });
  }

  // A replacement that cannot be created (yet: an audio server that is not
  // back) is one more failure under the node's restart strategy: tried
  // again after its delay, until the intensity limit gives up for good.
  void cannot_create(std::size_t i, const std::string& why) {
    const Slot& slot = slots_[i];
    auto handover = std::make_shared<Handover>(slot.handover ? *slot.handover : Handover{});
    handover->error = "cannot be created: " + why;
    on_failure(i, handover);
  }

  void wire_in(std::size_t i, caf::actor fresh, StandIn mode) {
    Slot& slot = slots_[i];
    slot.spawning = false;
    monitor(fresh);
    if (slot.reported) {  // a forced stop came first
      send(fresh, shutdown_atom::value);
      return;
    }
    caf::actor old = slot.actor;
    set_actor(i, fresh);
    auto inputs = inputs_of(i);
    for (std::size_t port = 0; port < inputs.size(); ++port) {
      auto from = static_cast<std::size_t>(index_of(inputs[port]->from));
      std::uint64_t consumed = slot.handover && port < slot.handover->consumed.size()
                                   ? slot.handover->consumed[port]
                                   : 0;
      send(slots_[from].actor, rewire_atom::value, old, fresh, static_cast<std::uint32_t>(port),
           consumed);
    }
    for (const auto* c : outputs_of(i)) {
      auto to = static_cast<std::size_t>(index_of(c->to));
      send(slots_[to].actor, resync_atom::value, port_of(*c), fresh);
    }
    send(fresh, start_atom::value);
    if (stopping_ && is_source(i)) send<caf::message_priority::high>(fresh, stop_atom::value);
    if (killing_) send<caf::message_priority::high>(fresh, kill_atom::value);
    if (mode == StandIn::none) {
      slot.strategy.on_restarted(now_ns());
      restart_latency_.record(now_ns() - slot.failed_at);
    }
  }

  void on_down(const caf::down_msg& down) {
    for (std::size_t h = 0; h < setup_->hosts.size(); ++h) {
      if (setup_->hosts[h].host.address() != down.source || !host_alive_[h]) continue;
      host_alive_[h] = false;
      spdlog::warn("pipeline \"{}\": member \"{}\" is down ({})", spec().name,
                   setup_->hosts[h].name, plain_words(down.reason));
      return;
    }
    auto source = caf::actor_cast<caf::strong_actor_ptr>(down.source);
    int i = slot_of(source);
    if (i < 0 || slots_[i].reported || !down.reason || slots_[i].handed_over == source) return;
    // Node errors are caught inside the actor and handed over. An actor
    // that dies without a word (its process was lost, or a defect) leaves
    // nothing: its neighbours tell what it had consumed and delivered.
    const bool lost_member = down.reason == caf::exit_reason::remote_link_unreachable;
    if (lost_member && distributed()) host_alive_[placement_[i]] = false;
    std::string why = lost_member ? "its member was lost (" + plain_words(down.reason) + ")"
                                  : "actor died: " + plain_words(down.reason);
    spdlog::error("node \"{}\": {}", spec().nodes[i].id, why);
    slots_[i].handed_over = source;
    recover_lost(static_cast<std::size_t>(i), why,
                 lost_member ? DropReason::member_down : DropReason::node_failed);
  }

  // Rebuilds the handover of an instance that left none, from its
  // neighbours: each producer's acknowledged count is what it consumed (at
  // least), each consumer's received count is what it delivered. What it
  // consumed beyond what it delivered is counted as lost with `reason`.
  // Producers re-send what it had not consumed; the replacement continues
  // each edge's numbering. Exact for nodes that emit one frame per input
  // set, as every built-in processing node does.
  void recover_lost(std::size_t i, const std::string& why, DropReason reason) {
    struct Gather {
      Handover handover;
      std::size_t pending = 1;
    };
    auto g = std::make_shared<Gather>();
    const NodeSpec& n = spec().nodes[i];
    auto inputs = inputs_of(i);
    auto outputs = outputs_of(i);
    g->handover.error = why;
    g->handover.consumed.assign(inputs.size(), 0);
    g->handover.outputs.resize(outputs.size());
    auto arrived = [this, g, i, reason] {
      if (--g->pending > 0) return;
      Handover& h = g->handover;
      // Consumers have what it delivered: the inputs behind those frames
      // were consumed, even if the credits for them never left (they go in
      // batches). Every edge resumes after what its slowest consumer has;
      // a faster one drops the repeats by their index.
      if (!h.outputs.empty()) {
        std::uint64_t delivered = h.outputs.front().sent;
        for (const auto& o : h.outputs) delivered = std::min(delivered, o.sent);
        for (auto& o : h.outputs) o.sent = o.acked = delivered;
        for (auto& c : h.consumed) c = std::max(c, delivered);
      }
      std::uint64_t sets = 0;
      for (auto c : h.consumed) {
        h.metrics.frames_in += c;
        sets = std::max(sets, c);
      }
      if (!h.outputs.empty()) {
        h.metrics.frames_out = h.outputs.front().sent;
        if (sets > h.metrics.frames_out) h.metrics.drop(reason, sets - h.metrics.frames_out);
      }
      if (!slots_[i].reported) on_failure(i, std::make_shared<Handover>(std::move(h)));
    };
    for (std::size_t port = 0; port < inputs.size(); ++port) {
      auto from = static_cast<std::size_t>(index_of(inputs[port]->from));
      ++g->pending;
      ask_report(from, [g, arrived, port, id = n.id](const NodeReport& r) {
        for (const auto& e : r.edges)
          if (e.to == id && e.port == port) g->handover.consumed[port] = e.frames - e.occupancy;
        arrived();
      });
    }
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      auto to = static_cast<std::size_t>(index_of(outputs[k]->to));
      const std::uint32_t port = port_of(*outputs[k]);
      ++g->pending;
      ask_report(to, [g, arrived, k, port](const NodeReport& r) {
        if (port < r.received.size()) {
          g->handover.outputs[k].sent = r.received[port];
          g->handover.outputs[k].acked = r.received[port];
        }
        arrived();
      });
    }
    arrived();
  }

  // Node j's report: final if it has one, else asked (nothing if it does
  // not answer in time, e.g. it was lost too).
  void ask_report(std::size_t j, std::function<void(const NodeReport&)> then) {
    if (slots_[j].reported) {
      then(slots_[j].report);
      return;
    }
    request(slots_[j].actor, std::chrono::seconds(1), snapshot_atom::value)
        .then([then](NodeReport& r) { then(r); }, [then](caf::error&) { then(NodeReport{}); });
  }

  void on_report(NodeReport report) {
    int index = index_of(report.snapshot.node);
    if (index < 0 || slots_[index].reported) return;
    Slot& slot = slots_[index];
    slot.reported = true;
    annotate(report, slot);
    slot.report = std::move(report);
    if (++reported_ == slots_.size()) finish();
  }

  // What the node's instance cannot know: its restarts and its state as
  // its supervision sees it.
  static void annotate(NodeReport& report, const Slot& slot) {
    report.snapshot.restarts = slot.strategy.restarts();
    SupervisedState state = slot.strategy.state();
    if (state != SupervisedState::running) report.snapshot.state = to_string(state);
    if (report.snapshot.last_error.empty()) report.snapshot.last_error = slot.strategy.last_error();
  }

  PipelineStatus status() const {
    bool done = reported_ == slots_.size();
    std::string state = state_ == "finished" ? (done ? "finished" : "running") : state_;
    return PipelineStatus{spec().name, state, error_};
  }

  // The pipeline as it is now: finished nodes from their reports, the
  // others asked (a node that does not answer in time is listed as such).
  caf::result<MetricsSnapshot> snapshot() {
    struct Gather {
      std::vector<NodeReport> rows;
      std::size_t pending = 1;  // released after the loop, so delivery happens once
      caf::response_promise promise;
    };
    auto gather = std::make_shared<Gather>();
    gather->rows.resize(slots_.size());
    gather->promise = make_response_promise();
    auto arrived = [this, gather] {
      if (--gather->pending > 0) return;
      MetricsSnapshot s;
      s.pipelines.push_back(status());
      for (std::size_t i = 0; i < gather->rows.size(); ++i) {
        NodeReport& r = gather->rows[i];
        if (!slots_[i].reported) annotate(r, slots_[i]);
        if (distributed()) r.snapshot.process = setup_->hosts[placement_[i]].name;
        s.nodes.push_back(std::move(r.snapshot));
        for (auto& e : r.edges) s.edges.push_back(std::move(e));
      }
      fill_queue_figures(s.nodes, s.edges);
      gather->promise.deliver(std::move(s));
    };
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].reported) {
        gather->rows[i] = slots_[i].report;
      } else if (slots_[i].backing_off) {
        gather->rows[i] = handover_report(i);
      } else {
        ++gather->pending;
        request(slots_[i].actor, std::chrono::seconds(1), snapshot_atom::value)
            .then(
                [gather, arrived, i](NodeReport& r) {
                  gather->rows[i] = std::move(r);
                  arrived();
                },
                [this, gather, arrived, i](caf::error& err) {
                  NodeSnapshot& row = gather->rows[i].snapshot;
                  row.pipeline = spec().name;
                  row.node = spec().nodes[i].id;
                  row.type = spec().nodes[i].type;
                  row.state = "not_answering";
                  row.last_error = plain_words(err);
                  arrived();
                });
      }
    }
    arrived();
    return gather->promise;
  }

  void finish() {
    auto result = std::make_shared<SupervisionResult>();
    for (auto& slot : slots_) {
      result->nodes.push_back(slot.report.snapshot);
      result->received.push_back(slot.report.received);
      for (auto& e : slot.report.edges) result->edges.push_back(e);
    }
    if (distributed())
      for (std::size_t i = 0; i < slots_.size(); ++i)
        result->nodes[i].process = setup_->hosts[placement_[i]].name;
    result->state = state_;
    result->error = error_;
    result->restart_latency = restart_latency_;
    for (auto& slot : slots_) send(slot.actor, shutdown_atom::value);
    request(dead_letters_, std::chrono::seconds(10), shutdown_atom::value)
        .then(
            [this, result](std::uint64_t written, const std::string& error) {
              result->dead_letters_written = written;
              result->dead_letter_error = error;
              send(setup_->runner, result_atom::value, SupervisionResultPtr(result));
              quit();
            },
            [this, result](caf::error& err) {
              result->dead_letter_error = "dead-letter writer did not answer: " + plain_words(err);
              send(setup_->runner, result_atom::value, SupervisionResultPtr(result));
              quit();
            });
  }

  std::shared_ptr<SupervisorSetup> setup_;
  const PipelineGraph graph_;    // of setup_->spec, which never changes
  std::vector<bool> text_sent_;  // per host: it has the pipeline's text (NodeSpawn)
  std::unordered_map<caf::actor_addr, std::size_t> slot_by_addr_;  // see slot_of()
  std::shared_ptr<MemoryBudget> memory_;
  std::vector<Slot> slots_;
  std::vector<bool> host_alive_;
  std::vector<std::size_t> placement_;  // host per node, as it is now
  caf::response_promise start_promise_;
  bool starting_ = false;  // start() is spawning the nodes
  caf::actor dead_letters_;
  std::size_t reported_ = 0;
  bool stopping_ = false;
  bool killing_ = false;
  std::string state_ = "finished";
  std::string error_;
  LatencyHistogram restart_latency_;
};

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& system, std::shared_ptr<SupervisorSetup> setup) {
  return system.spawn<supervisor_actor>(std::move(setup));
}

}  // namespace streamlab
