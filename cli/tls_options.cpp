#include "cli/tls_options.hpp"
#include "runtime/printable.hpp"

#include <iostream>

namespace streamlab::cli {

void add_tls_options(CLI::App* cmd, TlsFiles& files) {
  const char* group = "TLS (all three, or none; see `cluster certs`)";
  cmd->add_option("--tls-cert", files.certificate,
                  "This process's certificate, signed by the cluster's CA (PEM)")
      ->group(group);
  cmd->add_option("--tls-key", files.key, "The certificate's private key (PEM)")->group(group);
  cmd->add_option("--tls-ca", files.ca,
                  "The cluster's CA certificate: peers must present a certificate it signed")
      ->group(group);
}

bool tls_files_usable(const TlsFiles& files) {
  const std::string problem = check_tls_files(files);
  if (problem.empty()) return true;
  std::cerr << "error: " << printable(problem) << '\n';
  return false;
}

}  // namespace streamlab::cli
