// streamlab stop NAME --cluster HOST:PORT [--timeout SECONDS]: drain a
// deployed pipeline (sources end, queued frames are processed, sinks
// flush), forcing the stop when the drain takes longer than the timeout.

#include <iostream>
#include <memory>

#include "cli/address.hpp"
#include "cli/commands.hpp"
#include "cli/option_checks.hpp"
#include "cli/tls_options.hpp"
#include "cluster/cluster_client.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

namespace {

struct StopArgs {
  std::string name;
  std::string cluster;
  double timeout_s = 5;
  TlsFiles tls;
};

int stop(const StopArgs& args) {
  if (!tls_files_usable(args.tls)) return kExitInvalidInput;
  const Address at = parse_address(args.cluster, PortZero::refused);
  ClusterClient cluster(at.host, at.port, args.tls);
  PipelineRow row;
  std::string error;
  if (!cluster.stop(args.name, args.timeout_s, row, error)) {
    std::cerr << "error: " << printable(error) << '\n';
    return kExitInvalidInput;
  }
  std::cout << "pipeline \"" << printable(row.name) << "\" " << printable(row.state);
  if (!row.reason.empty()) std::cout << ": " << printable(row.reason);
  std::cout << '\n';
  return row.state == "finished" ? kExitOk : kExitRunFailed;
}

}  // namespace

void add_stop_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<StopArgs>();
  auto* cmd = app.add_subcommand("stop", "Drain and stop a pipeline deployed to a cluster");
  cmd->add_option("name", args->name, "The pipeline's name")->required();
  cmd->add_option("--cluster", args->cluster, "Any member of the cluster (HOST:PORT)")
      ->required()
      ->check(address_check(PortZero::refused));
  cmd->add_option("--timeout", args->timeout_s, "Seconds to let it drain before the stop is forced")
      ->capture_default_str()
      ->check(positive_number());
  add_tls_options(cmd, args->tls);
  cmd->callback([&action, args] { action = [args] { return stop(*args); }; });
}

}  // namespace streamlab::cli
