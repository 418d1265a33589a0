// streamlab: run, check and inspect processing graphs.

#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "runtime/logging.hpp"

int main(int argc, char** argv) {
  using namespace streamlab::cli;
  CLI::App app{"StreamLab: actor-model stream processing for audio and signal data", "streamlab"};
  app.require_subcommand(1);
  app.fallthrough();  // --log-level is also accepted after the subcommand
  app.set_version_flag("--version", "streamlab 0.1.0");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str();

  Action action;
  add_run_command(app, action);
  add_validate_command(app, action);
  add_nodes_command(app, action);
  add_dlq_command(app, action);
  add_monitor_command(app, action);
  add_node_command(app, action);
  add_capture_command(app, action);
  add_deploy_command(app, action);
  add_pipelines_command(app, action);
  add_stop_command(app, action);
  add_devices_command(app, action);
  add_cluster_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int status = app.exit(e);
    return status == 0 ? 0 : kExitInvalidInput;
  }
  if (!streamlab::setup_logging(log_level)) {
    std::cerr << "streamlab: --log-level: unknown level \"" << log_level
              << "\" (trace, debug, info, warn, error, critical, off)\n";
    return kExitInvalidInput;
  }
  return action ? action() : kExitInvalidInput;
}
