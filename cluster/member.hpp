#pragma once
// One cluster member: what `streamlab node` publishes on its listen
// address. It knows every other member (joined through a seed, watched
// with heartbeats), coordinates the pipelines deployed through it (places
// their nodes on the members' node hosts and supervises them from here),
// and answers for the whole cluster: any member lists every pipeline,
// stops any of them, and returns a snapshot of every member.
//   (join_atom, MemberInfo) -> std::vector<MemberInfo>        a newcomer, or one coming back
//   (announce_atom, MemberInfo)                               a newcomer, told by the seed
//   (members_atom) -> std::vector<MemberStatus>
//   (deploy_atom, text, file, max_frames) -> std::string      what runs where
//   (pipelines_atom) -> std::vector<PipelineRow>              cluster-wide
//   (pipelines_atom, local_atom) -> std::vector<PipelineRow>  coordinated here
//   (stop_atom, name, timeout_s) -> PipelineRow               drains, forced after the timeout
//   (snapshot_atom) -> MetricsSnapshot                        cluster-wide
//   (snapshot_atom, local_atom) -> MetricsSnapshot            this member only

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/buffer_pool.hpp"
#include "nodes/registry.hpp"

namespace caf {
class actor_system_config;
}

namespace streamlab {

using join_atom = caf::atom_constant<caf::atom("join")>;
using announce_atom = caf::atom_constant<caf::atom("announce")>;
using members_atom = caf::atom_constant<caf::atom("members")>;
using deploy_atom = caf::atom_constant<caf::atom("deploy")>;
using pipelines_atom = caf::atom_constant<caf::atom("pipelines")>;
using local_atom = caf::atom_constant<caf::atom("local")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;

struct MemberInfo {
  std::string name;
  std::string address;  // HOST:PORT it listens on
  caf::actor member;
  caf::actor host;     // its node host (actors/node_host.hpp)
  caf::actor monitor;  // its process monitor (actors/monitor.hpp)
  std::uint32_t max_pipelines = 0;
};

struct PipelineRow {
  std::string name;
  std::string state;  // starting, running, finished, degraded, failed
  std::string reason;
  std::string coordinator;  // the member it was deployed through
  std::string placement;    // "src@a dsp@b sink@c"
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, MemberInfo& x) {
  return f(caf::meta::type_name("member_info"), x.name, x.address, x.member, x.host, x.monitor,
           x.max_pipelines);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, PipelineRow& x) {
  return f(caf::meta::type_name("pipeline_row"), x.name, x.state, x.reason, x.coordinator,
           x.placement);
}

// The member's own description; `member` is filled in by spawn_member.
struct MemberSetup {
  std::string name;
  std::string address;
  std::uint32_t max_pipelines = 0;
  caf::actor host;
  caf::actor monitor;
  const NodeRegistry* registry = nullptr;
  BufferPool* pool = nullptr;
  std::string data_dir;  // absolute; deployed paths are confined to it (empty: not confined)
};

caf::actor spawn_member(caf::actor_system& system, MemberSetup setup);

// Every type members exchange, on top of register_message_types().
void register_cluster_types(caf::actor_system_config& cfg);

}  // namespace streamlab
