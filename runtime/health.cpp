#include "runtime/health.hpp"

#include <utility>

namespace streamlab {

namespace {

constexpr const char* kMonitorCheck = "monitor";
constexpr const char* kNoSnapshot = "no metrics snapshot within the provider's timeout";

void add_check(HealthReport& report, std::string name, HealthStatus status,
               std::string reason = {}) {
  if (status == HealthStatus::down) report.status = HealthStatus::down;
  report.checks.push_back(HealthCheck{std::move(name), status, std::move(reason)});
}

HealthReport not_answered(const char* probe) {
  HealthReport report;
  report.probe = probe;
  add_check(report, kMonitorCheck, HealthStatus::down, kNoSnapshot);
  return report;
}

// The line "[-]pipeline demo failed: ..." already says "failed", so a failed
// pipeline's reason goes as it is; any other state is named, since "degraded"
// is the news.
std::string pipeline_reason(const PipelineStatus& pipeline) {
  if (pipeline.state == "failed" && !pipeline.reason.empty()) return pipeline.reason;
  std::string reason = pipeline.state.empty() ? "state unknown" : pipeline.state;
  if (!pipeline.reason.empty()) reason += ": " + pipeline.reason;
  return reason;
}

void append_one_line(std::string& out, const std::string& text) {
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out += c;
    }
  }
}

void append_check(std::string& out, const HealthCheck& check) {
  out += check.status == HealthStatus::up ? "[+]" : "[-]";
  append_one_line(out, check.name);
  if (check.status == HealthStatus::up) {
    out += " ok\n";
    return;
  }
  out += " failed";
  if (!check.reason.empty()) {
    out += ": ";
    append_one_line(out, check.reason);
  }
  out += '\n';
}

}  // namespace

const char* to_string(HealthStatus status) { return status == HealthStatus::up ? "UP" : "DOWN"; }

HealthReport evaluate_liveness(const std::optional<MetricsSnapshot>& snapshot) {
  if (!snapshot) return not_answered("livez");
  HealthReport report;
  report.probe = "livez";
  add_check(report, kMonitorCheck, HealthStatus::up);
  return report;
}

HealthReport evaluate_readiness(const MetricsSnapshot& snapshot) {
  HealthReport report;
  report.probe = "readyz";
  add_check(report, kMonitorCheck, HealthStatus::up);
  for (const auto& pipeline : snapshot.pipelines) {
    if (pipeline.ended) continue;
    const bool ready = pipeline.state == "running" || pipeline.state == "finished";
    add_check(report, "pipeline " + pipeline.name, ready ? HealthStatus::up : HealthStatus::down,
              ready ? std::string() : pipeline_reason(pipeline));
  }
  return report;
}

HealthReport evaluate_readiness(const std::optional<MetricsSnapshot>& snapshot) {
  return snapshot ? evaluate_readiness(*snapshot) : not_answered("readyz");
}

std::string to_plain_text(const HealthReport& report, bool verbose) {
  if (report.up() && !verbose) return "ok\n";
  std::string out;
  for (const auto& check : report.checks) {
    if (verbose || check.status == HealthStatus::down) append_check(out, check);
  }
  out += report.probe;
  out += report.up() ? " check passed\n" : " check failed\n";
  return out;
}

nlohmann::json to_json(const HealthReport& report) {
  auto checks = nlohmann::json::array();
  for (const auto& check : report.checks) {
    checks.push_back(
        {{"name", check.name}, {"status", to_string(check.status)}, {"reason", check.reason}});
  }
  return {{"status", to_string(report.status)}, {"checks", std::move(checks)}};
}

}  // namespace streamlab
