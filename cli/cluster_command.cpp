// streamlab cluster certs DIR [--members a,b] [--days N]: the files that
// secure a cluster (--tls-cert, --tls-key, --tls-ca on every member and
// client).

#include <algorithm>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "cli/commands.hpp"
#include "cli/member_name.hpp"
#include "cluster/cluster_certs.hpp"
#include "runtime/printable.hpp"

namespace streamlab::cli {

namespace {

struct CertsArgs {
  std::string dir;
  std::vector<std::string> members{"member"};
  int days = 365;
};

int certs(const CertsArgs& args) {
  // CAF does not compare a certificate's name with the peer, so any member
  // may use any of them; one per member lets one be replaced alone. The
  // client one is for deploy, pipelines, stop and monitor.
  std::vector<std::string> names = args.members;
  if (std::find(names.begin(), names.end(), "client") == names.end()) names.push_back("client");
  for (const auto& name : names) {
    if (name == "ca") {
      std::cerr << "error: --members: \"ca\" names the CA's own files; choose another name\n";
      return kExitInvalidInput;
    }
  }
  try {
    for (const auto& path : write_cluster_certificates(args.dir, names, args.days))
      std::cout << "wrote " << printable(path) << '\n';
  } catch (const std::exception& e) {
    std::cerr << "error: " << printable(e.what()) << '\n';
    return kExitInvalidInput;
  }
  const std::string& first = names.front();
  std::cout << "start each member with --tls-cert " << args.dir << "/NAME.pem --tls-key "
            << args.dir << "/NAME.key --tls-ca " << args.dir << "/ca.pem (e.g. NAME=" << first
            << "), and clients with " << args.dir << "/client.pem and client.key; keep ca.key "
            << "offline: whoever has it can admit anyone\n";
  return kExitOk;
}

}  // namespace

void add_cluster_command(CLI::App& app, Action& action) {
  auto* cluster = app.add_subcommand("cluster", "Set up a cluster");
  cluster->require_subcommand(1);
  auto args = std::make_shared<CertsArgs>();
  auto* cmd = cluster->add_subcommand(
      "certs", "Create a CA and certificates for the members and a client, for the --tls-* flags");
  cmd->add_option("dir", args->dir, "Directory to write them to (created if missing)")->required();
  cmd->add_option("--members", args->members,
                  "One certificate per name, comma-separated (a \"client\" one is always added)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(member_name_check());
  cmd->add_option("--days", args->days, "Validity in days")
      ->capture_default_str()
      ->check(CLI::Range(1, 36500));
  cmd->callback([&action, args] { action = [args] { return certs(*args); }; });
}

}  // namespace streamlab::cli
