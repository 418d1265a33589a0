// streamlab pipelines --cluster HOST:PORT: every pipeline of a cluster,
// with its state and where its nodes run.

#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/address.hpp"
#include "cli/commands.hpp"
#include "cli/option_checks.hpp"
#include "cli/tls_options.hpp"
#include "cluster/cluster_client.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

namespace {

struct PipelinesArgs {
  std::string cluster;
  bool json = false;
  double timeout_s = 5;
  TlsFiles tls;
};

int pipelines(const PipelinesArgs& args) {
  if (!tls_files_usable(args.tls)) return kExitInvalidInput;
  const Address at = parse_address(args.cluster, PortZero::refused);
  ClusterClient cluster(at.host, at.port, args.tls);
  std::vector<PipelineRow> rows;
  std::string error;
  const auto timeout = std::chrono::milliseconds(static_cast<long>(args.timeout_s * 1000));
  if (!cluster.pipelines(timeout, rows, error)) {
    std::cerr << "error: " << printable(error) << '\n';
    return kExitUnreachable;
  }
  if (args.json) {
    auto doc = nlohmann::json::array();
    for (const auto& r : rows)
      doc.push_back({{"name", r.name},
                     {"state", r.state},
                     {"reason", r.reason},
                     {"coordinator", r.coordinator},
                     {"placement", r.placement}});
    std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return kExitOk;
  }
  if (rows.empty()) {
    std::cout << "no pipelines\n";
    return kExitOk;
  }
  for (const auto& r : rows) {
    std::cout << printable(r.name) << "  " << printable(r.state) << "  via "
              << printable(r.coordinator) << "  " << printable(r.placement);
    if (!r.reason.empty()) std::cout << "  (" << printable(r.reason) << ")";
    std::cout << '\n';
  }
  return kExitOk;
}

}  // namespace

void add_pipelines_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<PipelinesArgs>();
  auto* cmd = app.add_subcommand("pipelines", "List a cluster's pipelines, with their states");
  cmd->add_option("--cluster", args->cluster, "Any member of the cluster (HOST:PORT)")
      ->required()
      ->check(address_check(PortZero::refused));
  cmd->add_flag("--json", args->json, "Print the list as JSON");
  cmd->add_option("--timeout", args->timeout_s, "Give up after SECONDS")
      ->capture_default_str()
      ->check(positive_number());
  add_tls_options(cmd, args->tls);
  cmd->callback([&action, args] { action = [args] { return pipelines(*args); }; });
}

}  // namespace streamlab::cli
