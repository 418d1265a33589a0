#pragma once
// Declarative description of a node type's configuration. The same
// definitions drive validation (`streamlab validate`), default filling, and
// the `streamlab nodes` listing, so the three can never disagree.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/problem.hpp"

namespace streamlab {

using json = nlohmann::json;

enum class FieldType { number, integer, boolean, string, choice };

// What the value of a path field must refer to. Anything but `none` also
// marks the field as a file the node reads or writes: a cluster member
// confines every such field to its data directory (runtime/path_confinement).
enum class PathCheck { none, readable_file, writable_file };

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::number;
  std::string help;
  json default_value;         // null: the field is required
  std::optional<double> min;  // inclusive bounds for number/integer
  std::optional<double> max;
  std::vector<std::string> choices;  // for FieldType::choice
  PathCheck path_check = PathCheck::none;
  // `min` itself is refused ("above 0"), checked with the other fields so
  // that it is reported with them, not held back for the cross check.
  bool min_exclusive = false;

  bool required() const { return default_value.is_null(); }
};

// Checks that involve several fields (e.g. frequency below Nyquist). Called
// only when every field on its own is valid, with defaults filled in.
// Reports through `report(field, message)`.
using CrossFieldCheck = std::function<void(
    const json& config,
    const std::function<void(const std::string& field, const std::string& message)>& report)>;

struct NodeTypeSchema {
  std::string type;     // name used in pipeline files, e.g. "sine"
  std::string summary;  // one line for `streamlab nodes`
  std::vector<FieldSpec> fields;
  std::size_t min_inputs = 1;  // 0 for sources
  std::size_t max_inputs = 1;
  bool has_output = true;  // false for sinks
  CrossFieldCheck cross_check;

  bool is_source() const { return max_inputs == 0; }
  bool is_sink() const { return !has_output; }
};

// Appends every problem with `config` (an object or null) to `problems`.
// `where` supplies file, node id and the JSON path of the config object.
void validate_config(const NodeTypeSchema& schema, const json& config, const Problem& where,
                     Problems& problems);

// `config` with every missing optional field set to its default.
json with_defaults(const NodeTypeSchema& schema, const json& config);

std::string to_string(FieldType type);

// "number in [0, 1], default 0.5" — for listings and error messages.
std::string describe_constraints(const FieldSpec& field);

}  // namespace streamlab
