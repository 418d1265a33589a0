#include "actors/monitor.hpp"

#include <map>
#include <memory>

#include <caf/all.hpp>

#include "actors/caf_words.hpp"
#include "actors/messages.hpp"
#include "runtime/process_figures.hpp"

namespace streamlab {

namespace {

// Longer than a supervisor waits for its nodes (1 s), shorter than a
// cluster member waits for this monitor (2 s): each level answers in time.
constexpr auto kPipelineTimeout = std::chrono::milliseconds(1500);

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct MonitorState {
  std::string process;
  std::map<std::string, caf::actor> pipelines;  // by name
};

// Answers one query: waits for every pipeline (or its timeout) and merges.
struct Gather {
  MetricsSnapshot snapshot;
  std::size_t pending = 0;
  caf::response_promise promise;
};

caf::behavior monitor_actor(caf::stateful_actor<MonitorState>* self, std::string process) {
  self->state.process = std::move(process);
  self->set_down_handler([self](caf::down_msg& down) {
    auto& pipelines = self->state.pipelines;
    for (auto it = pipelines.begin(); it != pipelines.end(); ++it) {
      if (it->second.address() == down.source) {
        pipelines.erase(it);
        return;
      }
    }
  });
  return {
      [self](register_atom, const std::string& pipeline, const caf::actor& supervisor) {
        self->state.pipelines[pipeline] = supervisor;
        self->monitor(supervisor);
      },
      [self](snapshot_atom) -> caf::result<MetricsSnapshot> {
        auto gather = std::make_shared<Gather>();
        gather->snapshot.process = self->state.process;
        gather->snapshot.time_ns = wall_ns();
        gather->snapshot.pool = BufferPool::process_pool().stats();
        gather->snapshot.figures = read_process_figures();
        gather->pending = self->state.pipelines.size();
        gather->promise = self->make_response_promise();
        if (gather->pending == 0) {
          gather->promise.deliver(gather->snapshot);
          return gather->promise;
        }
        for (const auto& [name, supervisor] : self->state.pipelines) {
          auto done = [gather] {
            if (--gather->pending == 0) gather->promise.deliver(gather->snapshot);
          };
          std::string pipeline = name;
          self->request(supervisor, kPipelineTimeout, snapshot_atom::value)
              .then(
                  [gather, done](MetricsSnapshot& part) {
                    auto& all = gather->snapshot;
                    for (auto& p : part.pipelines) all.pipelines.push_back(std::move(p));
                    for (auto& n : part.nodes) {
                      if (n.process.empty()) n.process = all.process;
                      all.nodes.push_back(std::move(n));
                    }
                    for (auto& e : part.edges) all.edges.push_back(std::move(e));
                    done();
                  },
                  [gather, done, pipeline](caf::error& err) {
                    // Listed, not left out: a pipeline that does not answer
                    // is exactly what someone looking needs to see.
                    gather->snapshot.pipelines.push_back(
                        {pipeline, "not_answering", plain_words(err)});
                    done();
                  });
        }
        return gather->promise;
      },
  };
}

}  // namespace

caf::actor spawn_monitor(caf::actor_system& system, std::string process_name) {
  return system.spawn(monitor_actor, std::move(process_name));
}

std::optional<MetricsSnapshot> query_snapshot(caf::actor_system& system, const caf::actor& monitor,
                                              std::chrono::milliseconds timeout) {
  caf::scoped_actor self{system};
  std::optional<MetricsSnapshot> out;
  self->request(monitor, timeout, snapshot_atom::value)
      .receive([&](MetricsSnapshot& snapshot) { out = std::move(snapshot); }, [](caf::error&) {});
  return out;
}

}  // namespace streamlab
