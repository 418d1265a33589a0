#pragma once
// The monitor of one process. Each running pipeline registers its
// supervisor; a query gathers the state of the moment from every pipeline
// (each supervisor asks its node actors) and adds the process's own
// figures. Pull, not push: node actors keep their counters as they go and
// pay nothing more until someone asks, and a snapshot is never older than
// the query.
//   (register_atom, pipeline name, supervisor)
//   (snapshot_atom) -> MetricsSnapshot

#include <chrono>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "runtime/metrics_snapshot.hpp"

namespace streamlab {

caf::actor spawn_monitor(caf::actor_system& system, std::string process_name);

// Asks `monitor` from any thread (an HTTP handler, the CLI); nullopt when
// no answer came within `timeout`.
std::optional<MetricsSnapshot> query_snapshot(caf::actor_system& system, const caf::actor& monitor,
                                              std::chrono::milliseconds timeout);

}  // namespace streamlab
