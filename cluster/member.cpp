#include "cluster/member.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/caf_words.hpp"
#include "actors/message_types.hpp"
#include "actors/messages.hpp"
#include "actors/node_host.hpp"
#include "actors/supervisor.hpp"
#include "cluster/monitor_service.hpp"
#include "cluster/placement.hpp"
#include "runtime/path_confinement.hpp"
#include "runtime/pipeline_spec.hpp"

namespace streamlab {

namespace {

// Every question one member asks another (or a supervisor) is bounded: a
// member that is stopped only ever times out (docs/architecture.md#caf-017-facts). Each
// level waits longer than the one below it (a supervisor waits 1 s for its
// nodes, a monitor 1.5 s for its supervisors) and less than the CLI's
// default 3 s, so a slow part shows up as such instead of failing it all.
constexpr auto kAskTimeout = std::chrono::seconds(2);
constexpr auto kMemberTimeout = std::chrono::milliseconds(2500);
// Creating every node of a pipeline on its hosts.
constexpr auto kStartTimeout = std::chrono::seconds(30);

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Coordinated {
  caf::actor supervisor;
  PipelineRow row;
  bool done = false;
  SupervisionResultPtr result;  // once done: its final figures, still shown in snapshots
  std::chrono::steady_clock::time_point ended_at;  // for kEndedPipelineRetention
  std::vector<caf::response_promise> stopping;     // answered with the final row
};

struct MemberState {
  MemberSetup setup;
  MemberInfo me;
  std::map<std::string, MemberInfo> others;  // every member ever seen, by name
  std::map<std::string, std::string> down;   // members lost, with why
  std::map<std::string, Coordinated> pipelines;
};

using Self = caf::stateful_actor<MemberState>;

// Collects the answers of several requests, then calls `done` once.
template <class T>
struct Collect {
  std::vector<T> items;
  std::size_t pending = 1;  // released by the asker once every request is out
  std::function<void(std::vector<T>&)> done;
  void arrived() {
    if (--pending == 0) done(items);
  }
};

std::vector<const MemberInfo*> up_members(Self* self) {
  std::vector<const MemberInfo*> out;
  for (const auto& [name, info] : self->state.others)
    if (!self->state.down.count(name)) out.push_back(&info);
  return out;
}

void add_member(Self* self, const MemberInfo& info) {
  auto& st = self->state;
  if (info.name == st.me.name) return;
  const bool back = st.down.erase(info.name) > 0;
  const bool known = st.others.count(info.name) > 0;
  st.others[info.name] = info;
  self->monitor(info.member);
  if (!known || back)
    spdlog::info("member \"{}\" ({}) {} the cluster", info.name, info.address,
                 back ? "is back in" : "joined");
}

std::string placement_text(const PipelineSpec& spec, const std::vector<PlacedHost>& hosts,
                           const std::vector<std::size_t>& member_of) {
  std::string out;
  for (std::size_t i = 0; i < spec.nodes.size(); ++i)
    out += (out.empty() ? "" : " ") + spec.nodes[i].id + "@" + hosts[member_of[i]].name;
  return out;
}

// "src@a dsp@b": where each node runs as its rows say.
std::string placement_of(const std::vector<NodeSnapshot>& nodes) {
  std::string out;
  for (const auto& n : nodes) out += (out.empty() ? "" : " ") + n.node + "@" + n.process;
  return out;
}

// This member's own pipelines, with the state their supervisors report now.
void local_rows(Self* self, caf::response_promise promise) {
  auto c = std::make_shared<Collect<PipelineRow>>();
  c->done = [promise](std::vector<PipelineRow>& rows) mutable { promise.deliver(rows); };
  for (auto& [name, p] : self->state.pipelines) {
    if (p.done) {
      c->items.push_back(p.row);
      continue;
    }
    ++c->pending;
    PipelineRow row = p.row;
    self->request(p.supervisor, kAskTimeout, snapshot_atom::value)
        .then(
            [c, row](MetricsSnapshot& s) mutable {
              if (!s.pipelines.empty()) {
                row.state = s.pipelines.front().state;
                row.reason = s.pipelines.front().reason;
              }
              // Where the nodes run now: a lost member's are elsewhere.
              if (!s.nodes.empty()) row.placement = placement_of(s.nodes);
              c->items.push_back(row);
              c->arrived();
            },
            [c, row](caf::error& err) mutable {
              row.state = "not_answering";
              row.reason = plain_words(err);
              c->items.push_back(row);
              c->arrived();
            });
  }
  c->arrived();
}

// Every pipeline of the cluster: this member's and every live member's.
void cluster_rows(Self* self, std::function<void(std::vector<PipelineRow>&)> done) {
  auto c = std::make_shared<Collect<PipelineRow>>();
  c->done = std::move(done);
  auto take = [c](std::vector<PipelineRow>& rows) {
    for (auto& r : rows) c->items.push_back(std::move(r));
    c->arrived();
  };
  ++c->pending;
  self->request(caf::actor_cast<caf::actor>(self), kMemberTimeout, pipelines_atom::value,
                local_atom::value)
      .then(take, [c](caf::error&) { c->arrived(); });
  for (const MemberInfo* m : up_members(self)) {
    ++c->pending;
    self->request(m->member, kMemberTimeout, pipelines_atom::value, local_atom::value)
        .then(take, [c](caf::error&) { c->arrived(); });
  }
  c->arrived();
}

void finish_stop(Coordinated& p) {
  for (auto& promise : p.stopping) promise.deliver(true, p.row);
  p.stopping.clear();
}

// Every file a deployed pipeline reads or writes on this member stays under
// its data directory: each path field a node's schema marks, and the dead
// letters (named after the pipeline when not given). Refusals name the
// node, the field and the value, all of them at once. Members hosting nodes
// check their own paths again when they make them (node_host).
std::string confine_deployed_paths(PipelineSpec& spec, const NodeRegistry& registry,
                                   const std::string& root, const std::string& file) {
  if (root.empty()) return {};
  std::string why;
  auto refuse = [&](const std::string& where, const std::string& reason) {
    why += (why.empty() ? "" : "\n") + file + ": " + where + ": " + reason;
  };
  for (NodeSpec& n : spec.nodes) {
    const NodeType* type = registry.find(n.type);
    if (!type) continue;
    const std::string reason = confine_config_paths(type->schema, n.config, root);
    if (!reason.empty()) refuse("node \"" + n.id + "\"", reason);
  }
  const std::string dead_letters = spec.config.dead_letter_path.empty()
                                       ? spec.name + ".dead-letters"
                                       : spec.config.dead_letter_path;
  const ConfinedPath c = confine_path(root, dead_letters);
  if (c.error.empty())
    spec.config.dead_letter_path = c.path;
  else
    refuse("pipeline_config", "dead_letter_path \"" + dead_letters + "\" " + c.error);
  return why;
}

void deploy(Self* self, const std::string& text, const std::string& file, std::uint64_t max_frames,
            caf::response_promise promise) {
  auto& st = self->state;
  ParseResult parsed = parse_pipeline(text, file, st.setup.registry->schemas());
  if (!parsed.spec) {
    std::string why;
    for (const auto& p : parsed.problems) why += (why.empty() ? "" : "\n") + p.to_string();
    promise.deliver(false, why);
    return;
  }
  auto spec = std::make_shared<PipelineSpec>(std::move(*parsed.spec));
  if (std::string why = confine_deployed_paths(*spec, *st.setup.registry, st.setup.data_dir, file);
      !why.empty()) {
    promise.deliver(false, why);
    return;
  }
  cluster_rows(self, [self, spec, text, max_frames,
                      promise](std::vector<PipelineRow>& rows) mutable {
    for (const auto& r : rows) {
      if (r.name != spec->name || r.state == "finished" || r.state == "failed") continue;
      promise.deliver(false, "a pipeline named \"" + spec->name + "\" is already " + r.state +
                                 " on the cluster (deployed through member \"" + r.coordinator +
                                 "\"); stop it first or rename this one");
      return;
    }
    // What each live member runs now, for placement and admission.
    struct Load {
      std::vector<PlacedHost> hosts;
      std::vector<MemberLoad> loads;
    };
    auto load = std::make_shared<Load>();
    auto& st = self->state;
    load->hosts.push_back({st.me.name, st.me.host});
    load->loads.push_back({st.me.name, 0, 0, st.me.max_pipelines});
    for (const MemberInfo* m : up_members(self)) {
      load->hosts.push_back({m->name, m->host});
      load->loads.push_back({m->name, 0, 0, m->max_pipelines});
    }
    auto c = std::make_shared<Collect<int>>();
    c->done = [self, spec, text, max_frames, promise, load](std::vector<int>&) mutable {
      Placement placement = place_pipeline(*spec, load->loads);
      if (!placement.problems.empty()) {
        std::string why;
        for (const auto& p : placement.problems) why += (why.empty() ? "" : "\n") + p.to_string();
        promise.deliver(false, why);
        return;
      }
      auto& st = self->state;
      auto setup = std::make_shared<SupervisorSetup>();
      setup->spec = *spec;
      setup->registry = st.setup.registry;
      setup->max_frames = max_frames;
      setup->pool = st.setup.pool;
      setup->dead_letter_path = spec->config.dead_letter_path.empty()
                                    ? spec->name + ".dead-letters"
                                    : spec->config.dead_letter_path;
      setup->runner = caf::actor_cast<caf::actor>(self);
      setup->monitor = st.setup.monitor;
      setup->hosts = load->hosts;
      setup->placement = placement.member_of;
      setup->spec_text = text;
      setup->epoch_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
      const std::string where = placement_text(*spec, load->hosts, placement.member_of);
      caf::actor supervisor = spawn_supervisor(self->system(), setup);
      Coordinated& p = st.pipelines[spec->name];
      p = Coordinated{};
      p.supervisor = supervisor;
      p.row = PipelineRow{spec->name, "starting", "", st.me.name, where};
      self->request(supervisor, kStartTimeout, start_atom::value)
          .then(
              [self, name = spec->name, where, promise](std::string& error) mutable {
                auto it = self->state.pipelines.find(name);
                if (!error.empty()) {
                  promise.deliver(false, "pipeline \"" + name + "\" cannot start: " + error);
                  return;
                }
                if (it != self->state.pipelines.end() && !it->second.done)
                  it->second.row.state = "running";
                spdlog::info("pipeline \"{}\" deployed: {}", name, where);
                promise.deliver(true, "pipeline \"" + name + "\" running: " + where);
              },
              [self, supervisor, name = spec->name, promise](caf::error& err) mutable {
                // Never half-started: what did start is stopped.
                self->send<caf::message_priority::high>(supervisor, kill_atom::value);
                promise.deliver(false, "pipeline \"" + name + "\" did not start in time (" +
                                           plain_words(err) + "); what had started was stopped");
              });
    };
    for (std::size_t k = 0; k < load->hosts.size(); ++k) {
      ++c->pending;
      self->request(load->hosts[k].host, kAskTimeout, status_atom::value)
          .then(
              [c, load, k](HostStatus& s) {
                load->loads[k].pipelines = s.pipelines;
                load->loads[k].nodes = s.nodes;
                c->arrived();
              },
              [c, load, k](caf::error&) {
                // Not answering: nothing goes there.
                load->loads[k].max_pipelines = 1;
                load->loads[k].pipelines = 1;
                c->arrived();
              });
    }
    c->arrived();
  });
}

// Stops a pipeline coordinated here; false when there is none by that name.
bool stop_local(Self* self, const std::string& name, double timeout_s,
                caf::response_promise& promise) {
  auto it = self->state.pipelines.find(name);
  if (it == self->state.pipelines.end()) return false;
  Coordinated& p = it->second;
  p.stopping.push_back(promise);
  if (p.done) {
    finish_stop(p);
    return true;
  }
  self->send<caf::message_priority::high>(p.supervisor, stop_atom::value);
  self->delayed_send(self, std::chrono::milliseconds(static_cast<long>(timeout_s * 1000)),
                     expire_atom::value, name);
  return true;
}

// This process's monitor, plus the final figures of the pipelines that
// ended here (no monitor has those any more, and a finished run should
// still be readable).
void local_snapshot(Self* self, caf::response_promise promise) {
  self->request(self->state.setup.monitor, kAskTimeout, snapshot_atom::value)
      .then(
          [self, promise](MetricsSnapshot& s) mutable {
            const auto now = std::chrono::steady_clock::now();
            for (const auto& [name, p] : self->state.pipelines) {
              if (!p.result || !ended_pipeline_shown(p.ended_at, now)) continue;
              s.pipelines.push_back({name, p.result->state, p.result->error, true});
              for (const auto& n : p.result->nodes) s.nodes.push_back(n);
              for (const auto& e : p.result->edges) s.edges.push_back(e);
            }
            promise.deliver(std::move(s));
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
}

void cluster_snapshot(Self* self, caf::response_promise promise) {
  auto& st = self->state;
  auto all = std::make_shared<MetricsSnapshot>();
  all->process = st.me.name;
  all->time_ns = wall_ns();
  struct Asked {
    std::string name, address;
    caf::actor member;
  };
  std::vector<Asked> asked{{st.me.name, st.me.address, st.me.member}};
  for (const auto& [name, info] : st.others) {
    auto down = st.down.find(name);
    if (down == st.down.end()) {
      asked.push_back({name, info.address, info.member});
    } else {
      all->members.push_back({name, info.address, "down", down->second, {}, {}});
    }
  }
  auto c = std::make_shared<Collect<int>>();
  c->done = [all, promise](std::vector<int>&) mutable { promise.deliver(*all); };
  for (const auto& a : asked) {
    ++c->pending;
    const bool me = a.name == st.me.name;
    self->request(a.member, kMemberTimeout, snapshot_atom::value, local_atom::value)
        .then(
            [c, all, a, me](MetricsSnapshot& s) {
              for (auto& p : s.pipelines) all->pipelines.push_back(std::move(p));
              for (auto& n : s.nodes) all->nodes.push_back(std::move(n));
              for (auto& e : s.edges) all->edges.push_back(std::move(e));
              all->members.push_back({a.name, a.address, "up", "", s.figures, s.pool});
              if (me) {
                all->figures = s.figures;
                all->pool = s.pool;
              }
              c->arrived();
            },
            [c, all, a](caf::error& err) {
              all->members.push_back(
                  {a.name, a.address, "not_answering", plain_words(err), {}, {}});
              c->arrived();
            });
  }
  c->arrived();
}

caf::behavior member_actor(Self* self, MemberSetup setup) {
  auto& st = self->state;
  st.setup = setup;
  st.me = MemberInfo{setup.name, setup.address, caf::actor_cast<caf::actor>(self),
                     setup.host, setup.monitor, setup.max_pipelines};
  self->set_down_handler([self](caf::down_msg& down) {
    auto& st = self->state;
    for (const auto& [name, info] : st.others) {
      if (info.member.address() != down.source || st.down.count(name)) continue;
      st.down[name] = plain_words(down.reason);
      spdlog::warn("member \"{}\" ({}) is down: {}", name, info.address, st.down[name]);
      return;
    }
  });
  return {
      [self](join_atom,
             MemberInfo& info) -> caf::result<bool, std::string, std::vector<MemberInfo>> {
        auto& st = self->state;
        auto known = st.others.find(info.name);
        const bool taken =
            info.name == st.me.name || (known != st.others.end() && !st.down.count(info.name) &&
                                        known->second.member != info.member);
        if (taken) {
          const std::string at = info.name == st.me.name ? st.me.address : known->second.address;
          return {false,
                  "a member named \"" + info.name + "\" is already in the cluster (at " + at + ")",
                  std::vector<MemberInfo>{}};
        }
        for (const MemberInfo* m : up_members(self))
          if (m->name != info.name) self->send(m->member, announce_atom::value, info);
        std::vector<MemberInfo> members{st.me};
        for (const MemberInfo* m : up_members(self))
          if (m->name != info.name) members.push_back(*m);
        add_member(self, info);
        return {true, std::string(), std::move(members)};
      },
      [self](announce_atom, const MemberInfo& info) { add_member(self, info); },
      // The address it listens on, once it is bound.
      [self](local_atom, const std::string& address) { self->state.me.address = address; },
      [self](local_atom) { return self->state.me; },
      [self](members_atom) {
        auto& st = self->state;
        std::vector<MemberStatus> out{{st.me.name, st.me.address, "up", "", {}, {}}};
        for (const auto& [name, info] : st.others) {
          auto down = st.down.find(name);
          out.push_back({name,
                         info.address,
                         down == st.down.end() ? "up" : "down",
                         down == st.down.end() ? "" : down->second,
                         {},
                         {}});
        }
        return out;
      },
      [self](deploy_atom, const std::string& text, const std::string& file,
             std::uint64_t max_frames) -> caf::result<bool, std::string> {
        auto promise = self->make_response_promise<bool, std::string>();
        // Every deploy message is untrusted: whatever goes wrong with one
        // is its sender's answer, never an exception out of this actor
        // (which left the member up but deaf).
        try {
          deploy(self, text, file, max_frames, promise);
        } catch (const std::exception& e) {
          promise.deliver(false, std::string("cannot deploy: ") + e.what());
        }
        return promise;
      },
      [self](pipelines_atom, local_atom) -> caf::result<std::vector<PipelineRow>> {
        auto promise = self->make_response_promise<std::vector<PipelineRow>>();
        local_rows(self, promise);
        return promise;
      },
      [self](pipelines_atom) -> caf::result<std::vector<PipelineRow>> {
        auto promise = self->make_response_promise<std::vector<PipelineRow>>();
        cluster_rows(self,
                     [promise](std::vector<PipelineRow>& rows) mutable { promise.deliver(rows); });
        return promise;
      },
      [self](stop_atom, const std::string& name, double timeout_s,
             local_atom) -> caf::result<bool, PipelineRow> {
        auto promise = self->make_response_promise<bool, PipelineRow>();
        if (!stop_local(self, name, timeout_s, promise)) promise.deliver(false, PipelineRow{});
        return promise;
      },
      [self](stop_atom, const std::string& name,
             double timeout_s) -> caf::result<bool, PipelineRow> {
        auto promise = self->make_response_promise<bool, PipelineRow>();
        if (stop_local(self, name, timeout_s, promise)) return promise;
        // Whoever coordinates it stops it; the others say they do not.
        struct Found {
          bool found = false;
        };
        auto found = std::make_shared<Found>();
        auto c = std::make_shared<Collect<int>>();
        c->done = [promise, found](std::vector<int>&) mutable {
          if (!found->found) promise.deliver(false, PipelineRow{});
        };
        const auto wait = kAskTimeout + std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::duration<double>(timeout_s + 5));
        for (const MemberInfo* m : up_members(self)) {
          ++c->pending;
          self->request(m->member, wait, stop_atom::value, name, timeout_s, local_atom::value)
              .then(
                  [c, found, promise](bool ok, PipelineRow& row) mutable {
                    if (ok && !found->found) {
                      found->found = true;
                      promise.deliver(true, row);
                    }
                    c->arrived();
                  },
                  [c](caf::error&) { c->arrived(); });
        }
        c->arrived();
        return promise;
      },
      [self](expire_atom, const std::string& name) {
        auto it = self->state.pipelines.find(name);
        if (it == self->state.pipelines.end() || it->second.done) return;
        spdlog::warn("pipeline \"{}\" did not drain in time; forcing the stop", name);
        self->send<caf::message_priority::high>(it->second.supervisor, kill_atom::value);
      },
      [self](result_atom, const SupervisionResultPtr& result) {
        for (auto& [name, p] : self->state.pipelines) {
          if (caf::actor_cast<caf::strong_actor_ptr>(p.supervisor) != self->current_sender() ||
              p.done)
            continue;
          p.done = true;
          p.result = result;
          p.ended_at = std::chrono::steady_clock::now();
          p.row.state = result->state;
          p.row.placement = placement_of(result->nodes);
          p.row.reason = result->error;
          spdlog::info("pipeline \"{}\" {}{}", name, result->state,
                       result->error.empty() ? "" : ": " + result->error);
          finish_stop(p);
          return;
        }
      },
      [self](snapshot_atom, local_atom) -> caf::result<MetricsSnapshot> {
        auto promise = self->make_response_promise<MetricsSnapshot>();
        local_snapshot(self, promise);
        return promise;
      },
      [self](snapshot_atom) -> caf::result<MetricsSnapshot> {
        auto promise = self->make_response_promise<MetricsSnapshot>();
        cluster_snapshot(self, promise);
        return promise;
      },
  };
}

}  // namespace

caf::actor spawn_member(caf::actor_system& system, MemberSetup setup) {
  return system.spawn(member_actor, std::move(setup));
}

void register_cluster_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<MemberInfo>("streamlab.member_info");
  cfg.add_message_type<std::vector<MemberInfo>>("streamlab.member_infos");
  cfg.add_message_type<PipelineRow>("streamlab.pipeline_row");
  cfg.add_message_type<std::vector<PipelineRow>>("streamlab.pipeline_rows");
  cfg.add_message_type<std::vector<MemberStatus>>("streamlab.member_statuses");
}

}  // namespace streamlab
