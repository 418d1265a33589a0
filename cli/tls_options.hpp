#pragma once
// --tls-cert, --tls-key and --tls-ca, the same on every command that
// runs a cluster member or talks to one.

#include <CLI/CLI.hpp>

#include "cluster/tls_files.hpp"

namespace streamlab::cli {

void add_tls_options(CLI::App* cmd, TlsFiles& files);

// False (after printing the problem, naming the flag and the path) when
// the set is partial or a file cannot be used.
bool tls_files_usable(const TlsFiles& files);

}  // namespace streamlab::cli
