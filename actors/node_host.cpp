#include "actors/node_host.hpp"

#include <map>
#include <memory>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "runtime/path_confinement.hpp"
#include "runtime/pipeline_graph.hpp"
#include "runtime/pipeline_spec.hpp"

namespace streamlab {

namespace {

struct HostedPipeline {
  std::shared_ptr<MemoryBudget> memory;  // this process's share of the edges
  std::uint32_t nodes = 0;
};

// A pipeline's text is parsed once per supervisor, on its first spawn
// here: re-parsing it for every node made a deploy quadratic in its size.
struct ParsedPipeline {
  explicit ParsedPipeline(PipelineSpec s) : spec(std::move(s)), graph(spec) {}
  PipelineSpec spec;
  PipelineGraph graph;
};

struct HostState {
  const NodeRegistry* registry = nullptr;
  BufferPool* pool = nullptr;
  std::string confine_root;  // a member's data directory; empty: paths as given
  std::map<std::string, HostedPipeline> pipelines;
  std::map<caf::actor_addr, std::string> pipeline_of;  // live node actor -> its pipeline
  // By supervisor, until it goes down.
  std::map<caf::actor_addr, std::shared_ptr<const ParsedPipeline>> parsed;
};

caf::error spawn_error(const NodeSpawn& request, const std::string& why) {
  return caf::make_error(caf::sec::runtime_error,
                         request.file + ": node \"" + request.node_id + "\": " + why);
}

caf::behavior node_host(caf::stateful_actor<HostState>* self, const NodeRegistry* registry,
                        BufferPool* pool, std::string confine_root) {
  self->state.registry = registry;
  self->state.pool = pool;
  self->state.confine_root = std::move(confine_root);
  self->set_down_handler([self](caf::down_msg& down) {
    auto& st = self->state;
    if (st.parsed.erase(down.source) > 0) return;
    auto it = st.pipeline_of.find(down.source);
    if (it == st.pipeline_of.end()) return;
    auto p = st.pipelines.find(it->second);
    if (p != st.pipelines.end() && --p->second.nodes == 0) st.pipelines.erase(p);
    st.pipeline_of.erase(it);
  });
  return {
      [self](spawn_atom, NodeSpawn& request) -> caf::result<caf::actor> {
        auto& st = self->state;
        const caf::actor_addr supervisor = request.supervisor.address();
        if (!request.pipeline_text.empty()) {
          ParseResult parsed =
              parse_pipeline(request.pipeline_text, request.file, st.registry->schemas());
          if (!parsed.spec) {
            std::string why = "the pipeline does not validate here:";
            for (const auto& p : parsed.problems) why += " " + p.to_string() + ";";
            return spawn_error(request, why);
          }
          auto& slot = st.parsed[supervisor];
          if (!slot) self->monitor(request.supervisor);
          slot = std::make_shared<const ParsedPipeline>(std::move(*parsed.spec));
        }
        auto cached = st.parsed.find(supervisor);
        if (cached == st.parsed.end())
          return spawn_error(request, "the pipeline's text was never sent to this member");
        const std::shared_ptr<const ParsedPipeline> pipeline = cached->second;
        const PipelineSpec& spec = pipeline->spec;
        const int index = pipeline->graph.index_of(request.node_id);
        if (index < 0) return spawn_error(request, "no such node in the pipeline");
        auto setup = std::make_shared<NodeActorSetup>();
        describe_node(spec, pipeline->graph, static_cast<std::size_t>(index), *setup);
        setup->stand_in = static_cast<StandIn>(request.stand_in);
        if (setup->stand_in == StandIn::none) {
          const NodeSpec& n = spec.nodes[static_cast<std::size_t>(index)];
          const NodeType* type = st.registry->find(n.type);
          json config = n.config;
          if (!st.confine_root.empty()) {
            // Checked again here, on the member that opens the files: the
            // coordinator saw only its own file system.
            std::string why = confine_config_paths(type->schema, config, st.confine_root);
            if (!why.empty()) return spawn_error(request, why);
          }
          try {
            setup->node = type->make(
                config, NodeContext{n.id, st.pool, nullptr, request.epoch_ns, st.confine_root});
          } catch (const std::exception& e) {
            return spawn_error(request, std::string("cannot be created: ") + e.what());
          }
        }
        setup->outputs = std::move(request.outputs);
        if (setup->input_capacities.empty()) setup->max_frames = request.max_frames;
        setup->supervisor = request.supervisor;
        setup->dead_letters = request.dead_letters;
        if (!request.resume.empty())
          setup->resume = std::make_shared<Handover>(std::move(request.resume.front()));
        setup->report_successes = request.report_successes;
        HostedPipeline& hosted = st.pipelines[spec.name];
        if (!hosted.memory && spec.config.max_memory_bytes)
          hosted.memory = std::make_shared<MemoryBudget>(spec.config.max_memory_bytes);
        setup->memory = hosted.memory;
        caf::actor node = spawn_node_actor(self->system(), std::move(setup));
        ++hosted.nodes;
        st.pipeline_of[node.address()] = spec.name;
        self->monitor(node);
        return node;
      },
      [self](status_atom) {
        HostStatus s;
        s.pipelines = static_cast<std::uint32_t>(self->state.pipelines.size());
        s.nodes = static_cast<std::uint32_t>(self->state.pipeline_of.size());
        return s;
      },
  };
}

}  // namespace

caf::actor spawn_node_host(caf::actor_system& system, const NodeRegistry& registry,
                           BufferPool& pool, std::string confine_root) {
  return system.spawn(node_host, &registry, &pool, std::move(confine_root));
}

}  // namespace streamlab
