// streamlab run PIPELINE.json: validate, run until the sources end (or a
// limit, or Ctrl-C), print the per-node table, write the metrics snapshot.
// While it runs, it can serve its monitor (--monitor, with TLS given the
// --tls-* flags) and HTTP endpoints (--http).

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>

#include "actors/monitor.hpp"
#include "actors/pipeline_runner.hpp"
#include "cli/address.hpp"
#include "cli/commands.hpp"
#include "cli/option_checks.hpp"
#include "cli/output_file.hpp"
#include "cli/problem_output.hpp"
#include "cli/run_report.hpp"
#include "cli/run_support.hpp"
#include "cli/tls_options.hpp"
#include "cluster/http_endpoints.hpp"
#include "cluster/monitor_service.hpp"
#include "nodes/registry.hpp"
#include "runtime/pipeline_spec.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

namespace {

struct RunArgs {
  std::string pipeline;
  std::uint64_t frames = 0;
  double duration_s = 0;
  std::string metrics_json;
  std::size_t threads = 0;
  double drain_timeout_s = 10;
  bool quiet = false;
  std::string monitor;  // HOST:PORT, validated by the option's check
  std::string http;
  TlsFiles tls;  // for the monitor
};

// An HTTP scrape waits this long for the pipelines' figures before
// answering 503.
constexpr std::chrono::seconds kHttpSnapshotTimeout{2};

// What a run serves while it lasts. Members go in reverse order: the HTTP
// endpoints, which query the monitor, before the monitor is unpublished.
struct Servers {
  std::shared_ptr<Published> monitor;
  std::unique_ptr<HttpEndpoints> http;
};

void add_servers(const RunArgs& args, RunOptions& options) {
  std::optional<Address> monitor_at, http_at;
  if (!args.monitor.empty()) monitor_at = parse_address(args.monitor, PortZero::any_free_port);
  if (!args.http.empty()) http_at = parse_address(args.http, PortZero::any_free_port);
  if (!monitor_at && !http_at) return;
  if (monitor_at)
    options.configure = [tls = args.tls](caf::actor_system_config& cfg) {
      enable_networking(cfg, tls);
    };
  options.on_start = [monitor_at, http_at](caf::actor_system& system,
                                           const caf::actor& monitor) -> std::shared_ptr<void> {
    auto servers = std::make_shared<Servers>();
    if (monitor_at) {
      servers->monitor =
          publish_actor(system, monitor, monitor_at->host, monitor_at->port, "monitor");
      spdlog::info("monitor listening on {}",
                   to_string({monitor_at->host, servers->monitor->port()}));
    }
    if (http_at) {
      servers->http = std::make_unique<HttpEndpoints>(
          http_at->host, http_at->port,
          [&system, monitor] { return query_snapshot(system, monitor, kHttpSnapshotTimeout); });
      spdlog::info("HTTP endpoints on http://{}",
                   to_string({http_at->host, servers->http->port()}));
    }
    return servers;
  };
}

// `print` nodes whose output closed (stdout piped into `head`): said once
// each, with what they could not print; the run itself goes on.
void report_closed_outputs(const RunResult& result) {
  for (const auto& n : result.nodes) {
    double closed = 0, not_printed = 0;
    for (const auto& f : n.figures) {
      if (f.name == "output_closed") closed = f.value;
      if (f.name == "frames_not_printed") not_printed = f.value;
    }
    if (closed > 0)
      spdlog::warn("node \"{}\" ({}): its output was closed; {} frames were not printed", n.node,
                   n.type, static_cast<std::uint64_t>(not_printed));
  }
}

int run(const RunArgs& args) {
  if (!tls_files_usable(args.tls)) return kExitInvalidInput;
  if (args.tls.enabled() && args.monitor.empty()) {
    std::cerr << "error: --tls-cert, --tls-key and --tls-ca secure --monitor, which is not "
                 "given\n";
    return kExitInvalidInput;
  }
  const auto& registry = NodeRegistry::builtin();
  std::optional<PipelineSpec> loaded = load_or_report(args.pipeline);
  if (!loaded) return kExitInvalidInput;
  const PipelineSpec& spec = *loaded;
  // A metrics file that cannot be written is bad input, found before the
  // run rather than after it.
  if (!args.metrics_json.empty()) {
    if (std::string problem = check_output_file(args.metrics_json); !problem.empty()) {
      std::cerr << "error: --metrics-json: " << printable(problem) << "\nnothing was started\n";
      return kExitInvalidInput;
    }
  }

  RunOptions options;
  options.max_frames = args.frames;
  options.duration_s = args.duration_s;
  options.threads = args.threads;
  options.drain_timeout_s = args.drain_timeout_s;
  options.interrupts = &install_interrupt_handlers();
  add_servers(args, options);
  // Said once everything that can refuse to start (nodes, ports) has not.
  options.on_start = [serve = std::move(options.on_start), &spec](caf::actor_system& system,
                                                                  const caf::actor& monitor) {
    std::shared_ptr<void> servers = serve ? serve(system, monitor) : nullptr;
    spdlog::info("running pipeline \"{}\" ({} nodes)", spec.name, spec.nodes.size());
    return servers;
  };

  RunResult result = run_pipeline(spec, registry, options);
  if (!result.started) {
    std::cerr << "error: " << printable(result.error) << "\nnothing was started\n";
    return kExitInvalidInput;
  }
  if (!args.quiet) print_summary(std::cout, spec.name, result);
  report_closed_outputs(result);
  const RunVerdict verdict = judge_run(result);
  if (!args.metrics_json.empty()) {
    std::string error = write_metrics_json(args.metrics_json, spec.name, result);
    if (!error.empty()) {
      std::cerr << "error: --metrics-json: " << printable(error) << '\n';
      return kExitRunFailed;
    }
  }
  if (!verdict.succeeded) {
    std::cerr << "error: pipeline \"" << printable(spec.name) << "\" " << printable(verdict.why)
              << '\n';
    return kExitRunFailed;
  }
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Run a pipeline in this process until its sources end (Ctrl-C drains and stops)");
  cmd->add_option("pipeline", args->pipeline, "Pipeline JSON file")->required();
  auto* frames =
      cmd->add_option("--frames", args->frames, "Every source emits N frames, then ends its stream")
          ->check(positive_count());
  auto* duration = cmd->add_option("--duration", args->duration_s, "Stop the sources after SECONDS")
                       ->check(positive_number());
  frames->excludes(duration);
  cmd->add_option("--metrics-json", args->metrics_json,
                  "Write the final metrics snapshot (JSON) to FILE");
  cmd->add_option("--threads", args->threads, "Scheduler threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--drain-timeout", args->drain_timeout_s,
                  "Seconds to wait for a drain after a stop before forcing it")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_flag("--quiet", args->quiet, "Do not print the per-node table");
  cmd->add_option("--monitor", args->monitor,
                  "While running, publish this process's monitor on HOST:PORT (port 0: any free "
                  "port) for `streamlab monitor --connect`")
      ->check(address_check(PortZero::any_free_port));
  cmd->add_option("--http", args->http,
                  "While running, serve /metrics, /livez, /readyz, /health/live and "
                  "/health/ready on HOST:PORT (port 0: any free port)")
      ->check(address_check(PortZero::any_free_port));
  add_tls_options(cmd, args->tls);
  cmd->callback([&action, args] { action = [args] { return run(*args); }; });
}

}  // namespace streamlab::cli
