#pragma once
// The supervisor of one pipeline: it spawns a node actor per node, watches
// them, and applies each node's restart strategy when one fails. A failed
// node's replacement (or, while it may not run, a stand-in that accounts
// for every frame sent to it) is re-wired in place: producers re-send what
// the failed instance had not consumed, consumers are told who now feeds
// them, and nobody else changes. When every node has reported the end of
// its stream, the supervisor sends the run's result to `runner` and ends.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include "messages/buffer_pool.hpp"
#include "nodes/registry.hpp"
#include "runtime/latency_histogram.hpp"
#include "runtime/node_metrics.hpp"
#include "runtime/pipeline_spec.hpp"

namespace streamlab {

struct PlacedHost {
  std::string name;  // the member it belongs to
  caf::actor host;
};

struct SupervisorSetup {
  PipelineSpec spec;
  const NodeRegistry* registry = nullptr;
  std::vector<std::unique_ptr<Node>> nodes;  // the first instance of each node, in spec order
  std::uint64_t max_frames = 0;              // per source
  BufferPool* pool = nullptr;
  std::ostream* text_out = nullptr;
  std::string dead_letter_path;
  caf::actor runner;   // receives (result_atom, SupervisionResultPtr)
  caf::actor monitor;  // the process monitor to register with; may be null
  // Where the nodes run. Empty: all in this process, spawned by the
  // supervisor from `nodes`. Otherwise node i is spawned by
  // hosts[placement[i]] (node_host.hpp) from `spec_text`, and a node whose
  // host is lost is placed again on a live one unless it is pinned ("on").
  std::vector<PlacedHost> hosts;
  std::vector<std::size_t> placement;
  std::string spec_text;
  // The run's epoch (NodeContext::epoch_ns): wall-clock ns, given to every
  // instance of every node, also replacements and those on other members.
  std::int64_t epoch_ns = 0;
};

struct SupervisionResult {
  std::vector<NodeSnapshot> nodes;  // spec order
  std::vector<EdgeSnapshot> edges;
  std::vector<std::vector<std::uint64_t>> received;  // per node, per input port
  std::string state;                                 // finished, degraded, failed
  std::string error;                                 // why degraded or failed
  LatencyHistogram restart_latency;                  // failure reported -> replacement wired in
  std::uint64_t dead_letters_written = 0;
  std::string dead_letter_error;
};
using SupervisionResultPtr = std::shared_ptr<const SupervisionResult>;

// Handles (start) -> std::string (empty once every node runs, else why
// nothing runs), (stop) and (kill) from the runner, and (snapshot) ->
// MetricsSnapshot of this pipeline (from the monitor).
caf::actor spawn_supervisor(caf::actor_system& system, std::shared_ptr<SupervisorSetup> setup);

}  // namespace streamlab

// Never leaves the process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamlab::SupervisionResultPtr)
