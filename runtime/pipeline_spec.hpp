#pragma once
// A pipeline as described in its JSON file, after parsing and validation.
//
//   {
//     "name": "demo",
//     "pipeline_config": {"channel_capacity": 32, "supervision": {...},
//                         "dead_letter_path": "/var/log/streamlab/demo.deadletters"},
//     "nodes": [{"id": "osc", "type": "sine", "config": {"frequency": 440}}, ...],
//     "connections": [{"from": "osc", "to": "amp", "capacity": 8}, ...]
//   }
//
// A node's input ports are numbered in the order its incoming connections
// appear in "connections".

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "runtime/config_schema.hpp"
#include "runtime/problem.hpp"
#include "runtime/supervision_config.hpp"

namespace streamlab {

struct NodeSpec {
  std::string id;
  std::string type;
  json config;       // validated, defaults filled in
  json supervision;  // as written (null if absent)
  // Validated, and merged field by field over pipeline_config.supervision and
  // the built-in defaults.
  SupervisionConfig supervision_config;
  std::string on;  // placement (cluster); empty when not pinned
};

struct ConnectionSpec {
  std::string from;
  std::string to;
  std::size_t capacity = 0;  // frames; the pipeline default when not given
};

struct PipelineConfig {
  static constexpr std::size_t kDefaultChannelCapacity = 32;
  static constexpr std::size_t kMaxChannelCapacity = 65536;
  std::size_t channel_capacity = kDefaultChannelCapacity;
  // "supervision" over the built-in defaults: what a node without its own
  // "supervision" gets.
  SupervisionConfig supervision;
  // Where dead letters go: a file whose directory exists. Empty when not
  // given (the runner picks a default).
  std::string dead_letter_path;
  // An edge counts as backpressured from when its producer spends
  // high_watermark of its time waiting for room on it until that share is
  // down to low_watermark (hysteresis, so the state does not flicker).
  double backpressure_high = 0.9;
  double backpressure_low = 0.7;
  // Most sample bytes all edges may hold at once; 0: bounded by the edge
  // capacities only.
  std::uint64_t max_memory_bytes = 0;
  json raw = json::object();  // the whole "pipeline_config" object, for later layers
};

struct PipelineSpec {
  std::string name;  // "name", else the file's base name without extension
  std::string file;  // where it was read from (for messages); may be empty
  PipelineConfig config;
  std::vector<NodeSpec> nodes;
  std::vector<ConnectionSpec> connections;

  // Index into `nodes`, or -1.
  int index_of(const std::string& id) const;
  // Connections into / out of the node with this id, in file order.
  std::vector<const ConnectionSpec*> inputs_of(const std::string& id) const;
  std::vector<const ConnectionSpec*> outputs_of(const std::string& id) const;
};

struct ParseResult {
  std::optional<PipelineSpec> spec;  // set only when `problems` is empty
  Problems problems;                 // every problem found, not just the first
};

// Parses and validates pipeline JSON against the given node types. Reports
// malformed JSON (with line and column), wrong structure, unknown node types
// (listing the known ones), duplicate ids, connections to unknown nodes,
// cycles, missing or surplus inputs, outputs from sinks, bad config values,
// bad supervision settings and an unusable dead-letter path, all at once.
// The text is untrusted (a file, a deploy message): it goes through the
// bounded parser (runtime/bounded_json.hpp), and nothing in here throws.
ParseResult parse_pipeline(const std::string& text, const std::string& file,
                           const std::vector<const NodeTypeSchema*>& types);
// Same, on raw bytes (for fuzzing).
ParseResult parse_pipeline(const char* text, std::size_t size, const std::string& file,
                           const std::vector<const NodeTypeSchema*>& types);

// Reads a pipeline file once, into `text`: only a regular file (a named
// pipe, device, socket or directory is refused, never waited on) of at most
// limits::kMaxPipelineTextBytes. The problem says why not, naming the path.
std::optional<Problem> read_pipeline_text(const std::string& path, std::string& text);

// Same, reading the file first (an unreadable file is a problem too).
ParseResult load_pipeline_file(const std::string& path,
                               const std::vector<const NodeTypeSchema*>& types);

}  // namespace streamlab
