// streamlab run PIPELINE.json: validate, run until the sources end (or a
// limit, or Ctrl-C), print the per-node table, write the metrics snapshot.

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>

#include "actors/pipeline_runner.hpp"
#include "cli/commands.hpp"
#include "cli/problem_output.hpp"
#include "cli/run_report.hpp"
#include "nodes/registry.hpp"
#include "runtime/pipeline_spec.hpp"

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
};

// First Ctrl-C drains (sources stop, sinks flush), the second forces.
std::atomic<int> g_interrupts{0};
extern "C" void on_interrupt(int) { g_interrupts.fetch_add(1); }

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int run(const RunArgs& args) {
  const auto& registry = NodeRegistry::builtin();
  ParseResult parsed = load_pipeline_file(args.pipeline, registry.schemas());
  if (!parsed.problems.empty()) {
    print_problems(std::cerr, parsed.problems);
    std::cerr << "nothing was started\n";
    return kExitInvalidInput;
  }
  const PipelineSpec& spec = *parsed.spec;

  RunOptions options;
  options.max_frames = args.frames;
  options.duration_s = args.duration_s;
  options.threads = args.threads;
  options.drain_timeout_s = args.drain_timeout_s;
  options.interrupts = &g_interrupts;
  install_interrupt_handlers();

  spdlog::info("running pipeline \"{}\" ({} nodes)", spec.name, spec.nodes.size());
  RunResult result = run_pipeline(spec, registry, options);
  if (!result.started) {
    std::cerr << "error: " << result.error << "\nnothing was started\n";
    return kExitInvalidInput;
  }
  if (!args.quiet) print_summary(std::cout, spec.name, result);
  if (!args.metrics_json.empty()) {
    std::string error = write_metrics_json(args.metrics_json, spec.name, result);
    if (!error.empty()) {
      std::cerr << "error: --metrics-json: " << error << '\n';
      return kExitRunFailed;
    }
  }
  if (result.any_node_failed()) {
    std::cerr << "error: pipeline \"" << spec.name << "\" had failed nodes (see the table)\n";
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
          ->check(CLI::PositiveNumber);
  auto* duration = cmd->add_option("--duration", args->duration_s, "Stop the sources after SECONDS")
                       ->check(CLI::PositiveNumber);
  frames->excludes(duration);
  cmd->add_option("--metrics-json", args->metrics_json,
                  "Write the final metrics snapshot (JSON) to FILE");
  cmd->add_option("--threads", args->threads, "Scheduler threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--drain-timeout", args->drain_timeout_s,
                  "Seconds to wait for a drain after a stop before forcing it")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--quiet", args->quiet, "Do not print the per-node table");
  cmd->callback([&action, args] { action = [args] { return run(*args); }; });
}

}  // namespace streamlab::cli
