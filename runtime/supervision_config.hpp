#pragma once
// What a node's supervisor does when the node fails (restart strategy and
// restart-intensity limit) and when one frame fails (error policy), as
// written in a pipeline file:
//
//   "supervision": {
//     "restart": {"strategy": "exponential", "base_ms": 10, "max_ms": 5000, ...},
//                 // or just the strategy name: "restart": "immediate"
//     "intensity": {"max_restarts": 10, "within_ms": 5000, "give_up_after_ms": 10000},
//     "on_error": "propagate" | "skip" | "default" | "retry",
//     "retry": {"attempts": 3, "backoff_ms": 5},
//     "default_frame": {"value": 0.0}
//   }
//
// It may appear in "pipeline_config" (defaults for every node) and on each
// node. A node's value wins over the pipeline's, which wins over the built-in
// default, field by field: a node giving only "on_error" keeps the pipeline's
// restart settings.
//
// The built-in defaults cannot produce a restart storm: exponential backoff
// from 10 ms up to 5 s, and at most 10 restarts within 5 s before escalating.
// Nor can they restart forever: a node whose every attempt fails before a
// frame gets through (a file it can never open, inputs it can never mix) is
// failed for good within 10 s of its first failure (give_up_after_ms; the
// backoff alone would keep it under the intensity limit indefinitely).

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/problem.hpp"

namespace streamlab {

using json = nlohmann::json;

constexpr std::int64_t kNsPerMs = 1'000'000;

enum class RestartKind { never, immediate, exponential, circuit_breaker };
enum class ErrorPolicy { propagate, skip, default_frame, retry };

// The spelling used in pipeline files ("circuit_breaker", "default", ...).
std::string to_string(RestartKind kind);
std::string to_string(ErrorPolicy policy);

struct RestartConfig {
  RestartKind strategy = RestartKind::exponential;
  // exponential: delay_n = min(max_ms, base_ms * multiplier^n), times a
  // uniform jitter factor in [1 - jitter, 1 + jitter]; n returns to 0 after
  // reset_after_ms without a failure since the last restart.
  std::int64_t base_ms = 10;
  std::int64_t max_ms = 5000;
  double multiplier = 2.0;
  double jitter = 0.2;
  std::int64_t reset_after_ms = 30000;
  // circuit_breaker: `failures` failures within window_ms open the circuit
  // for open_ms; then half_open_trials good frames in a row close it.
  std::uint32_t failures = 5;
  std::int64_t window_ms = 10000;
  std::int64_t open_ms = 2000;
  std::uint32_t half_open_trials = 1;
};

// Erlang/OTP's MaxR within MaxT, shared by every strategy.
struct IntensityConfig {
  std::uint32_t max_restarts = 10;
  std::int64_t within_ms = 5000;
  // Failures in a row with no frame getting through in between, for this
  // long since the first of them, and the node fails for good: no restart
  // is scheduled that would start later than that. 0: never give up (a
  // live source waiting for its device to come back).
  std::int64_t give_up_after_ms = 10000;
};

struct RetryConfig {
  static constexpr std::int64_t kMaxDelayMs = 60000;

  std::uint32_t attempts = 3;
  std::int64_t backoff_ms = 5;

  // Delay before retrying a frame that has already failed
  // `attempts_so_far` retries: backoff_ms * 2^attempts_so_far, capped at
  // kMaxDelayMs so a large attempt count cannot stall a node for hours.
  // nullopt once the attempts are used up: the frame is dead-lettered.
  std::optional<std::int64_t> next_retry_delay_ns(std::uint32_t attempts_so_far) const;
};

struct SupervisionConfig {
  RestartConfig restart;
  IntensityConfig intensity;
  ErrorPolicy on_error = ErrorPolicy::propagate;
  RetryConfig retry;
  double default_value = 0.0;  // sample value of the frame emitted by ErrorPolicy::default_frame
};

// Applies one level of "supervision" JSON (null = absent) on top of
// `inherited`. Every problem is appended with `where`'s file and node id and
// a path below `where.path` (e.g. "/nodes/2/supervision"). A rejected field
// keeps its inherited value, so the result is always a usable configuration.
SupervisionConfig merge_supervision(const json& level, const SupervisionConfig& inherited,
                                    const Problem& where, Problems& problems);

// Node level over pipeline level over the built-in defaults, reporting the
// problems of both levels. Resolving many nodes, merge the pipeline level once
// and then each node onto it (as parse_pipeline does), so that a pipeline-level
// problem is reported once rather than once per node.
SupervisionConfig resolve_supervision(const json& node_level, const json& pipeline_level,
                                      const Problem& node_where, const Problem& pipeline_where,
                                      Problems& problems);

// Every field, in the pipeline-file format (merging it onto anything gives
// back the same configuration).
json to_json(const SupervisionConfig& config);

}  // namespace streamlab
