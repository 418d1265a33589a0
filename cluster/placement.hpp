#pragma once
// Which member runs each node of a pipeline deployed to a cluster:
// - a node with "on" runs on that member (an unknown member is a problem
//   reported with the node's location, before anything starts);
// - any other node runs where its first producer runs, so a chain stays
//   in one process and its edges stay local, as long as that member admits
//   the pipeline;
// - a source without "on" goes to the least loaded member that admits it.
// A member admits a pipeline while it runs fewer than its --max-pipelines
// (0: no bound), or when the pipeline already has a node there.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/pipeline_spec.hpp"
#include "runtime/problem.hpp"

namespace streamlab {

struct MemberLoad {
  std::string name;
  std::uint32_t pipelines = 0;      // running there now
  std::uint32_t nodes = 0;          // node actors there now
  std::uint32_t max_pipelines = 0;  // 0: no bound
};

struct Placement {
  std::vector<std::size_t> member_of;  // per node in spec order: an index into the members
  Problems problems;                   // empty when every node has a member
};

Placement place_pipeline(const PipelineSpec& spec, const std::vector<MemberLoad>& members);

}  // namespace streamlab
