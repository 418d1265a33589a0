// The replay pipeline cut out of a validated one: which nodes and edges it
// keeps, the port numbering that results, and the refusals.

#include <algorithm>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runtime/pipeline_spec.hpp"
#include "runtime/pipeline_surgery.hpp"

using namespace streamlab;
using Catch::Matchers::Contains;

namespace {

// Stand-ins for node types (this layer has no registry): only the shapes matter.
NodeTypeSchema shape(std::string name, std::size_t min_inputs, std::size_t max_inputs,
                     bool has_output) {
  NodeTypeSchema s;
  s.type = std::move(name);
  s.min_inputs = min_inputs;
  s.max_inputs = max_inputs;
  s.has_output = has_output;
  return s;
}

const std::vector<NodeTypeSchema>& shapes() {
  static const std::vector<NodeTypeSchema> all = [] {
    NodeTypeSchema gain = shape("gain", 1, 1, true);
    FieldSpec factor;
    factor.name = "gain";
    factor.default_value = 1.0;
    gain.fields.push_back(factor);
    return std::vector<NodeTypeSchema>{shape("source", 0, 0, true), gain, shape("mix", 1, 16, true),
                                       shape("sink", 1, 1, false)};
  }();
  return all;
}

PipelineSpec parse(const std::string& text) {
  std::vector<const NodeTypeSchema*> types;
  for (const auto& s : shapes()) types.push_back(&s);
  ParseResult parsed = parse_pipeline(text, "test.json", types);
  std::string problems;
  for (const auto& p : parsed.problems) problems += p.to_string() + "\n";
  INFO(problems);
  REQUIRE(parsed.spec);
  return *parsed.spec;
}

std::vector<std::string> ids(const PipelineSpec& spec) {
  std::vector<std::string> out;
  for (const auto& n : spec.nodes) out.push_back(n.id);
  return out;
}

std::vector<std::string> edges(const PipelineSpec& spec) {
  std::vector<std::string> out;
  for (const auto& c : spec.connections)
    out.push_back(c.from + "->" + c.to + "/" + std::to_string(c.capacity));
  return out;
}

// Port of the connection from -> to, as the runner numbers them.
std::size_t port(const PipelineSpec& spec, const std::string& from, const std::string& to) {
  auto inputs = spec.inputs_of(to);
  auto it = std::find_if(inputs.begin(), inputs.end(),
                         [&](const ConnectionSpec* c) { return c->from == from; });
  REQUIRE(it != inputs.end());
  return static_cast<std::size_t>(it - inputs.begin());
}

// osc -> amp -> split fans out to two sinks; a second source joins at the mix.
const char* kGraph = R"({
  "name": "graph",
  "pipeline_config": {"channel_capacity": 16},
  "nodes": [
    {"id": "osc", "type": "source"},
    {"id": "pre", "type": "gain"},
    {"id": "amp", "type": "gain", "config": {"gain": 0.5}},
    {"id": "other", "type": "source"},
    {"id": "mixer", "type": "mix"},
    {"id": "file", "type": "sink"},
    {"id": "tap", "type": "sink"}
  ],
  "connections": [
    {"from": "osc", "to": "pre"},
    {"from": "pre", "to": "amp", "capacity": 4},
    {"from": "other", "to": "mixer"},
    {"from": "amp", "to": "mixer", "capacity": 8},
    {"from": "mixer", "to": "file"},
    {"from": "amp", "to": "tap", "capacity": 2}
  ]
})";

}  // namespace

TEST_CASE("replay keeps the node and everything downstream, fed by the dead letters", "[surgery]") {
  const PipelineSpec spec = parse(kGraph);
  const PipelineSpec replay = replay_pipeline(spec, "amp", "/tmp/x.deadletters");

  CHECK(ids(replay) == std::vector<std::string>{"dead_letters", "amp", "mixer", "file", "tap"});
  CHECK(edges(replay) == std::vector<std::string>{"dead_letters->amp/16", "amp->mixer/8",
                                                  "mixer->file/16", "amp->tap/2"});
  const NodeSpec& source = replay.nodes.front();
  CHECK(source.type == "dead_letter_source");
  CHECK(source.config == json{{"path", "/tmp/x.deadletters"}, {"node", "amp"}});
  CHECK(source.supervision.is_null());
  CHECK(source.supervision_config.restart.strategy == RestartKind::never);
  CHECK(source.supervision_config.on_error == ErrorPolicy::skip);

  // The kept nodes are the originals, config and all.
  CHECK(replay.nodes[1].config == spec.nodes[2].config);
  CHECK(replay.name == "graph");
  CHECK(replay.file == "test.json");
  CHECK(replay.config.channel_capacity == 16);

  // "other" joined the mix at port 0; without it, amp's edge is port 0.
  CHECK(port(spec, "amp", "mixer") == 1);
  CHECK(port(replay, "amp", "mixer") == 0);
  CHECK(replay.inputs_of("mixer").size() == 1);
  CHECK(port(replay, "dead_letters", "amp") == 0);
  CHECK(replay.inputs_of("amp").size() == 1);
}

TEST_CASE("replay into the first processing node keeps the whole pipeline minus the source",
          "[surgery]") {
  const PipelineSpec spec = parse(kGraph);
  const PipelineSpec replay = replay_pipeline(spec, "pre", "dl");
  CHECK(ids(replay) ==
        std::vector<std::string>{"dead_letters", "pre", "amp", "mixer", "file", "tap"});
  CHECK(replay.connections.size() == 5);  // all but osc->pre and other->mixer, plus the source
  CHECK(replay.index_of("osc") < 0);
  CHECK(replay.index_of("other") < 0);
}

TEST_CASE("replay into a sink runs just the sink", "[surgery]") {
  const PipelineSpec replay = replay_pipeline(parse(kGraph), "tap", "dl");
  CHECK(ids(replay) == std::vector<std::string>{"dead_letters", "tap"});
  CHECK(edges(replay) == std::vector<std::string>{"dead_letters->tap/16"});
}

TEST_CASE("replay into a mix feeds its port 0 only", "[surgery]") {
  const PipelineSpec spec = parse(R"({
    "nodes": [{"id": "a", "type": "source"}, {"id": "b", "type": "source"},
              {"id": "m", "type": "mix"}, {"id": "out", "type": "sink"}],
    "connections": [{"from": "a", "to": "m"}, {"from": "b", "to": "m"},
                    {"from": "m", "to": "out"}]})");
  const PipelineSpec replay = replay_pipeline(spec, "m", "dl");
  CHECK(ids(replay) == std::vector<std::string>{"dead_letters", "m", "out"});
  REQUIRE(replay.inputs_of("m").size() == 1);
  CHECK(replay.inputs_of("m")[0]->from == "dead_letters");
}

TEST_CASE("replay selects whose dead letters to replay", "[surgery]") {
  const PipelineSpec spec = parse(kGraph);
  CHECK(replay_pipeline(spec, "amp", "dl", std::string("pre")).nodes[0].config["node"] == "pre");
  CHECK(replay_pipeline(spec, "amp", "dl", std::string()).nodes[0].config["node"] == "");
}

TEST_CASE("the replay source gets an id no node has", "[surgery]") {
  const PipelineSpec spec = parse(R"({
    "nodes": [{"id": "dead_letters", "type": "source"}, {"id": "dead_letters_2", "type": "gain"},
              {"id": "out", "type": "sink"}],
    "connections": [{"from": "dead_letters", "to": "dead_letters_2"},
                    {"from": "dead_letters_2", "to": "out"}]})");
  const PipelineSpec replay = replay_pipeline(spec, "dead_letters_2", "dl");
  CHECK(ids(replay) == std::vector<std::string>{"dead_letters_3", "dead_letters_2", "out"});
  CHECK(edges(replay).front() == "dead_letters_3->dead_letters_2/32");
}

TEST_CASE("replay refuses unknown nodes and sources", "[surgery]") {
  const PipelineSpec spec = parse(kGraph);
  CHECK_THROWS_AS(replay_pipeline(spec, "ghost", "dl"), std::invalid_argument);
  CHECK_THROWS_WITH(replay_pipeline(spec, "ghost", "dl"),
                    Contains("\"ghost\"") && Contains("osc, pre, amp, other, mixer, file, tap"));
  CHECK_THROWS_WITH(replay_pipeline(spec, "osc", "dl"), Contains("\"osc\"") && Contains("source"));
  CHECK(node_id_list(spec) == "osc, pre, amp, other, mixer, file, tap");
}
