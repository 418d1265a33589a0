#pragma once
// Small helpers the built-in node types share: building schema fields
// without positional aggregate initialisers, reading validated config
// values, and the wall clock frames are stamped with. Internal to nodes/.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/config_schema.hpp"

namespace streamlab::node_support {

inline FieldSpec number_field(std::string name, std::string help, double default_value,
                              std::optional<double> min = std::nullopt,
                              std::optional<double> max = std::nullopt) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = FieldType::number;
  f.help = std::move(help);
  f.default_value = default_value;
  f.min = min;
  f.max = max;
  return f;
}

inline FieldSpec integer_field(std::string name, std::string help, std::int64_t default_value,
                               std::optional<double> min = std::nullopt,
                               std::optional<double> max = std::nullopt) {
  FieldSpec f = number_field(std::move(name), std::move(help), 0.0, min, max);
  f.type = FieldType::integer;
  f.default_value = default_value;
  return f;
}

inline FieldSpec boolean_field(std::string name, std::string help, bool default_value) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = FieldType::boolean;
  f.help = std::move(help);
  f.default_value = default_value;
  return f;
}

// Required (no default): a file name has no sensible default.
inline FieldSpec path_field(std::string name, std::string help, PathCheck check) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = FieldType::string;
  f.help = std::move(help);
  f.path_check = check;
  return f;
}

inline FieldSpec choice_field(std::string name, std::string help, std::string default_value,
                              std::vector<std::string> choices) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = FieldType::choice;
  f.help = std::move(help);
  f.default_value = std::move(default_value);
  f.choices = std::move(choices);
  return f;
}

// Integer fields are validated as whole numbers within their bounds but may
// arrive as JSON floats (3.0); casting through double is exact up to 2^53.
inline std::uint32_t small_uint_field(const json& value) {
  return static_cast<std::uint32_t>(value.get<double>());
}

// For unbounded non-negative integer fields (counts, seeds), which may be
// beyond what a double holds exactly, or a float too large to cast.
inline std::uint64_t count_field(const json& value) {
  if (value.is_number_integer()) return value.get<std::uint64_t>();
  const double v = value.get<double>();
  constexpr double kLimit = 9.2e18;  // below 2^63, so the cast is defined
  return v >= kLimit ? static_cast<std::uint64_t>(kLimit) : static_cast<std::uint64_t>(v);
}

// Frames carry wall-clock time so timestamps compare across processes.
inline std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace streamlab::node_support
