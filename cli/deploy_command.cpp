// streamlab deploy PIPELINE.json --cluster HOST:PORT: place a pipeline's
// nodes over the cluster's members, start it, and return.

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

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
  TlsFiles tls;
};

int deploy(const DeployArgs& args) {
  if (!tls_files_usable(args.tls)) return kExitInvalidInput;
  // Checked here first, so that mistakes in the file are reported with
  // this machine's view of it; the members check it again where nodes run.
  if (!load_or_report(args.pipeline)) return kExitInvalidInput;
  std::ifstream in(args.pipeline);
  std::stringstream text;
  text << in.rdbuf();
  const Address at = parse_address(args.cluster, PortZero::refused);
  ClusterClient cluster(at.host, at.port, args.tls);
  std::string summary, error;
  const auto timeout = std::chrono::milliseconds(static_cast<long>(args.timeout_s * 1000));
  if (!cluster.deploy(text.str(), args.pipeline, args.frames, timeout, summary, error)) {
    std::cerr << "error: " << error << "\nnothing was started\n";
    return kExitInvalidInput;
  }
  std::cout << summary << '\n';
  return kExitOk;
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
  add_tls_options(cmd, args->tls);
  cmd->callback([&action, args] { action = [args] { return deploy(*args); }; });
}

}  // namespace streamlab::cli
