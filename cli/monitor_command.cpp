// streamlab monitor --connect HOST:PORT: what a running `streamlab run
// --monitor` process is doing now, as a table, as JSON, or refreshed in
// place until Ctrl-C.

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/address.hpp"
#include "cli/commands.hpp"
#include "cli/monitor_table.hpp"
#include "cli/option_checks.hpp"
#include "cli/tls_options.hpp"
#include "cluster/monitor_service.hpp"
#include "runtime/node_metrics.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

namespace {

struct MonitorArgs {
  std::string connect;
  bool json = false;
  double watch_s = 0;
  double timeout_s = 3;
  TlsFiles tls;
};

// Rates need two readings; a second apart is long enough for a rate to mean
// something and short enough to wait for.
constexpr std::chrono::milliseconds kRateInterval{1000};

std::atomic<bool> g_quit{false};
extern "C" void on_quit(int) { g_quit = true; }

void install_quit_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_quit;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Returns false when Ctrl-C came first.
bool pause_for(std::chrono::milliseconds length) {
  const auto end = std::chrono::steady_clock::now() + length;
  while (!g_quit && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return !g_quit;
}

// The `--metrics-json` schema, plus what only a live snapshot has.
nlohmann::json snapshot_json(const MetricsSnapshot& s) {
  nlohmann::json doc = snapshot_to_json(s.nodes, s.edges);
  // Node ids are unique only within a pipeline; a process may run several.
  for (std::size_t i = 0; i < s.edges.size(); ++i)
    doc["edges"][i]["pipeline"] = s.edges[i].pipeline;
  auto pipelines = nlohmann::json::array();
  for (const auto& p : s.pipelines)
    pipelines.push_back({{"name", p.name}, {"state", p.state}, {"reason", p.reason}});
  doc["pipelines"] = std::move(pipelines);
  if (!s.members.empty()) {
    auto members = nlohmann::json::array();
    for (const auto& m : s.members)
      members.push_back({{"name", m.name},
                         {"address", m.address},
                         {"state", m.state},
                         {"reason", m.reason},
                         {"rss_bytes", m.figures.rss_bytes},
                         {"cpu_seconds", m.figures.cpu_seconds},
                         {"threads", m.figures.threads}});
    doc["members"] = std::move(members);
  }
  doc["process"] = {
      {"name", s.process},
      {"time_ns", s.time_ns},
      {"rss_bytes", s.figures.rss_bytes},
      {"cpu_seconds", s.figures.cpu_seconds},
      {"threads", s.figures.threads},
      {"pool", {{"hits", s.pool.hits}, {"misses", s.pool.misses}, {"recycled", s.pool.recycled}}}};
  return doc;
}

int monitor(const MonitorArgs& args) {
  if (!tls_files_usable(args.tls)) return kExitInvalidInput;
  const Address address = parse_address(args.connect, PortZero::refused);
  const auto timeout = std::chrono::milliseconds(static_cast<long>(args.timeout_s * 1000));
  MonitorClient client(address.host, address.port, args.tls);
  std::string error;
  const auto take = [&]() { return client.query(timeout, error); };
  const auto unreachable = [&] {
    std::cerr << "error: " << printable(error) << '\n';
    return kExitUnreachable;
  };

  auto before = take();
  if (!before) return unreachable();
  if (args.json) {
    std::cout << snapshot_json(*before).dump(2, ' ', false,
                                             nlohmann::json::error_handler_t::replace)
              << '\n';
    return kExitOk;
  }
  const bool watch = args.watch_s > 0;
  if (watch) install_quit_handlers();
  if (!pause_for(kRateInterval)) return kExitOk;
  for (;;) {
    auto now = take();
    if (!now) return unreachable();
    if (watch) {
      // Home and clear, as top does: each refresh replaces the last.
      std::cout << "\x1b[H\x1b[2J"
                << "streamlab monitor " << to_string(address) << ", every " << args.watch_s
                << " s (Ctrl-C to quit)\n";
    }
    print_monitor_table(std::cout, *now, &*before);
    std::cout.flush();
    // Nobody reads any more (`--watch | head`, SIGPIPE ignored): stop
    // instead of refreshing into a closed pipe forever.
    if (!std::cout) return kExitOk;
    if (!watch) return kExitOk;
    before = std::move(now);
    if (!pause_for(std::chrono::milliseconds(static_cast<long>(args.watch_s * 1000))))
      return kExitOk;
  }
}

}  // namespace

void add_monitor_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<MonitorArgs>();
  auto* cmd = app.add_subcommand(
      "monitor", "Show what a running `streamlab run --monitor HOST:PORT` process is doing now");
  cmd->add_option("--connect", args->connect, "Address of the monitor (HOST:PORT)")
      ->required()
      ->check(address_check(PortZero::refused));
  auto* json = cmd->add_flag("--json", args->json,
                             "Print the snapshot as JSON (the --metrics-json schema, plus "
                             "\"pipelines\" and \"process\")");
  auto* watch = cmd->add_option("--watch", args->watch_s,
                                "Refresh the table every SECONDS, in place, until Ctrl-C")
                    ->check(positive_number());
  json->excludes(watch);
  cmd->add_option("--timeout", args->timeout_s,
                  "Give up on an address that does not answer within SECONDS")
      ->capture_default_str()
      ->check(positive_number());
  add_tls_options(cmd, args->tls);
  cmd->callback([&action, args] { action = [args] { return monitor(*args); }; });
}

}  // namespace streamlab::cli
