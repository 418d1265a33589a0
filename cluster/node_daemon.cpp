#include "cluster/node_daemon.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/caf_words.hpp"
#include "actors/message_types.hpp"
#include "actors/messages.hpp"
#include "actors/monitor.hpp"
#include "actors/node_host.hpp"
#include "actors/scheduler.hpp"
#include "cluster/http_endpoints.hpp"
#include "cluster/member.hpp"
#include "cluster/monitor_service.hpp"
#include "cluster/networking.hpp"
#include "cluster/remote_client.hpp"
#include "nodes/registry.hpp"

namespace streamlab {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kJoinTimeout{5000};
// How often a member checks its connections to the others, and how long
// each try may take: short, so a dead address does not delay the others.
constexpr milliseconds kRejoinInterval{1000};
constexpr milliseconds kRejoinTimeout{300};
constexpr seconds kHttpSnapshotTimeout{2};

std::size_t scheduler_threads(std::size_t requested) {
  if (requested) return requested;
  return std::max(2u, std::thread::hardware_concurrency());
}

// Asks `seed` to let `me` in; on success tells our member about everyone.
std::string join(caf::actor_system& system, const caf::actor& member, const caf::actor& seed,
                 const MemberInfo& me, milliseconds timeout) {
  caf::scoped_actor self{system};
  std::string error;
  self->request(seed, timeout, join_atom::value, me)
      .receive(
          [&](bool ok, std::string& why, std::vector<MemberInfo>& members) {
            if (!ok) {
              error = why;
              return;
            }
            for (auto& m : members) self->send(member, announce_atom::value, m);
          },
          [&](caf::error& err) { error = plain_words(err); });
  return error;
}

bool split_address(const std::string& address, std::string& host, std::uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  port = static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
  return true;
}

// Keeps a direct connection to every member. CAF routes messages to a
// member learnt of through another one via that other one, and losing it
// would cut this member off from all it relayed: so each member connects
// to each other directly. Members it lost (one that came back, or all of
// them after this process was stopped and resumed) are asked to take it
// back.
void keep_connected(caf::actor_system& system, const caf::actor& member, const MemberInfo& me,
                    std::set<std::string>& connected) {
  std::vector<MemberStatus> members;
  caf::scoped_actor self{system};
  self->request(member, seconds(1), members_atom::value)
      .receive([&](std::vector<MemberStatus>& m) { members = std::move(m); }, [](caf::error&) {});
  for (const auto& m : members) {
    if (m.name == me.name) continue;
    const bool down = m.state == "down";
    if (down) connected.erase(m.name);
    if (connected.count(m.name)) continue;
    std::string host;
    std::uint16_t port = 0;
    if (!split_address(m.address, host, port)) continue;
    caf::actor remote;
    if (!connect_remote(system, host, port, kRejoinTimeout, remote).empty()) continue;
    if (!down) {
      connected.insert(m.name);
      continue;
    }
    std::string error = join(system, member, remote, me, seconds(1));
    if (error.empty()) {
      connected.insert(m.name);
      spdlog::info("reached member \"{}\" at {} again", m.name, m.address);
    } else {
      spdlog::warn("member \"{}\" at {} refused us back: {}", m.name, m.address, error);
    }
  }
}

// Drains what this member coordinates before it leaves.
void stop_pipelines(caf::actor_system& system, const caf::actor& member, double timeout_s) {
  caf::scoped_actor self{system};
  std::vector<PipelineRow> rows;
  self->request(member, seconds(5), pipelines_atom::value, local_atom::value)
      .receive([&](std::vector<PipelineRow>& r) { rows = std::move(r); }, [](caf::error&) {});
  for (const auto& row : rows) {
    if (row.state == "finished" || row.state == "failed") continue;
    spdlog::info("stopping pipeline \"{}\"", row.name);
    self->request(member, seconds(static_cast<long>(timeout_s) + 10), stop_atom::value, row.name,
                  timeout_s, local_atom::value)
        .receive([](bool, PipelineRow&) {}, [](caf::error&) {});
  }
}

}  // namespace

// Creates the data directory and makes it the working directory, so every
// relative path a deployed pipeline names (validation's checks included)
// resolves inside it. Paths given on the command line were made absolute
// first. Returns the directory's canonical path, or empty after printing why.
std::string enter_data_dir(MemberOptions& o) {
  namespace fs = std::filesystem;
  for (std::string* p : {&o.tls.certificate, &o.tls.key, &o.tls.ca})
    if (!p->empty()) *p = fs::absolute(*p).string();
  std::error_code ec;
  fs::create_directories(o.data_dir, ec);
  const fs::path dir = ec ? fs::path() : fs::canonical(o.data_dir, ec);
  if (ec || !fs::is_directory(dir)) {
    std::cerr << "error: --data-dir \"" << o.data_dir << "\": cannot create or use it"
              << (ec ? ": " + ec.message() : std::string()) << '\n';
    return {};
  }
  if (chdir(dir.c_str()) != 0) {
    std::cerr << "error: --data-dir \"" << dir.string() << "\": " << std::strerror(errno) << '\n';
    return {};
  }
  return dir.string();
}

int run_member(const MemberOptions& given) {
  MemberOptions o = given;
  if (const std::string bad = check_tls_files(o.tls); !bad.empty()) {
    std::cerr << "error: " << bad << '\n';
    return 1;
  }
  const std::string data_dir = enter_data_dir(o);
  if (data_dir.empty()) return 1;
  caf::actor_system_config cfg;
  register_message_types(cfg);
  register_cluster_types(cfg);
  enable_networking(cfg, o.tls);
  cfg.set("scheduler.max-threads", scheduler_threads(o.threads));
  use_streamlab_scheduler(cfg);
  caf::actor_system system{cfg};

  const NodeRegistry& registry = NodeRegistry::builtin();
  caf::actor monitor = spawn_monitor(system, o.name);
  caf::actor host = spawn_node_host(system, registry, BufferPool::process_pool(), data_dir);
  MemberSetup setup;
  setup.name = o.name;
  setup.max_pipelines = o.max_pipelines;
  setup.host = host;
  setup.monitor = monitor;
  setup.registry = &registry;
  setup.pool = &BufferPool::process_pool();
  setup.data_dir = data_dir;
  spdlog::info("member \"{}\": deployed pipelines read and write only under {}", o.name, data_dir);
  caf::actor member = spawn_member(system, setup);
  auto leave = [&](int status) {
    caf::scoped_actor self{system};
    for (const auto& a : {member, host, monitor})
      self->send_exit(a, caf::exit_reason::user_shutdown);
    return status;
  };

  std::shared_ptr<Published> published;
  std::unique_ptr<HttpEndpoints> http;
  std::uint16_t port = 0;
  try {
    // CAF listens on loopback only; the world reaches it through the gate
    // (publish_actor), with TLS or without.
    published = publish_actor(system, member, o.listen_host, o.listen_port, "cluster member");
    port = published->port();
    if (!o.http_host.empty())
      // The member's snapshot, not the monitor's: it keeps the final series
      // of ended pipelines (kEndedPipelineRetention), which the monitor drops.
      http = std::make_unique<HttpEndpoints>(o.http_host, o.http_port, [&system, member] {
        return query_member_snapshot(system, member, kHttpSnapshotTimeout);
      });
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return leave(1);
  }
  const std::string address = display_address(o.listen_host, port);
  caf::anon_send(member, local_atom::value, address);
  MemberInfo me{o.name, address, member, host, monitor, o.max_pipelines};

  if (!o.join_host.empty()) {
    const std::string seed_at = display_address(o.join_host, o.join_port);
    caf::actor seed;
    std::string error = connect_remote(system, o.join_host, o.join_port, kJoinTimeout, seed);
    if (error.empty()) error = join(system, member, seed, me, kJoinTimeout);
    if (!error.empty()) {
      std::cerr << "error: member \"" << o.name << "\" cannot join the cluster at " << seed_at
                << ": " << error << '\n';
      http.reset();
      published.reset();
      return leave(1);
    }
  }
  spdlog::info("member \"{}\" listening on {}{}", o.name, address,
               o.join_host.empty() ? " (a new cluster)"
                                   : " (joined " + display_address(o.join_host, o.join_port) + ")");
  if (http) spdlog::info("HTTP endpoints on http://{}", display_address(o.http_host, http->port()));
  if (o.tls.enabled()) {
    spdlog::info(
        "TLS: only processes with a certificate signed by the CA in {} can join, deploy, stop or "
        "query",
        o.tls.ca);
  } else {
    spdlog::warn(
        "the cluster is unauthenticated: any process that reaches {} can join, deploy, stop and "
        "query; keep it on loopback or a trusted network, or start every member and client with "
        "--tls-cert, --tls-key and --tls-ca",
        address);
  }

  std::set<std::string> connected;
  keep_connected(system, member, me, connected);
  auto next_check = std::chrono::steady_clock::now() + kRejoinInterval;
  while (!o.interrupts || o.interrupts->load() == 0) {
    std::this_thread::sleep_for(milliseconds(100));
    if (std::chrono::steady_clock::now() < next_check) continue;
    keep_connected(system, member, me, connected);
    next_check = std::chrono::steady_clock::now() + kRejoinInterval;
  }
  spdlog::info("member \"{}\" leaving", o.name);
  stop_pipelines(system, member, o.drain_timeout_s);
  http.reset();
  published.reset();
  return leave(0);
}

}  // namespace streamlab
