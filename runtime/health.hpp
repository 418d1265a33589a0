#pragma once
// Liveness and readiness of one process, decided from its metrics snapshot.
// Pure functions over plain data, so the rules are tested without a server;
// cluster/ only picks the format and the HTTP status.
//
// Live: the process answers, i.e. a snapshot came back in time.
// Ready: every pipeline is running or finished. A process without
// pipelines (an idle cluster member) is ready.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/metrics_snapshot.hpp"

namespace streamlab {

enum class HealthStatus { up, down };
const char* to_string(HealthStatus status);  // "UP", "DOWN"

struct HealthCheck {
  std::string name;  // "monitor", "pipeline demo"
  HealthStatus status = HealthStatus::up;
  std::string reason;  // why it is down; empty when up
};

struct HealthReport {
  std::string probe;  // "livez" or "readyz": names the summary line of the text form
  HealthStatus status = HealthStatus::up;  // down as soon as one check is down
  std::vector<HealthCheck> checks;

  bool up() const { return status == HealthStatus::up; }
};

// nullopt means the snapshot provider gave up waiting: the process is not live.
HealthReport evaluate_liveness(const std::optional<MetricsSnapshot>& snapshot);

// One "monitor" check, then one "pipeline NAME" check per pipeline.
HealthReport evaluate_readiness(const MetricsSnapshot& snapshot);
// Without a snapshot nothing can be known about the pipelines: not ready.
HealthReport evaluate_readiness(const std::optional<MetricsSnapshot>& snapshot);

// The Kubernetes /livez and /readyz format:
//   verbose:   "[+]monitor ok\n[-]pipeline demo failed: REASON\nreadyz check failed\n"
//   otherwise: "ok\n" when up; when down, only the failing checks and the summary line.
// Names and reasons are user text (node ids, error messages); line breaks in
// them are escaped so that every check stays on one line.
std::string to_plain_text(const HealthReport& report, bool verbose);

// {"status":"UP|DOWN","checks":[{"name":...,"status":"UP|DOWN","reason":...}]}
// Strings are copied as they are; since reasons may hold any bytes, dump it
// with nlohmann::json::error_handler_t::replace.
nlohmann::json to_json(const HealthReport& report);

}  // namespace streamlab
