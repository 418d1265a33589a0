#pragma once
// A metrics snapshot in the Prometheus text exposition format (0.0.4), as
// served on /metrics.
//
// Every series carries `process`; node series add `pipeline` and `node`,
// edge series `pipeline`, `from`, `to` and `port`; drops add `reason`, state
// sets `state`. Label values are only names and enumerations, never frame
// numbers or timestamps, so the number of series is bounded by the pipelines.

#include <string>

#include "runtime/metrics_snapshot.hpp"

namespace streamlab {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string to_prometheus_text(const MetricsSnapshot& snapshot);

}  // namespace streamlab
