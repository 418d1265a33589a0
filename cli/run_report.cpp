#include "cli/run_report.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <vector>

#include "cli/formatting.hpp"
#include "cli/output_file.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

RunVerdict judge_run(const RunResult& result) {
  std::vector<std::string> reasons;
  if (result.state != "finished")
    reasons.push_back(result.state + (result.state_reason.empty() ? " (see the table)"
                                                                  : ": " + result.state_reason));
  for (const auto& n : result.nodes) {
    if (n.state == "finished") continue;
    // A node that failed for good is already in the state reason.
    if (n.state == "failed" && result.state != "finished") continue;
    reasons.push_back("node \"" + n.node + "\" never recovered: it ended " + n.state +
                      (n.last_error.empty() ? "" : " (last error: " + n.last_error + ")"));
  }
  if (!result.dead_letter_error.empty())
    reasons.push_back("dead letters NOT written: " + result.dead_letter_error);
  RunVerdict verdict;
  if (reasons.empty()) return verdict;
  verdict.succeeded = false;
  for (const auto& r : reasons) verdict.why += (verdict.why.empty() ? "" : "; ") + r;
  return verdict;
}

void print_summary(std::ostream& os, const std::string& pipeline, const RunResult& result) {
  struct Column {
    const char* title;
    int width;
    bool left;
  };
  const Column columns[] = {
      {"NODE", 16, true},          {"TYPE", 18, true},    {"STATE", 11, true},
      {"IN", 10, false},           {"OUT", 10, false},    {"ERRORS", 7, false},
      {"RESTARTS", 8, false},      {"SKIPPED", 8, false}, {"DEAD", 6, false},
      {"DROPPED", 8, false},       {"P50 us", 8, false},  {"P99 us", 8, false},
      {"QUEUE max/cap", 13, false}};
  auto cell = [&](int col, const std::string& text) {
    os << (columns[col].left ? std::left : std::right) << std::setw(columns[col].width) << text
       << ' ';
  };
  os << "pipeline \"" << printable(pipeline) << "\" " << printable(result.state) << " in "
     << std::fixed << std::setprecision(3) << result.elapsed_s << " s"
     << (result.forced ? " (stop forced)" : "") << '\n';
  if (!result.state_reason.empty()) os << "  " << printable(result.state_reason) << '\n';
  for (int c = 0; c < 13; ++c) cell(c, columns[c].title);
  os << '\n';
  for (const auto& n : result.nodes) {
    cell(0, printable(n.node));
    cell(1, printable(n.type));
    cell(2, printable(n.state));
    cell(3, std::to_string(n.frames_in));
    cell(4, std::to_string(n.frames_out));
    cell(5, std::to_string(n.errors));
    cell(6, std::to_string(n.restarts));
    cell(7, std::to_string(n.skipped));
    cell(8, std::to_string(n.dead_lettered));
    cell(9, std::to_string(total(n.dropped)));
    cell(10, format_us(n.latency_p50_us));
    cell(11, format_us(n.latency_p99_us));
    cell(12, n.queue_capacity
                 ? std::to_string(n.queue_max_occupancy) + "/" + std::to_string(n.queue_capacity)
                 : "-");
    os << '\n';
    if (!n.last_error.empty()) os << "    last error: " << printable(n.last_error) << '\n';
  }
  os << "buffer pool: " << result.pool.hits << " hits, " << result.pool.misses << " misses\n";
  if (result.restart_latency.count() > 0)
    os << "restarts: " << result.restart_latency.count() << ", failure to re-wired replacement p50 "
       << format_us(result.restart_latency.percentile_ns(50) / 1e3) << " us, p99 "
       << format_us(result.restart_latency.percentile_ns(99) / 1e3) << " us\n";
  if (result.dead_letters_written > 0)
    os << "dead letters: " << result.dead_letters_written << " written to "
       << printable(result.dead_letter_path) << '\n';
  if (!result.dead_letter_error.empty())
    os << "dead letters NOT written: " << printable(result.dead_letter_error) << '\n';
}

std::string write_metrics_json(const std::string& path, const std::string& pipeline,
                               const RunResult& result) {
  json doc = snapshot_to_json(result.nodes, result.edges);
  doc["run"] = {{"pipeline", pipeline},
                {"state", result.state},
                {"state_reason", result.state_reason},
                {"elapsed_s", result.elapsed_s},
                {"forced", result.forced},
                {"pool", {{"hits", result.pool.hits}, {"misses", result.pool.misses}}},
                {"restart_latency_us",
                 {{"count", result.restart_latency.count()},
                  {"p50", result.restart_latency.percentile_ns(50) / 1e3},
                  {"p99", result.restart_latency.percentile_ns(99) / 1e3},
                  {"max", result.restart_latency.max_ns() / 1e3}}},
                {"dead_letters",
                 {{"path", result.dead_letter_path},
                  {"written", result.dead_letters_written},
                  {"error", result.dead_letter_error}}}};
  return replace_output_file(path, doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

}  // namespace streamlab::cli
