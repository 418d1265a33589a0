#pragma once
// `streamlab node`: one cluster member in this process, until interrupted.
// It publishes its member actor (cluster/member.hpp) on the listen address,
// joins the cluster through a seed, and while it runs keeps trying to
// reach members it lost, so a member that comes back (or this one, after
// being stopped) rejoins by itself.

#include <atomic>
#include <cstdint>
#include <string>

#include "cluster/tls_files.hpp"

namespace streamlab {

struct MemberOptions {
  std::string name;
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;  // 0: any free port
  std::string join_host;          // empty: start a new cluster
  std::uint16_t join_port = 0;
  std::string http_host;  // empty: no HTTP endpoints
  std::uint16_t http_port = 0;
  std::uint32_t max_pipelines = 0;  // 0: no bound
  std::size_t threads = 0;          // scheduler threads; 0: one per core
  double drain_timeout_s = 10;      // at exit, for the pipelines coordinated here
  TlsFiles tls;                     // none: an unauthenticated cluster
  // Deployed pipelines read and write only under it (runtime/path_confinement);
  // the member runs with it as its working directory.
  std::string data_dir = "streamlab-data";
  // Raised by signal handlers: the member drains its pipelines and leaves.
  const std::atomic<int>* interrupts = nullptr;
};

// Returns the process's exit status; errors (cannot listen, cannot join,
// a duplicate name) are printed to stderr with what was asked.
int run_member(const MemberOptions& options);

}  // namespace streamlab
