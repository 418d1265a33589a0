#include <catch2/catch.hpp>

#include <stdlib.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "messages/input_limits.hpp"
#include "runtime/pipeline_spec.hpp"

#include <sys/stat.h>

using namespace streamlab;

namespace {

// Stand-ins for real node types, so these tests do not depend on nodes/.
struct TestTypes {
  NodeTypeSchema tone, amp, out, sum;
  std::vector<const NodeTypeSchema*> all;

  TestTypes() {
    tone.type = "tone";
    tone.min_inputs = tone.max_inputs = 0;
    tone.fields = {
        FieldSpec{"frequency", FieldType::number, "", 440.0, 1.0, 20000.0, {}, PathCheck::none}};
    amp.type = "amp";
    amp.fields = {FieldSpec{"gain", FieldType::number, "", 1.0, 0.0, 10.0, {}, PathCheck::none}};
    out.type = "out";
    out.has_output = false;
    sum.type = "sum";
    sum.min_inputs = 2;
    sum.max_inputs = 8;
    all = {&tone, &amp, &out, &sum};
  }
};

const TestTypes& types() {
  static const TestTypes t;
  return t;
}

ParseResult parse(const std::string& text, const std::string& file = "") {
  return parse_pipeline(text, file, types().all);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string describe(const Problems& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p.to_string();
  return out;
}

// osc -> gain -> spk, valid; most bad cases below change one thing in it.
const char* const kNodes =
    R"([{"id": "osc", "type": "tone"},
        {"id": "gain", "type": "amp", "config": {"gain": 2}},
        {"id": "spk", "type": "out"}])";
const char* const kConnections =
    R"([{"from": "osc", "to": "gain"}, {"from": "gain", "to": "spk"}])";

std::string pipeline(const std::string& nodes, const std::string& connections,
                     const std::string& extra = "") {
  return "{" + extra + R"("nodes": )" + nodes + R"(, "connections": )" + connections + "}";
}

struct BadCase {
  std::string name;
  std::string text;
  std::string path;
  std::string node_id;
  std::string fragment;
};

std::vector<BadCase> bad_cases() {
  const std::string osc = R"({"id": "osc", "type": "tone"})";
  const std::string gain = R"({"id": "gain", "type": "amp"})";
  const std::string spk = R"({"id": "spk", "type": "out"})";
  auto nodes = [](std::initializer_list<std::string> list) {
    std::string out;
    for (const auto& n : list) out += (out.empty() ? "[" : ", ") + n;
    return out + "]";
  };
  auto link = [](const std::string& from, const std::string& to, const std::string& more = "") {
    return R"({"from": ")" + from + R"(", "to": ")" + to + "\"" + more + "}";
  };
  auto links = [](std::initializer_list<std::string> list) {
    std::string out;
    for (const auto& c : list) out += (out.empty() ? "[" : ", ") + c;
    return out.empty() ? "[]" : out + "]";
  };
  const std::string chain = links({link("osc", "gain"), link("gain", "spk")});
  const std::string three = nodes({osc, gain, spk});

  return {
      {"top level not an object", "[1, 2]", "", "", "must be a JSON object, got [1,2]"},
      {"nodes missing", R"({"connections": []})", "/nodes", "", "missing \"nodes\""},
      {"nodes not an array", R"({"nodes": {"osc": 1}})", "/nodes", "",
       "\"nodes\" must be an array"},
      {"nodes empty", R"({"nodes": []})", "/nodes", "", "the pipeline has no nodes"},
      {"node not an object", pipeline(nodes({osc, "5", spk}), links({link("osc", "spk")})),
       "/nodes/1", "", "a node must be an object, got 5"},
      {"id missing", pipeline(nodes({osc, R"({"type": "amp"})", spk}), links({link("osc", "spk")})),
       "/nodes/1/id", "", "missing \"id\""},
      {"id not a string",
       pipeline(nodes({osc, R"({"id": 7, "type": "amp"})", spk}), links({link("osc", "spk")})),
       "/nodes/1/id", "", "\"id\" must be a string, got 7"},
      {"id empty",
       pipeline(nodes({osc, R"({"id": "", "type": "amp"})", spk}), links({link("osc", "spk")})),
       "/nodes/1/id", "", "\"id\" must not be empty"},
      {"type missing", pipeline(nodes({osc, R"({"id": "gain"})", spk}), chain), "/nodes/1/type",
       "gain", "missing \"type\" (known: amp, out, sum, tone)"},
      {"type not a string", pipeline(nodes({osc, R"({"id": "gain", "type": 3})", spk}), chain),
       "/nodes/1/type", "gain", "\"type\" must be a string, got 3"},
      {"unknown type", pipeline(nodes({osc, R"({"id": "gain", "type": "sinus"})", spk}), chain),
       "/nodes/1/type", "gain", "unknown node type \"sinus\" (known: amp, out, sum, tone)"},
      {"unknown node key",
       pipeline(nodes({osc, R"({"id": "gain", "type": "amp", "confg": {}})", spk}), chain),
       "/nodes/1/confg", "gain",
       "unknown node key \"confg\" (allowed: id, type, config, supervision, on)"},
      {"unknown top-level key", pipeline(three, chain, R"("author": "me", )"), "/author", "",
       "unknown top-level key \"author\" (allowed: name, pipeline_config, nodes, connections, "
       "description)"},
      {"unknown key needing pointer escapes", pipeline(three, chain, R"("a/b~c": 1, )"), "/a~1b~0c",
       "", "unknown top-level key \"a/b~c\""},
      {"name not a string", pipeline(three, chain, R"("name": 3, )"), "/name", "",
       "\"name\" must be a non-empty string, got 3"},
      {"placement not a string",
       pipeline(nodes({osc, R"({"id": "gain", "type": "amp", "on": 1})", spk}), chain),
       "/nodes/1/on", "gain", "\"on\" must be a string"},
      {"duplicate id", pipeline(nodes({osc, gain, spk, R"({"id": "gain", "type": "amp"})"}), chain),
       "/nodes/3/id", "gain", "duplicate node id \"gain\" (first defined at /nodes/1)"},
      {"bad config value",
       pipeline(nodes({osc, R"({"id": "gain", "type": "amp", "config": {"gain": 20}})", spk}),
                chain),
       "/nodes/1/config/gain", "gain", "\"gain\" must be in [0, 10], got 20"},
      {"unknown config field",
       pipeline(nodes({osc, R"({"id": "gain", "type": "amp", "config": {"gian": 2}})", spk}),
                chain),
       "/nodes/1/config/gian", "gain", "unknown field \"gian\""},
      {"config not an object",
       pipeline(nodes({osc, R"({"id": "gain", "type": "amp", "config": [2]})", spk}), chain),
       "/nodes/1/config", "gain", "\"config\" must be an object"},
      {"connections not an array", pipeline(three, R"({"from": "osc"})"), "/connections", "",
       "\"connections\" must be an array"},
      {"connection not an object", pipeline(three, links({link("osc", "gain"), "\"x\""})),
       "/connections/1", "", "a connection must be an object, got \"x\""},
      {"connection without from",
       pipeline(three, links({R"({"to": "gain"})", link("gain", "spk")})), "/connections/0/from",
       "", "missing \"from\""},
      {"connection without to",
       pipeline(three, links({link("osc", "gain"), R"({"from": "gain"})"})), "/connections/1/to",
       "", "missing \"to\""},
      {"connection end not a string",
       pipeline(three, links({link("osc", "gain"), R"({"from": "gain", "to": 4})"})),
       "/connections/1/to", "", "\"to\" must be a node id string, got 4"},
      {"connection to unknown node",
       pipeline(three, links({link("osc", "gain"), link("gain", "amp2")})), "/connections/1/to", "",
       "connection to unknown node \"amp2\""},
      {"connection from unknown node",
       pipeline(three, links({link("osc2", "gain"), link("gain", "spk")})), "/connections/0/from",
       "", "connection from unknown node \"osc2\""},
      {"unknown connection key",
       pipeline(three, links({link("osc", "gain", R"(, "capcity": 4)"), link("gain", "spk")})),
       "/connections/0/capcity", "",
       "unknown connection key \"capcity\" (allowed: from, to, capacity)"},
      {"capacity zero",
       pipeline(three, links({link("osc", "gain", R"(, "capacity": 0)"), link("gain", "spk")})),
       "/connections/0/capacity", "", "\"capacity\" must be an integer in [1, 65536], got 0"},
      {"capacity too large",
       pipeline(three, links({link("osc", "gain"), link("gain", "spk", R"(, "capacity": 65537)")})),
       "/connections/1/capacity", "", "got 65537"},
      {"capacity fractional",
       pipeline(three, links({link("osc", "gain", R"(, "capacity": 2.5)"), link("gain", "spk")})),
       "/connections/0/capacity", "", "got 2.5"},
      {"capacity a string",
       pipeline(three, links({link("osc", "gain", R"(, "capacity": "8")"), link("gain", "spk")})),
       "/connections/0/capacity", "", "got \"8\""},
      {"pipeline_config not an object", pipeline(three, chain, R"("pipeline_config": 3, )"),
       "/pipeline_config", "", "\"pipeline_config\" must be an object"},
      {"channel_capacity negative",
       pipeline(three, chain, R"("pipeline_config": {"channel_capacity": -1}, )"),
       "/pipeline_config/channel_capacity", "", "must be an integer in [1, 65536], got -1"},
      {"duplicate connection",
       pipeline(three, links({link("osc", "gain"), link("gain", "spk"), link("osc", "gain")})),
       "/connections/2", "gain",
       "duplicate connection \"osc\" -> \"gain\" (same as /connections/0)"},
      {"self-loop",
       pipeline(three, links({link("osc", "gain"), link("gain", "spk"), link("gain", "gain")})),
       "/connections/2", "gain", "connection from \"gain\" to itself"},
      {"source given an input",
       pipeline(nodes({osc, R"({"id": "osc2", "type": "tone"})", spk}),
                links({link("osc", "spk"), link("osc", "osc2")})),
       "/connections/1/to", "osc2",
       "node \"osc2\" is a source (type \"tone\") and takes no inputs"},
      {"sink used as a source",
       pipeline(nodes({osc, gain, spk, R"({"id": "gain2", "type": "amp"})"}),
                links({link("osc", "gain"), link("gain", "spk"), link("spk", "gain2")})),
       "/connections/2/from", "spk", "node \"spk\" is a sink (type \"out\") and has no output"},
      {"missing input", pipeline(three, links({link("osc", "spk")})), "/nodes/1", "gain",
       "missing input: node type \"amp\" needs at least 1 input, has 0"},
      {"multi-input node short of inputs",
       pipeline(nodes({osc, R"({"id": "mix", "type": "sum"})", spk}),
                links({link("osc", "mix"), link("mix", "spk")})),
       "/nodes/1", "mix", "missing input: node type \"sum\" needs at least 2 inputs, has 1"},
      {"too many inputs",
       pipeline(nodes({osc, R"({"id": "osc2", "type": "tone"})", gain, spk}),
                links({link("osc", "gain"), link("osc2", "gain"), link("gain", "spk")})),
       "/connections/1/to", "gain",
       "too many inputs: node type \"amp\" takes at most 1 input, has 2"},
      {"no sink", pipeline(nodes({osc}), "[]"), "/nodes", "",
       "the pipeline has no sink (a node type without output: out)"},
      {"output going nowhere is fine but a sink is still needed",
       pipeline(nodes({osc, gain}), links({link("osc", "gain")})), "/nodes", "",
       "the pipeline has no sink"},
  };
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/streamlab-spec-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::string file = path + "/" + name;
    std::ofstream(file) << text;
    return file;
  }
};

}  // namespace

TEST_CASE("the base pipeline of the bad cases is valid", "[pipeline_spec]") {
  auto result = parse(pipeline(kNodes, kConnections));
  INFO(describe(result.problems));
  CHECK(result.problems.empty());
  CHECK(result.spec.has_value());
}

TEST_CASE("each bad pipeline is reported once, at its exact location", "[pipeline_spec]") {
  for (const auto& c : bad_cases()) {
    INFO("case: " << c.name << "\n" << c.text);
    auto result = parse(c.text, "bad.json");
    INFO("problems:" << describe(result.problems));
    CHECK_FALSE(result.spec.has_value());
    REQUIRE(result.problems.size() == 1);
    const auto& p = result.problems[0];
    CHECK(p.file == "bad.json");
    CHECK(p.path == c.path);
    CHECK(p.node_id == c.node_id);
    CHECK(contains(p.message, c.fragment));
  }
}

TEST_CASE("a pipeline without a source reports it with the starved node", "[pipeline_spec]") {
  auto result = parse(pipeline(R"([{"id": "gain", "type": "amp"}, {"id": "spk", "type": "out"}])",
                               R"([{"from": "gain", "to": "spk"}])"));
  INFO(describe(result.problems));
  REQUIRE(result.problems.size() == 2);
  CHECK(result.problems[0].path == "/nodes/0");
  CHECK(contains(result.problems[0].message, "missing input"));
  CHECK(result.problems[1].path == "/nodes");
  CHECK(contains(result.problems[1].message, "no source (a node type without inputs: tone)"));
}

TEST_CASE("malformed JSON is located by line and column", "[pipeline_spec]") {
  struct Case {
    std::string text;
    std::string where;
  };
  const Case cases[] = {
      {"{\n  \"name\": \"x\",\n  \"nodes\" []\n}", "line 3, column 11"},
      {"{\"nodes\": [1, 2", "line 1, column 16"},  // end of input: just past the last byte
      {"", "line 1, column 1"},
      {"{\"nodes\": []}\n\nx", "line 3, column 1"},
      {"{\n\t\"a\": tru\n}", "line 2, column 10"},  // the newline ends the bad literal
  };
  for (const auto& c : cases) {
    INFO("text: " << c.text);
    auto result = parse(c.text, "broken.json");
    REQUIRE(result.problems.size() == 1);
    CHECK(result.problems[0].path == c.where);
    CHECK(result.problems[0].file == "broken.json");
    CHECK(result.problems[0].node_id.empty());
    CHECK(contains(result.problems[0].message, "malformed JSON: syntax error"));
    CHECK_FALSE(contains(result.problems[0].message, "json.exception"));
  }
}

TEST_CASE("every problem in a document is reported at once", "[pipeline_spec]") {
  auto result = parse(pipeline(R"([{"id": "osc", "type": "sinus"},
                                  {"id": "gain", "type": "amp", "config": {"gain": -1}},
                                  {"id": "spk", "type": "out"}])",
                               R"([{"from": "osc", "to": "gain"},
                                  {"from": "gain", "to": "amp2"}])"));
  INFO(describe(result.problems));
  CHECK_FALSE(result.spec.has_value());
  REQUIRE(result.problems.size() == 3);
  CHECK(result.problems[0].path == "/nodes/0/type");
  CHECK(result.problems[0].node_id == "osc");
  CHECK(result.problems[1].path == "/nodes/1/config/gain");
  CHECK(result.problems[1].node_id == "gain");
  CHECK(contains(result.problems[1].message, "got -1"));
  CHECK(result.problems[2].path == "/connections/1/to");
  CHECK(contains(result.problems[2].message, "\"amp2\""));
}

TEST_CASE("a valid pipeline parses with defaults and capacities resolved", "[pipeline_spec]") {
  auto result = parse(R"({
    "name": "demo",
    "description": "a tone through a gain",
    "pipeline_config": {"channel_capacity": 16, "dead_letter_path": "/tmp/dl"},
    "nodes": [
      {"id": "osc", "type": "tone", "config": {"frequency": 1000}},
      {"id": "gain", "type": "amp", "supervision": {"restart": "immediate"}, "on": "host-b"},
      {"id": "spk", "type": "out"}
    ],
    "connections": [
      {"from": "osc", "to": "gain", "capacity": 4},
      {"from": "gain", "to": "spk"}
    ]
  })",
                      "dir/ignored.json");
  INFO(describe(result.problems));
  REQUIRE(result.problems.empty());
  REQUIRE(result.spec.has_value());
  const auto& spec = *result.spec;
  CHECK(spec.name == "demo");
  CHECK(spec.file == "dir/ignored.json");
  CHECK(spec.config.channel_capacity == 16);
  CHECK(spec.config.raw["dead_letter_path"] == "/tmp/dl");

  REQUIRE(spec.nodes.size() == 3);
  CHECK(spec.nodes[0].id == "osc");
  CHECK(spec.nodes[0].type == "tone");
  CHECK(spec.nodes[0].config == json{{"frequency", 1000}});
  CHECK(spec.nodes[1].config == json{{"gain", 1.0}});
  CHECK(spec.nodes[1].supervision == json{{"restart", "immediate"}});
  CHECK(spec.nodes[1].on == "host-b");
  CHECK(spec.nodes[0].supervision.is_null());
  CHECK(spec.nodes[0].on.empty());
  CHECK(spec.nodes[2].config == json::object());

  REQUIRE(spec.connections.size() == 2);
  CHECK(spec.connections[0].from == "osc");
  CHECK(spec.connections[0].to == "gain");
  CHECK(spec.connections[0].capacity == 4);
  CHECK(spec.connections[1].capacity == 16);
}

TEST_CASE("the default channel capacity applies without pipeline_config", "[pipeline_spec]") {
  auto result = parse(pipeline(kNodes, kConnections));
  REQUIRE(result.spec.has_value());
  CHECK(result.spec->config.channel_capacity == PipelineConfig::kDefaultChannelCapacity);
  CHECK(result.spec->config.raw == json::object());
  for (const auto& c : result.spec->connections)
    CHECK(c.capacity == PipelineConfig::kDefaultChannelCapacity);
}

TEST_CASE("the name falls back to the file's base name", "[pipeline_spec]") {
  const std::string text = pipeline(kNodes, kConnections);
  CHECK(parse(text, "/some/dir/demo.json").spec->name == "demo");
  CHECK(parse(text, "live.pipeline.json").spec->name == "live.pipeline");
  CHECK(parse(text, "").spec->name == "pipeline");
}

TEST_CASE("cycles are reported with the nodes that form them", "[pipeline_spec]") {
  // osc feeds mix, which also takes b's output: mix -> a -> b -> mix.
  auto result = parse(pipeline(R"([{"id": "osc", "type": "tone"},
                                  {"id": "mix", "type": "sum"},
                                  {"id": "a", "type": "amp"},
                                  {"id": "b", "type": "amp"},
                                  {"id": "spk", "type": "out"}])",
                               R"([{"from": "osc", "to": "mix"},
                                  {"from": "b", "to": "mix"},
                                  {"from": "mix", "to": "a"},
                                  {"from": "a", "to": "b"},
                                  {"from": "a", "to": "spk"}])"));
  INFO(describe(result.problems));
  REQUIRE(result.problems.size() == 1);
  const auto& p = result.problems[0];
  CHECK(p.path == "/connections/1");
  CHECK(p.node_id == "mix");
  CHECK(p.message == R"(cycle: "mix" -> "a" -> "b" -> "mix")");
}

TEST_CASE("two separate cycles are both reported", "[pipeline_spec]") {
  auto result = parse(pipeline(R"([{"id": "osc", "type": "tone"},
                                  {"id": "m1", "type": "sum"}, {"id": "a", "type": "amp"},
                                  {"id": "m2", "type": "sum"}, {"id": "b", "type": "amp"},
                                  {"id": "spk", "type": "out"}])",
                               R"([{"from": "osc", "to": "m1"}, {"from": "a", "to": "m1"},
                                  {"from": "m1", "to": "a"},
                                  {"from": "osc", "to": "m2"}, {"from": "b", "to": "m2"},
                                  {"from": "m2", "to": "b"},
                                  {"from": "m2", "to": "spk"}])"));
  INFO(describe(result.problems));
  REQUIRE(result.problems.size() == 2);
  CHECK(contains(result.problems[0].message, R"("m1" -> "a" -> "m1")"));
  CHECK(contains(result.problems[1].message, R"("m2" -> "b" -> "m2")"));
}

TEST_CASE("fan-out and input port order follow the connection list", "[pipeline_spec]") {
  auto result = parse(pipeline(R"([{"id": "o1", "type": "tone"}, {"id": "o2", "type": "tone"},
                                  {"id": "o3", "type": "tone"}, {"id": "mix", "type": "sum"},
                                  {"id": "gain", "type": "amp"},
                                  {"id": "spk", "type": "out"}, {"id": "spk2", "type": "out"}])",
                               R"([{"from": "o2", "to": "mix"},
                                  {"from": "o1", "to": "gain"},
                                  {"from": "o3", "to": "mix"},
                                  {"from": "o1", "to": "mix"},
                                  {"from": "mix", "to": "spk"},
                                  {"from": "gain", "to": "spk2"}])"));
  INFO(describe(result.problems));
  REQUIRE(result.spec.has_value());
  const auto& spec = *result.spec;

  auto inputs = spec.inputs_of("mix");
  REQUIRE(inputs.size() == 3);
  CHECK(inputs[0]->from == "o2");
  CHECK(inputs[1]->from == "o3");
  CHECK(inputs[2]->from == "o1");

  auto outputs = spec.outputs_of("o1");
  REQUIRE(outputs.size() == 2);
  CHECK(outputs[0]->to == "gain");
  CHECK(outputs[1]->to == "mix");

  CHECK(spec.inputs_of("o1").empty());
  CHECK(spec.outputs_of("spk").empty());
  CHECK(spec.inputs_of("nobody").empty());
  CHECK(spec.index_of("o1") == 0);
  CHECK(spec.index_of("spk2") == 6);
  CHECK(spec.index_of("nobody") == -1);
}

TEST_CASE("a pipeline is read from a file, or the failure is a problem", "[pipeline_spec]") {
  TempDir dir;

  SECTION("a readable file is parsed and named after the file") {
    auto file = dir.write("tone.json", pipeline(kNodes, kConnections));
    auto result = load_pipeline_file(file, types().all);
    INFO(describe(result.problems));
    REQUIRE(result.spec.has_value());
    CHECK(result.spec->name == "tone");
    CHECK(result.spec->file == file);
  }
  SECTION("problems carry the file name") {
    auto file = dir.write("bad.json", "{\"nodes\": 3}");
    auto result = load_pipeline_file(file, types().all);
    REQUIRE(result.problems.size() == 1);
    CHECK(result.problems[0].file == file);
    CHECK(result.problems[0].to_string() == file + ": /nodes: \"nodes\" must be an array, got 3");
  }
  SECTION("a missing file") {
    auto result = load_pipeline_file(dir.path + "/none.json", types().all);
    CHECK_FALSE(result.spec.has_value());
    REQUIRE(result.problems.size() == 1);
    CHECK(result.problems[0].file == dir.path + "/none.json");
    CHECK(result.problems[0].message == "cannot read file: No such file or directory");
  }
  SECTION("a directory") {
    auto result = load_pipeline_file(dir.path, types().all);
    REQUIRE(result.problems.size() == 1);
    CHECK(result.problems[0].message == "cannot read: it is a directory, not a regular file");
  }
  SECTION("a named pipe is refused, not waited on (it blocked before)") {
    const std::string fifo = dir.path + "/pipe.json";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    auto result = load_pipeline_file(fifo, types().all);
    REQUIRE(result.problems.size() == 1);
    CHECK(result.problems[0].file == fifo);
    CHECK(result.problems[0].message ==
          "cannot read: it is a named pipe (FIFO), not a regular file");
  }
  SECTION("a device is refused") {
    auto result = load_pipeline_file("/dev/null", types().all);
    REQUIRE(result.problems.size() == 1);
    CHECK(result.problems[0].message ==
          "cannot read: it is a character device, not a regular file");
  }
  SECTION("a file up to the size limit is read, one byte more is refused unread") {
    const std::size_t limit = limits::kMaxPipelineTextBytes;
    std::string text = pipeline(kNodes, kConnections);
    text += std::string(limit - text.size(), ' ');
    std::string read;
    CHECK_FALSE(read_pipeline_text(dir.write("at_limit.json", text), read));
    CHECK(read == text);
    CHECK(load_pipeline_file(dir.write("at_limit.json", text), types().all).spec);
    auto over = load_pipeline_file(dir.write("over.json", text + " "), types().all);
    REQUIRE(over.problems.size() == 1);
    CHECK_THAT(over.problems[0].message, Catch::Contains(std::to_string(limit) + " bytes"));
  }
}

TEST_CASE("hostile pipeline text is a located problem, never an exception or a crash",
          "[pipeline_spec]") {
  SECTION("a number out of a double's range (an uncaught exception before)") {
    ParseResult r =
        parse(R"({"nodes": [{"id": "osc", "type": "tone", "config": {"frequency": 1e400}}]})");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "/nodes/0/config/frequency");
    CHECK_THAT(r.problems[0].message, Catch::Contains("1e400") && Catch::Contains("out of range"));
  }
  SECTION("nesting at the limit is judged as usual, one level more is refused naming it") {
    const std::size_t limit = limits::kMaxPipelineNesting;
    // The document is level 1, "description" holds the rest.
    const std::string at_limit = std::string(limit - 1, '[') + std::string(limit - 1, ']');
    ParseResult ok = parse(R"({"description": )" + at_limit + "}");
    REQUIRE(ok.problems.size() >= 1);
    CHECK(ok.problems[0].path == "/description");
    CHECK_THAT(ok.problems[0].message, Catch::Contains("must be a string"));
    ParseResult deep = parse(R"({"description": [)" + at_limit + "]}");
    REQUIRE(deep.problems.size() == 1);
    CHECK_THAT(deep.problems[0].message, Catch::Contains("limit of " + std::to_string(limit)));
  }
  SECTION("100,000 levels deep (a segfault before)") {
    ParseResult r =
        parse("{\"nodes\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
    REQUIRE(r.problems.size() == 1);
    CHECK_THAT(r.problems[0].message, Catch::Contains("nested deeper"));
  }
  SECTION("text over the size limit") {
    ParseResult r = parse(std::string(limits::kMaxPipelineTextBytes + 1, ' '));
    REQUIRE(r.problems.size() == 1);
    CHECK_THAT(r.problems[0].message,
               Catch::Contains(std::to_string(limits::kMaxPipelineTextBytes)));
  }
}

TEST_CASE("backpressure watermarks are read and checked", "[pipeline_spec]") {
  auto with = [](const std::string& backpressure) {
    return parse(std::string(R"({"pipeline_config":{"backpressure":)") + backpressure +
                 R"(},"nodes":)" + kNodes + R"(,"connections":)" + kConnections + "}");
  };
  ParseResult ok = with(R"({"high_watermark":0.8,"low_watermark":0.5})");
  INFO(describe(ok.problems));
  REQUIRE(ok.spec);
  CHECK(ok.spec->config.backpressure_high == 0.8);
  CHECK(ok.spec->config.backpressure_low == 0.5);

  ParseResult defaults =
      parse(std::string(R"({"nodes":)") + kNodes + R"(,"connections":)" + kConnections + "}");
  REQUIRE(defaults.spec);
  CHECK(defaults.spec->config.backpressure_high == 0.9);
  CHECK(defaults.spec->config.backpressure_low == 0.7);

  ParseResult too_high = with(R"({"high_watermark":1.5})");
  REQUIRE(too_high.problems.size() == 1);
  CHECK(too_high.problems[0].path == "/pipeline_config/backpressure/high_watermark");
  CHECK(contains(too_high.problems[0].message, "1.5"));

  ParseResult inverted = with(R"({"high_watermark":0.5,"low_watermark":0.6})");
  REQUIRE(inverted.problems.size() == 1);
  CHECK(inverted.problems[0].path == "/pipeline_config/backpressure");

  ParseResult unknown = with(R"({"hi":0.5})");
  REQUIRE(unknown.problems.size() == 1);
  CHECK(contains(unknown.problems[0].message, "high_watermark, low_watermark"));
}

TEST_CASE("a pipeline of up to the node limit is valid, one node more is refused naming it",
          "[pipeline_spec]") {
  const auto fan_out = [](std::size_t nodes) {
    std::string text = R"({"nodes": [{"id": "osc", "type": "tone"})";
    std::string connections;
    for (std::size_t i = 1; i < nodes; ++i) {
      const std::string id = "k" + std::to_string(i);
      text += R"(, {"id": ")" + id + R"(", "type": "out"})";
      connections += std::string(i == 1 ? "" : ", ") + R"({"from": "osc", "to": ")" + id + "\"}";
    }
    return text + R"(], "connections": [)" + connections + "]}";
  };
  const std::size_t limit = limits::kMaxPipelineNodes;
  ParseResult at_limit = parse(fan_out(limit));
  INFO(describe(at_limit.problems));
  REQUIRE(at_limit.spec);
  CHECK(at_limit.spec->nodes.size() == limit);
  ParseResult over = parse(fan_out(limit + 1));
  REQUIRE(over.problems.size() == 1);
  CHECK(over.problems[0].path == "/nodes");
  CHECK_THAT(over.problems[0].message, Catch::Contains(std::to_string(limit + 1) + " nodes") &&
                                           Catch::Contains("limit of " + std::to_string(limit)));
}
