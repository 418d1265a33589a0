#pragma once
// Runs one pipeline in this process: creates every node, spawns its actor,
// wires the edges, starts the sources, and waits until the end of stream has
// reached every sink (or a stop was asked for), then collects each node's
// final figures.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "messages/buffer_pool.hpp"
#include "nodes/registry.hpp"
#include "runtime/latency_histogram.hpp"
#include "runtime/node_metrics.hpp"
#include "runtime/pipeline_spec.hpp"

namespace caf {
class actor_system;
class actor_system_config;
class actor;
}  // namespace caf

namespace streamlab {

struct RunOptions {
  std::uint64_t max_frames = 0;  // per source, then end of stream; 0: until the sources end
  double duration_s = 0;         // stop the sources after this long; 0: no limit
  std::size_t threads = 0;       // scheduler threads; 0: one per core
  // Raised by signal handlers: 1 asks for a drain (sources stop, everything
  // queued is processed, sinks flush), 2 or more forces the stop (queued
  // frames are dropped and counted, sinks still flush).
  const std::atomic<int>* interrupts = nullptr;
  double drain_timeout_s = 10;       // after a drain was asked for, force the stop after this long
  std::ostream* text_out = nullptr;  // where `print` nodes write; null: stdout
  BufferPool* pool = &BufferPool::process_pool();
  std::string process_name = "local";  // how this process names itself in snapshots
  // Called before the pipeline starts, with the actor system and this
  // process's monitor (see monitor.hpp), for whoever serves them (HTTP
  // endpoints, a monitor port). What it returns lives until the run has
  // ended and goes before the actor system does. If it throws, nothing
  // starts and the run's error says why.
  std::function<std::shared_ptr<void>(caf::actor_system&, const caf::actor& monitor)> on_start;
  // Adjusts the actor system's configuration before it starts (the cluster
  // layer loads CAF's middleman here; the actors layer never does).
  std::function<void(caf::actor_system_config&)> configure;
};

struct RunResult {
  bool started = false;  // false: a node could not be created; see `error`
  bool forced = false;   // the stop was forced (interrupt or drain timeout)
  std::string error;
  std::string state = "finished";  // finished, degraded (a node failed for good) or failed
  std::string state_reason;        // why degraded or failed
  double elapsed_s = 0;
  std::vector<NodeSnapshot> nodes;  // in the order of the pipeline file
  std::vector<EdgeSnapshot> edges;
  PoolStats pool;                    // of the run only (differences)
  LatencyHistogram restart_latency;  // failure reported -> replacement wired in
  std::string dead_letter_path;
  std::uint64_t dead_letters_written = 0;
  std::string dead_letter_error;

  // Every node finished and the pipeline neither degraded nor failed.
  bool succeeded() const;
};

RunResult run_pipeline(const PipelineSpec& spec, const NodeRegistry& registry,
                       const RunOptions& options);

}  // namespace streamlab
