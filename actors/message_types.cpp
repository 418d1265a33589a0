#include "actors/message_types.hpp"

#include "actors/messages.hpp"
#include "actors/node_host.hpp"

namespace streamlab {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<Frame>("streamlab.frame");
  cfg.add_message_type<FrameBatch>("streamlab.frame_batch");
  cfg.add_message_type<NodeSnapshot>("streamlab.node_snapshot");
  cfg.add_message_type<EdgeSnapshot>("streamlab.edge_snapshot");
  cfg.add_message_type<NodeReport>("streamlab.node_report");
  cfg.add_message_type<PipelineStatus>("streamlab.pipeline_status");
  cfg.add_message_type<ProcessFigures>("streamlab.process_figures");
  cfg.add_message_type<PoolStats>("streamlab.pool_stats");
  cfg.add_message_type<MemberStatus>("streamlab.member_status");
  cfg.add_message_type<MetricsSnapshot>("streamlab.metrics_snapshot");
  cfg.add_message_type<Handover>("streamlab.handover");
  cfg.add_message_type<DeadLetter>("streamlab.dead_letter");
  cfg.add_message_type<OutputLink>("streamlab.output_link");
  cfg.add_message_type<NodeSpawn>("streamlab.node_spawn");
  cfg.add_message_type<HostStatus>("streamlab.host_status");
}

}  // namespace streamlab
