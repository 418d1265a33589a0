#pragma once
// One actor per pipeline node. It owns the node, feeds it aligned input
// sets, and forwards what it emits to every consumer under the credit
// protocol of DESIGN.md "Flow control":
//  - a producer starts with `capacity` credits per outgoing edge and sends a
//    frame only when every consumer has a credit left (fan-out moves at the
//    pace of the slowest consumer and shares one buffer among all);
//  - a consumer hands credits back, in batches, as the node consumes frames;
//  - end of stream follows the last frame on each edge.
// So no edge ever holds more than its capacity, wherever the actors run.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "nodes/node.hpp"

namespace streamlab {

struct OutputLink {
  caf::actor consumer;
  std::string consumer_id;
  std::uint32_t port = 0;      // input port at the consumer
  std::uint32_t capacity = 0;  // frames the edge may hold
};

struct NodeActorSetup {
  std::string pipeline;
  std::string node_id;
  std::string type;
  std::unique_ptr<Node> node;
  std::vector<std::uint32_t> input_capacities;  // one per input port; empty for sources
  std::vector<OutputLink> outputs;
  std::uint64_t max_frames = 0;  // sources: end the stream after this many frames (0: no limit)
  caf::actor runner;             // receives (report_atom, NodeReport) when the node is done
};

caf::actor spawn_node_actor(caf::actor_system& system, std::shared_ptr<NodeActorSetup> setup);

}  // namespace streamlab
