#include "cli/run_report.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace streamlab::cli {

namespace {

std::string format_us(double us) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(us < 10 ? 2 : (us < 1000 ? 1 : 0)) << us;
  return os.str();
}

std::uint64_t total(const std::array<std::uint64_t, kDropReasonCount>& counts) {
  std::uint64_t sum = 0;
  for (auto n : counts) sum += n;
  return sum;
}

}  // namespace

void print_summary(std::ostream& os, const std::string& pipeline, const RunResult& result) {
  const char* header[] = {"NODE",   "TYPE",    "STATE",  "IN",     "OUT",
                          "ERRORS", "DROPPED", "P50 us", "P99 us", "QUEUE max/cap"};
  const int width[] = {16, 12, 9, 10, 10, 7, 8, 8, 8, 13};
  auto cell = [&](int col, const std::string& text, bool left) {
    os << (left ? std::left : std::right) << std::setw(width[col]) << text << ' ';
  };
  os << "pipeline \"" << pipeline << "\": " << std::fixed << std::setprecision(3)
     << result.elapsed_s << " s" << (result.forced ? " (stop forced)" : "") << '\n';
  for (int c = 0; c < 10; ++c) cell(c, header[c], c < 3);
  os << '\n';
  for (const auto& n : result.nodes) {
    cell(0, n.node, true);
    cell(1, n.type, true);
    cell(2, n.state, true);
    cell(3, std::to_string(n.frames_in), false);
    cell(4, std::to_string(n.frames_out), false);
    cell(5, std::to_string(n.errors), false);
    cell(6, std::to_string(total(n.dropped) + n.dead_lettered), false);
    cell(7, format_us(n.latency_p50_us), false);
    cell(8, format_us(n.latency_p99_us), false);
    cell(9,
         n.queue_capacity
             ? std::to_string(n.queue_max_occupancy) + "/" + std::to_string(n.queue_capacity)
             : "-",
         false);
    os << '\n';
    if (!n.last_error.empty()) os << "    last error: " << n.last_error << '\n';
  }
  os << "buffer pool: " << result.pool.hits << " hits, " << result.pool.misses << " misses\n";
}

std::string write_metrics_json(const std::string& path, const std::string& pipeline,
                               const RunResult& result) {
  json doc = snapshot_to_json(result.nodes, result.edges);
  doc["run"] = {{"pipeline", pipeline},
                {"elapsed_s", result.elapsed_s},
                {"forced", result.forced},
                {"pool", {{"hits", result.pool.hits}, {"misses", result.pool.misses}}}};
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return "cannot write \"" + tmp + "\": " + std::strerror(errno);
    out << doc.dump(2) << '\n';
    if (!out.flush()) return "cannot write \"" + tmp + "\": " + std::strerror(errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return "cannot rename \"" + tmp + "\" to \"" + path + "\": " + std::strerror(errno);
  return {};
}

}  // namespace streamlab::cli
