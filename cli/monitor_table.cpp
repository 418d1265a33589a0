#include "cli/monitor_table.hpp"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "cli/formatting.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

namespace {

bool is_input_of(const EdgeSnapshot& edge, const NodeSnapshot& node) {
  return edge.pipeline == node.pipeline && edge.to == node.node;
}

const NodeSnapshot* find_node(const MetricsSnapshot& snapshot, const NodeSnapshot& like) {
  for (const auto& n : snapshot.nodes)
    if (n.pipeline == like.pipeline && n.node == like.node) return &n;
  return nullptr;
}

// "-" when there is nothing to compare with, or the counter went back (the
// process was restarted between the two snapshots).
std::string rate(std::uint64_t now, const std::uint64_t* before, double seconds) {
  if (before == nullptr || seconds <= 0 || now < *before) return "-";
  return format_rate(static_cast<double>(now - *before) / seconds);
}

std::string clock_time(std::int64_t time_ns) {
  const std::time_t seconds = static_cast<std::time_t>(time_ns / 1'000'000'000);
  std::tm local{};
  localtime_r(&seconds, &local);
  std::ostringstream os;
  os << std::put_time(&local, "%H:%M:%S");
  return os.str();
}

void print_figures(std::ostream& os, const ProcessFigures& f, const PoolStats& pool) {
  os << "rss " << std::fixed << std::setprecision(1) << f.rss_bytes / (1024.0 * 1024.0)
     << " MiB, cpu " << std::setprecision(2) << f.cpu_seconds << " s, " << f.threads
     << " threads; buffer pool " << pool.hits << " hits, " << pool.misses << " misses\n";
}

// One line for a single process; one per member for a cluster, the lost
// ones included.
void print_process_lines(std::ostream& os, const MetricsSnapshot& s) {
  if (s.members.empty()) {
    os << "process \"" << printable(s.process) << "\" at " << clock_time(s.time_ns) << ": ";
    print_figures(os, s.figures, s.pool);
    return;
  }
  os << "cluster as member \"" << printable(s.process) << "\" sees it at " << clock_time(s.time_ns)
     << '\n';
  for (const auto& m : s.members) {
    os << "member \"" << printable(m.name) << "\" " << printable(m.address) << " "
       << printable(m.state);
    if (m.state == "up") {
      os << ": ";
      print_figures(os, m.figures, m.pool);
    } else {
      os << (m.reason.empty() ? "" : ": " + printable(m.reason)) << '\n';
    }
  }
}

// Finished nodes, and peers from before the shares existed, report zeros.
bool has_time_shares(const NodeSnapshot& n) {
  return n.busy_ms_per_s + n.backpressured_ms_per_s + n.idle_ms_per_s > 0;
}

std::string busy_share(const NodeSnapshot& n) {
  if (!has_time_shares(n)) return "-";
  return std::to_string(static_cast<int>(n.busy_ms_per_s / 10 + 0.5)) + "%";
}

}  // namespace

bool is_backpressured(const EdgeSnapshot& edge) { return edge.backpressured; }

std::vector<NodeRef> find_bottlenecks(const MetricsSnapshot& snapshot) {
  std::vector<NodeRef> found;
  for (const auto& edge : snapshot.edges) {
    if (!is_backpressured(edge)) continue;
    const NodeSnapshot* consumer = nullptr;
    for (const auto& n : snapshot.nodes)
      if (n.pipeline == edge.pipeline && n.node == edge.to) consumer = &n;
    if (consumer == nullptr) continue;
    bool waiting = false;
    if (has_time_shares(*consumer)) {
      waiting = consumer->busy_ms_per_s < consumer->idle_ms_per_s ||
                consumer->busy_ms_per_s < consumer->backpressured_ms_per_s;
    } else {
      waiting = std::any_of(snapshot.edges.begin(), snapshot.edges.end(), [&](const auto& out) {
        return out.pipeline == edge.pipeline && out.from == edge.to && is_backpressured(out);
      });
    }
    const bool listed = std::any_of(found.begin(), found.end(), [&](const NodeRef& n) {
      return n.pipeline == edge.pipeline && n.node == edge.to;
    });
    if (!waiting && !listed) found.push_back({edge.pipeline, edge.to});
  }
  return found;
}

void print_monitor_table(std::ostream& os, const MetricsSnapshot& now,
                         const MetricsSnapshot* before) {
  print_process_lines(os, now);
  if (now.pipelines.empty()) {
    os << "no pipelines\n";
    return;
  }
  for (const auto& p : now.pipelines) {
    os << "pipeline \"" << printable(p.name) << "\" " << printable(p.state);
    if (!p.reason.empty()) os << ": " << printable(p.reason);
    os << '\n';
  }

  const double seconds = before ? (now.time_ns - before->time_ns) / 1e9 : 0;
  struct Column {
    const char* title;
    bool left;
  };
  const std::vector<Column> columns = {
      {"PIPELINE", true}, {"NODE", true},      {"STATE", true},     {"IN", false},
      {"IN/s", false},    {"OUT", false},      {"OUT/s", false},    {"P50 us", false},
      {"P99 us", false},  {"BUSY", false},     {"QUEUE", false},    {"BP", true},
      {"DROPS", false},   {"RESTARTS", false}, {"LAST ERROR", true}};
  std::vector<std::vector<std::string>> rows;
  rows.emplace_back();
  for (const auto& c : columns) rows.back().push_back(c.title);
  for (const auto& n : now.nodes) {
    const NodeSnapshot* old = before ? find_node(*before, n) : nullptr;
    std::uint64_t occupancy = 0, capacity = 0;
    bool backpressured = false, has_inputs = false;
    for (const auto& e : now.edges) {
      if (!is_input_of(e, n)) continue;
      has_inputs = true;
      occupancy = std::max(occupancy, e.occupancy);
      capacity = std::max<std::uint64_t>(capacity, e.capacity);
      backpressured = backpressured || is_backpressured(e);
    }
    // In a cluster, where each node runs.
    const std::string node = now.members.empty() ? n.node : n.node + "@" + n.process;
    rows.push_back(
        {printable(n.pipeline), printable(node), printable(n.state), std::to_string(n.frames_in),
         rate(n.frames_in, old ? &old->frames_in : nullptr, seconds), std::to_string(n.frames_out),
         rate(n.frames_out, old ? &old->frames_out : nullptr, seconds), format_us(n.latency_p50_us),
         format_us(n.latency_p99_us), busy_share(n),
         has_inputs ? std::to_string(occupancy) + "/" + std::to_string(capacity) : "-",
         backpressured ? "BP" : "", std::to_string(total(n.dropped)), std::to_string(n.restarts),
         printable(n.last_error)});
  }

  std::vector<std::size_t> widths(columns.size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < columns.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string pad(widths[c] - row[c].size(), ' ');
      // The last column is free text: no padding after it.
      if (c + 1 == columns.size()) {
        line += row[c];
      } else {
        line += columns[c].left ? row[c] + pad : pad + row[c];
        line += "  ";
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    os << line << '\n';
  }
  for (const auto& b : find_bottlenecks(now))
    os << "bottleneck: node \"" << printable(b.node) << "\" (pipeline " << printable(b.pipeline)
       << ")\n";
}

}  // namespace streamlab::cli
