#pragma once
// One actor per pipeline node. It owns the node, feeds it aligned input
// sets, and forwards what it emits to every consumer under the credit
// protocol of docs/architecture.md#flow-control:
//  - a producer may have at most `capacity` frames unconsumed per edge, and
//    sends a frame only when every consumer has room (fan-out moves at the
//    pace of the slowest consumer and shares one buffer among all);
//  - a consumer reports its cumulative consumed count, in batches;
//  - a producer keeps each frame until it is reported consumed, so that a
//    replacement of a failed consumer gets the same frames again, in order;
//  - end of stream follows the last frame on each edge.
// Per-frame errors follow the node's error policy; under `propagate` the
// actor hands its state to the supervisor and fails, and the supervisor
// re-wires a replacement in its place (see supervisor.hpp).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/messages.hpp"
#include "nodes/node.hpp"
#include "runtime/memory_budget.hpp"
#include "runtime/pipeline_graph.hpp"
#include "runtime/pipeline_spec.hpp"
#include "runtime/supervision_config.hpp"

namespace streamlab {

struct OutputLink {
  caf::actor consumer;
  std::string consumer_id;
  std::uint32_t port = 0;      // input port at the consumer
  std::uint32_t capacity = 0;  // frames the edge may hold
};

// What stands in a node's place while it cannot run: frames sent to it are
// consumed and accounted for, so the rest of the pipeline keeps flowing.
enum class StandIn {
  none,         // the real node
  dead_letter,  // circuit breaker open: every frame goes to the dead letters
  drop,         // failed for good: every frame is dropped, counted as node_failed
};

struct NodeActorSetup {
  std::string pipeline;
  std::string node_id;
  std::string type;
  std::unique_ptr<Node> node;  // null for a stand-in
  StandIn stand_in = StandIn::none;
  SupervisionConfig supervision;
  std::vector<std::uint32_t> input_capacities;  // one per input port; empty for sources
  std::vector<OutputLink> outputs;
  std::uint64_t max_frames = 0;  // sources: end the stream after this many frames (0: no limit)
  caf::actor supervisor;         // gets reports, failures and handovers
  caf::actor dead_letters;       // gets (dead_letter_atom, DeadLetter)
  HandoverPtr resume;            // state of the instance this one replaces; null at first start
  std::uint32_t report_successes = 0;  // good frames to report (a breaker's trial)
  double backpressure_high = 0.9;      // shares of time waiting for room (hysteresis)
  double backpressure_low = 0.7;
  std::shared_ptr<MemoryBudget> memory;  // the pipeline's byte bound; null when there is none
};

caf::actor spawn_node_actor(caf::actor_system& system, std::shared_ptr<NodeActorSetup> setup);

// Fills in what the pipeline says about node i: its identity, supervision,
// input capacities and backpressure marks. The node, its outputs and its
// neighbours are the caller's to set.
void describe_node(const PipelineSpec& spec, std::size_t i, NodeActorSetup& setup);
// Same, in constant time per input (the spec's own lookup is linear: once
// per node, a 10,000-node start was quadratic).
void describe_node(const PipelineSpec& spec, const PipelineGraph& graph, std::size_t i,
                   NodeActorSetup& setup);

}  // namespace streamlab
