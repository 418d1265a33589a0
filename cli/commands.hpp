#pragma once
// Each subcommand lives in its own file and adds itself to the app. When
// its subcommand is chosen, it sets `action`; main runs the action after
// the global options (logging) are in effect. An action returns the exit status.

#include <functional>

#include <CLI/CLI.hpp>

namespace streamlab::cli {

using Action = std::function<int()>;

// Exit statuses shared by all subcommands.
constexpr int kExitOk = 0;
constexpr int kExitInvalidInput = 1;  // bad pipeline, bad arguments, unreadable file
constexpr int kExitRunFailed = 2;     // the pipeline ran but a node failed
constexpr int kExitUnreachable = 1;   // monitor: no StreamLab monitor answered at the address

void add_run_command(CLI::App& app, Action& action);
void add_validate_command(CLI::App& app, Action& action);
void add_nodes_command(CLI::App& app, Action& action);
void add_dlq_command(CLI::App& app, Action& action);
void add_monitor_command(CLI::App& app, Action& action);
void add_node_command(CLI::App& app, Action& action);
void add_capture_command(CLI::App& app, Action& action);
void add_deploy_command(CLI::App& app, Action& action);
void add_pipelines_command(CLI::App& app, Action& action);
void add_stop_command(CLI::App& app, Action& action);
void add_devices_command(CLI::App& app, Action& action);
void add_cluster_command(CLI::App& app, Action& action);

}  // namespace streamlab::cli
