#include "cluster/placement.hpp"

#include <optional>

#include "runtime/pipeline_graph.hpp"

namespace streamlab {

namespace {

std::string member_list(const std::vector<MemberLoad>& members) {
  std::string out;
  for (const auto& m : members) out += (out.empty() ? "" : ", ") + m.name;
  return out.empty() ? "none" : out;
}

std::string load_list(const std::vector<MemberLoad>& members) {
  std::string out;
  for (const auto& m : members) {
    out += (out.empty() ? "" : ", ") + m.name + " " + std::to_string(m.pipelines) + "/";
    out += m.max_pipelines ? std::to_string(m.max_pipelines) : "unbounded";
  }
  return out;
}

}  // namespace

Placement place_pipeline(const PipelineSpec& spec, const std::vector<MemberLoad>& members) {
  Placement out;
  const std::size_t unplaced = members.size();
  out.member_of.assign(spec.nodes.size(), unplaced);
  std::vector<bool> used(members.size(), false);  // has a node of this pipeline
  std::vector<std::uint32_t> load(members.size());
  for (std::size_t m = 0; m < members.size(); ++m) load[m] = members[m].nodes;
  const auto admits = [&](std::size_t m) {
    return used[m] || members[m].max_pipelines == 0 ||
           members[m].pipelines < members[m].max_pipelines;
  };
  const auto problem = [&](std::size_t i, std::string path, std::string message) {
    out.problems.push_back({spec.file, std::move(path), spec.nodes[i].id, std::move(message)});
  };

  const PipelineGraph graph(spec);
  // Producers before consumers; validation guarantees there is no cycle.
  for (std::size_t i : graph.sources_first_order()) {
    const NodeSpec& node = spec.nodes[i];
    std::optional<std::size_t> chosen;
    if (!node.on.empty()) {
      for (std::size_t m = 0; m < members.size(); ++m)
        if (members[m].name == node.on) chosen = m;
      const std::string path = "/nodes/" + std::to_string(i) + "/on";
      if (!chosen) {
        problem(i, path,
                "unknown member \"" + node.on + "\" (members: " + member_list(members) + ")");
        continue;
      }
      if (!admits(*chosen)) {
        const auto& m = members[*chosen];
        problem(i, path,
                "member \"" + m.name + "\" already runs " + std::to_string(m.pipelines) +
                    " pipelines, its limit (--max-pipelines " + std::to_string(m.max_pipelines) +
                    ")");
        continue;
      }
    } else {
      const auto& inputs = graph.inputs(i);
      if (!inputs.empty()) {
        const std::size_t producer = out.member_of[graph.from(inputs.front())];
        if (producer != unplaced && admits(producer)) chosen = producer;
      }
      if (!chosen) {
        for (std::size_t m = 0; m < members.size(); ++m)
          if (admits(m) && (!chosen || load[m] < load[*chosen])) chosen = m;
      }
      if (!chosen) {
        problem(i, "/nodes/" + std::to_string(i),
                members.empty() ? std::string("no member is up to run it")
                                : "no member admits another pipeline (" + load_list(members) + ")");
        continue;
      }
    }
    out.member_of[i] = *chosen;
    used[*chosen] = true;
    ++load[*chosen];
  }
  return out;
}

}  // namespace streamlab
