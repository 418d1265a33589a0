// streamlab node --name NAME --listen HOST:PORT [--join HOST:PORT]: run one
// cluster member in this process until Ctrl-C.

#include <memory>

#include "cli/address.hpp"
#include "cli/commands.hpp"
#include "cli/member_name.hpp"
#include "cli/option_checks.hpp"
#include "cli/run_support.hpp"
#include "cli/tls_options.hpp"
#include "cluster/node_daemon.hpp"

namespace streamlab::cli {

namespace {

struct NodeArgs {
  std::string name;
  std::string listen = "127.0.0.1:7400";
  std::string join;
  std::string http;
  std::uint32_t max_pipelines = 0;
  std::size_t threads = 0;
  double drain_timeout_s = 10;
  TlsFiles tls;
  std::string data_dir = "streamlab-data";
};

int node(const NodeArgs& args) {
  if (!tls_files_usable(args.tls)) return kExitInvalidInput;
  MemberOptions o;
  o.tls = args.tls;
  o.name = args.name;
  const Address listen = parse_address(args.listen, PortZero::any_free_port);
  o.listen_host = listen.host;
  o.listen_port = listen.port;
  if (!args.join.empty()) {
    const Address seed = parse_address(args.join, PortZero::refused);
    o.join_host = seed.host;
    o.join_port = seed.port;
  }
  if (!args.http.empty()) {
    const Address http = parse_address(args.http, PortZero::any_free_port);
    o.http_host = http.host;
    o.http_port = http.port;
  }
  o.max_pipelines = args.max_pipelines;
  o.threads = args.threads;
  o.drain_timeout_s = args.drain_timeout_s;
  o.data_dir = args.data_dir;
  o.interrupts = &install_interrupt_handlers();
  return run_member(o);
}

}  // namespace

void add_node_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<NodeArgs>();
  auto* cmd = app.add_subcommand(
      "node", "Run a cluster member in this process until Ctrl-C (drains what it coordinates)");
  cmd->add_option("--name", args->name, "Member name, unique in the cluster")
      ->required()
      ->check(member_name_check());
  cmd->add_option("--listen", args->listen,
                  "Where other members and clients reach it (HOST:PORT; loopback unless told "
                  "otherwise; port 0: any free port)")
      ->capture_default_str()
      ->check(address_check(PortZero::any_free_port));
  cmd->add_option("--join", args->join, "Any member of the cluster to join (HOST:PORT)")
      ->check(address_check(PortZero::refused));
  cmd->add_option("--http", args->http,
                  "Serve /metrics, /livez, /readyz, /health/live and /health/ready on HOST:PORT")
      ->check(address_check(PortZero::any_free_port));
  cmd->add_option("--max-pipelines", args->max_pipelines,
                  "Run nodes of at most N pipelines at once (0: no bound); more are refused");
  cmd->add_option("--threads", args->threads, "Scheduler threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--drain-timeout", args->drain_timeout_s,
                  "At exit, seconds to let the pipelines it coordinates drain")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--data-dir", args->data_dir,
                  "The only directory deployed pipelines may read and write (relative paths "
                  "resolve inside it; absolute paths, .. and symlinks out are refused); created "
                  "if missing")
      ->capture_default_str();
  add_tls_options(cmd, args->tls);
  cmd->callback([&action, args] { action = [args] { return node(*args); }; });
}

}  // namespace streamlab::cli
