// streamlab: run, check and inspect processing graphs.

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/option_checks.hpp"
#include "runtime/logging.hpp"
#include "runtime/printable.hpp"

int main(int argc, char** argv) {
  using namespace streamlab::cli;
  // A closed stdout (piped into `head`) must not kill the process with its
  // files half-written: writes fail with EPIPE instead, and each writer of
  // stdout stops on its own (`print` counts what it could not print).
  std::signal(SIGPIPE, SIG_IGN);
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
    // No subcommand, or a word that is none: name it and list the known
    // ones (CLI11 only says "A subcommand is required").
    const bool no_subcommand =
        app.get_subcommands().empty() && (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr ||
                                          dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr);
    if (no_subcommand) {
      std::cerr << "streamlab: " << subcommand_problem(app, first_word(app, argc, argv))
                << "\nRun with --help for more information.\n";
      return kExitInvalidInput;
    }
    int status = app.exit(e);
    return status == 0 ? 0 : kExitInvalidInput;
  }
  if (!streamlab::setup_logging(log_level)) {
    std::cerr << "streamlab: --log-level: unknown level \"" << streamlab::printable(log_level)
              << "\" (trace, debug, info, warn, error, critical, off)\n";
    return kExitInvalidInput;
  }
  return action ? action() : kExitInvalidInput;
}
