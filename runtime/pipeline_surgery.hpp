#pragma once
// Pipelines derived from a validated pipeline, built in memory rather than
// parsed: what `streamlab dlq replay` runs.

#include <optional>
#include <string>

#include "runtime/pipeline_spec.hpp"

namespace streamlab {

// The id the replay source gets, unless a node of `spec` already has it
// (then "dead_letters_2", "dead_letters_3", ...).
constexpr const char* kReplaySourceId = "dead_letters";

// The part of `spec` that starts at node `node_id`, fed from a dead-letter
// file instead of from upstream:
//   - a new "dead_letter_source" node (config {"path": dead_letter_path,
//     "node": letters_of}) connected to `node_id`, listed first;
//   - `node_id` and every node downstream of it, in their original order,
//     with every connection between them (capacities kept);
//   - nothing upstream of `node_id`, nor any other branch that joins the
//     downstream part: those connections are dropped.
// `letters_of` selects the dead letters of one node (default: `node_id`
// itself; "" for all of them). Name, file and pipeline_config are kept, so
// the replay reports and dead-letters as the original pipeline does.
//
// Input ports are numbered by connection order, so the source feeds port 0
// of `node_id`, and a downstream node that lost inputs from outside the
// replayed part keeps its remaining inputs in their order, renumbered from 0.
// A node with several inputs (a mix) is replayed with the source as its
// only input: parse_pipeline would refuse that (too few inputs for its type),
// which is why the spec is built here directly. The mix then hears the
// replayed frames alone, its other inputs counting as silence, except that
// with "normalize" it divides by its one connected port instead of by all
// the ports it had, so the replayed level is higher than the original's.
//
// Throws std::invalid_argument when `node_id` is not a node of `spec`, or
// has no inputs (a source: there is nothing to replay into).
PipelineSpec replay_pipeline(const PipelineSpec& spec, const std::string& node_id,
                             const std::string& dead_letter_path,
                             const std::optional<std::string>& letters_of = std::nullopt);

// "a, b, c": the node ids of `spec`, in file order, for error messages.
std::string node_id_list(const PipelineSpec& spec);

}  // namespace streamlab
