#pragma once
// What creates node actors in one process for a supervisor that may run in
// another. A supervisor given hosts (SupervisorSetup::hosts) asks them,
// instead of spawning itself; whether a host is local or remote is the
// cluster layer's business, not this one's: a host is only an actor handle.
//   (spawn_atom, NodeSpawn) -> caf::actor, or an error naming the node
//   (status_atom) -> HostStatus
// The host parses the pipeline text itself, so a node is created from the
// same validated config everywhere, and file paths are checked where the
// node runs.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/messages.hpp"
#include "actors/node_actor.hpp"
#include "nodes/registry.hpp"

namespace streamlab {

using spawn_atom = caf::atom_constant<caf::atom("spawn")>;
using status_atom = caf::atom_constant<caf::atom("status")>;

struct NodeSpawn {
  // The pipeline file as written, in the first spawn a supervisor sends
  // to a host; empty in the next ones (the host keeps it parsed, per
  // supervisor, while that supervisor lives).
  std::string pipeline_text;
  std::string file;  // its name, for messages
  std::string node_id;
  std::vector<OutputLink> outputs;
  std::uint64_t max_frames = 0;  // sources: end after this many frames (0: no limit)
  caf::actor supervisor;
  caf::actor dead_letters;
  std::vector<Handover> resume;  // the predecessor's handover, or nothing at first start
  std::uint8_t stand_in = 0;     // StandIn
  std::uint32_t report_successes = 0;
  std::int64_t epoch_ns = 0;  // the run's (NodeContext::epoch_ns)
};

// What a host runs now: admission control reads it.
struct HostStatus {
  std::uint32_t pipelines = 0;  // pipelines with at least one live node here
  std::uint32_t nodes = 0;      // live node actors
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, OutputLink& x) {
  return f(caf::meta::type_name("output_link"), x.consumer, x.consumer_id, x.port, x.capacity);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NodeSpawn& x) {
  return f(caf::meta::type_name("node_spawn"), x.pipeline_text, x.file, x.node_id, x.outputs,
           x.max_frames, x.supervisor, x.dead_letters, x.resume, x.stand_in, x.report_successes,
           x.epoch_ns);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, HostStatus& x) {
  return f(caf::meta::type_name("host_status"), x.pipelines, x.nodes);
}

// With a `confine_root`, every file path a node's config names is confined
// to it (runtime/path_confinement) before the node is made: a cluster
// member's data directory. Empty: paths are taken as given.
caf::actor spawn_node_host(caf::actor_system& system, const NodeRegistry& registry,
                           BufferPool& pool, std::string confine_root = {});

}  // namespace streamlab
