// streamlab deploy PIPELINE.json --cluster HOST:PORT [--wait]: place a
// pipeline's nodes over the cluster's members, start it, and return (or,
// with --wait, stay until it ends, for scripts and batch jobs).

#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "cli/address.hpp"
#include "cli/commands.hpp"
#include "cli/run_support.hpp"
#include "cli/tls_options.hpp"
#include "cluster/cluster_client.hpp"

namespace streamlab::cli {

namespace {

struct DeployArgs {
  std::string pipeline;
  std::string cluster;
  std::uint64_t frames = 0;
  double timeout_s = 30;
  bool wait = false;
  TlsFiles tls;
};

// Asks every 100 ms over the one connection (not a process per question,
// which would cost the machine more than a fast pipeline's own work).
int wait_for_end(ClusterClient& cluster, const std::string& name,
                 std::chrono::milliseconds timeout) {
  for (;;) {
    std::vector<PipelineRow> rows;
    std::string error;
    if (!cluster.pipelines(timeout, rows, error)) {
      std::cerr << "error: while waiting for pipeline \"" << name << "\" to end: " << error << '\n';
      return kExitUnreachable;
    }
    const PipelineRow* row = nullptr;
    for (const auto& r : rows)
      if (r.name == name) row = &r;
    if (!row) {
      std::cerr << "error: pipeline \"" << name << "\" is no longer listed by the cluster\n";
      return kExitUnreachable;
    }
    if (row->state == "finished" || row->state == "failed") {
      std::cout << "pipeline \"" << name << "\" " << row->state;
      if (!row->reason.empty()) std::cout << ": " << row->reason;
      std::cout << '\n';
      return row->state == "finished" ? kExitOk : kExitRunFailed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int deploy(const DeployArgs& args) {
  if (!tls_files_usable(args.tls)) return kExitInvalidInput;
  // Checked here first, so that mistakes in the file are reported with
  // this machine's view of it; the members check it again where nodes run.
  // Read once: what is sent is what was checked.
  std::string text;
  const std::optional<PipelineSpec> spec = load_or_report(args.pipeline, &text);
  if (!spec) return kExitInvalidInput;
  const Address at = parse_address(args.cluster, PortZero::refused);
  ClusterClient cluster(at.host, at.port, args.tls);
  std::string summary, error;
  const auto timeout = std::chrono::milliseconds(static_cast<long>(args.timeout_s * 1000));
  if (!cluster.deploy(text, args.pipeline, args.frames, timeout, summary, error)) {
    std::cerr << "error: " << error << "\nnothing was started\n";
    return kExitInvalidInput;
  }
  std::cout << summary << std::endl;
  return args.wait ? wait_for_end(cluster, spec->name, timeout) : kExitOk;
}

}  // namespace

void add_deploy_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<DeployArgs>();
  auto* cmd = app.add_subcommand("deploy",
                                 "Place a pipeline over a cluster's members, start it, and return");
  cmd->add_option("pipeline", args->pipeline, "Pipeline JSON file")->required();
  cmd->add_option("--cluster", args->cluster, "Any member of the cluster (HOST:PORT)")
      ->required()
      ->check(address_check(PortZero::refused));
  cmd->add_option("--frames", args->frames, "Every source emits N frames, then ends its stream")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", args->timeout_s, "Give up after SECONDS")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--wait", args->wait,
                "Stay until the pipeline ends: exit 0 if it finished, 2 if it failed");
  add_tls_options(cmd, args->tls);
  cmd->callback([&action, args] { action = [args] { return deploy(*args); }; });
}

}  // namespace streamlab::cli
