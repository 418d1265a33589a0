#pragma once
// The one way untrusted JSON (pipeline files, deploy messages) becomes a
// document: bounded in size and nesting while it is parsed (deep input is
// refused before anything recurses over it), numbers out of a double's
// range refused with where they are, and never an exception. Callable on
// raw bytes, so a fuzz target can feed it directly.

#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace streamlab {

struct JsonBounds {
  std::size_t max_bytes;
  std::size_t max_depth;  // arrays and objects, the outermost one is depth 1
};

// The bounds for pipeline text (messages/input_limits.hpp).
JsonBounds pipeline_json_bounds();

struct JsonFailure {
  std::string position;  // "line L, column C", or empty (the whole text)
  std::string pointer;   // RFC 6901 path of the value at fault, or empty
  std::string message;   // what is wrong, with the value and the limit
};

struct BoundedJson {
  std::optional<nlohmann::json> document;  // set exactly when `failure` is not
  std::optional<JsonFailure> failure;
};

BoundedJson parse_bounded_json(const char* data, std::size_t size, const JsonBounds& bounds);

}  // namespace streamlab
