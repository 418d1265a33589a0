#include <catch2/catch.hpp>

#include <fstream>
#include <stdexcept>

#include "node_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

TEST_CASE("the builtin registry lists every node type, sorted", "[nodes][registry]") {
  std::vector<std::string> names;
  for (const NodeTypeSchema* schema : NodeRegistry::builtin().schemas())
    names.push_back(schema->type);
  CHECK(names == std::vector<std::string>{"audio_capture", "audio_playback", "constant",
                                          "dead_letter_source", "fault", "gain", "mix", "null_sink",
                                          "print", "sine", "wav_sink", "wav_source"});
  CHECK(NodeRegistry::builtin().find("sine") != nullptr);
  CHECK(NodeRegistry::builtin().find("saw") == nullptr);
}

TEST_CASE("node type shapes: sources, sinks and input counts", "[nodes][registry]") {
  auto schema = [](const char* name) { return NodeRegistry::builtin().find(name)->schema; };
  CHECK(schema("sine").is_source());
  CHECK(schema("wav_source").is_source());
  CHECK(schema("dead_letter_source").is_source());
  CHECK(schema("constant").is_source());
  for (const char* sink : {"wav_sink", "null_sink", "print"}) {
    INFO(sink);
    CHECK(schema(sink).is_sink());
    CHECK(schema(sink).min_inputs == 1);
    CHECK(schema(sink).max_inputs == 1);
  }
  for (const char* processor : {"gain", "fault"}) {
    INFO(processor);
    CHECK_FALSE(schema(processor).is_sink());
    CHECK_FALSE(schema(processor).is_source());
    CHECK(schema(processor).max_inputs == 1);
  }
}

TEST_CASE("every schema documents its fields and its defaults validate", "[nodes][registry]") {
  TempDir dir;
  // Required fields (file paths) need real values; everything else is default.
  const std::string existing = dir.file("in.wav");
  {
    BufferPool pool;
    auto sink = make_node("wav_sink", {{"path", existing}});
    FrameList none;
    REQUIRE(step(*sink, make_frame(pool, 0, 48000, 1, std::vector<float>(64, 0.0f)), none).is_ok());
    REQUIRE(sink->finish(none).is_ok());
  }
  // An empty file is a valid dead-letter file (with no letters in it).
  const std::string dead_letters = dir.file("empty.deadletters");
  { std::ofstream create(dead_letters); }
  for (const NodeTypeSchema* schema : NodeRegistry::builtin().schemas()) {
    INFO(schema->type);
    CHECK_FALSE(schema->summary.empty());
    json required = json::object();
    for (const FieldSpec& field : schema->fields) {
      INFO(field.name);
      CHECK_FALSE(field.help.empty());
      if (field.required()) {
        REQUIRE(field.path_check != PathCheck::none);
        required[field.name] = field.path_check == PathCheck::writable_file ? dir.file("out.wav")
                               : schema->type == "dead_letter_source"       ? dead_letters
                                                                            : existing;
      }
    }
    // The defaults, written out explicitly, pass the same validation a user's file does.
    const json config = with_defaults(*schema, required);
    CHECK(config.size() == schema->fields.size());
    Problems problems;
    validate_config(*schema, config, Problem{}, problems);
    INFO(describe(problems));
    CHECK(problems.empty());
    const NodeType* type = NodeRegistry::builtin().find(schema->type);
    REQUIRE(type != nullptr);
    // The audio types open a device when made: see the [audio] tests.
    if (schema->type.rfind("audio_", 0) == 0) continue;
    CHECK(type->make(config, NodeContext{}) != nullptr);
  }
}

TEST_CASE("registry rejects a duplicate name", "[nodes][registry]") {
  NodeRegistry registry;
  NodeType type;
  type.schema.type = "x";
  type.make = [](const json&, const NodeContext&) -> std::unique_ptr<Node> { return nullptr; };
  registry.add(type);
  CHECK_THROWS_AS(registry.add(type), std::invalid_argument);
  CHECK(registry.find("x") != nullptr);
  CHECK(registry.schemas().size() == 1);
}
