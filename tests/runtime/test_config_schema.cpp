#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/config_schema.hpp"

using namespace streamlab;

namespace {

NodeTypeSchema make_schema() {
  NodeTypeSchema s;
  s.type = "osc";
  FieldSpec freq{"frequency", FieldType::number, "Hz", 440.0, 1.0, 20000.0, {}, PathCheck::none};
  FieldSpec channels{"channels", FieldType::integer, "", 1, 1.0, 8.0, {}, PathCheck::none};
  FieldSpec loop{"loop",       FieldType::boolean, "", false,
                 std::nullopt, std::nullopt,       {}, PathCheck::none};
  FieldSpec shape{
      "shape",        FieldType::choice, "", "sine", std::nullopt, std::nullopt, {"sine", "square"},
      PathCheck::none};
  FieldSpec label{"label", FieldType::string, "display name", json(), std::nullopt, std::nullopt,
                  {},      PathCheck::none};
  s.fields = {freq, channels, loop, shape, label};
  return s;
}

NodeTypeSchema path_schema(PathCheck check) {
  NodeTypeSchema s;
  s.type = "file";
  s.fields = {
      FieldSpec{"path", FieldType::string, "", json(), std::nullopt, std::nullopt, {}, check}};
  return s;
}

const Problem kWhere{"pipe.json", "/nodes/3/config", "osc1", ""};

Problems validate(const NodeTypeSchema& schema, const json& config) {
  Problems problems;
  validate_config(schema, config, kWhere, problems);
  return problems;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/streamlab-schema-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("a complete valid config has no problems", "[config_schema]") {
  auto problems = validate(
      make_schema(),
      {{"frequency", 1000}, {"channels", 2}, {"loop", true}, {"shape", "square"}, {"label", "a"}});
  CHECK(problems.empty());
}

TEST_CASE("each kind of bad value is reported at its field", "[config_schema]") {
  const auto schema = make_schema();
  struct Case {
    json config;
    std::string path;
    std::string fragment;
  };
  const Case cases[] = {
      {{{"label", "x"}, {"volume", 3}}, "/nodes/3/config/volume", "unknown field \"volume\""},
      {{{"label", "x"}, {"frequency", "loud"}},
       "/nodes/3/config/frequency",
       "\"frequency\" must be a number, got \"loud\""},
      {{{"label", "x"}, {"channels", 1.5}},
       "/nodes/3/config/channels",
       "\"channels\" must be an integer, got 1.5"},
      {{{"label", "x"}, {"loop", 1}}, "/nodes/3/config/loop", "\"loop\" must be a boolean"},
      {{{"label", "x"}, {"frequency", 30000}},
       "/nodes/3/config/frequency",
       "must be in [1, 20000], got 30000"},
      {{{"label", "x"}, {"channels", 0}}, "/nodes/3/config/channels", "got 0"},
      {{{"label", "x"}, {"shape", "saw"}},
       "/nodes/3/config/shape",
       "one of \"sine\", \"square\", got \"saw\""},
      {json::object(), "/nodes/3/config/label", "missing required field \"label\""},
      {json::array(), "/nodes/3/config", "\"config\" must be an object"},
  };
  for (const auto& c : cases) {
    INFO("config " << c.config.dump());
    auto problems = validate(schema, c.config);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == c.path);
    CHECK(problems[0].file == "pipe.json");
    CHECK(problems[0].node_id == "osc1");
    CHECK(contains(problems[0].message, c.fragment));
  }
}

TEST_CASE("an unknown field message lists the known fields", "[config_schema]") {
  auto problems = validate(make_schema(), {{"label", "x"}, {"freq", 3}});
  REQUIRE(problems.size() == 1);
  CHECK(contains(problems[0].message, "known: frequency, channels, loop, shape, label"));
}

TEST_CASE("every bad field is reported, not just the first", "[config_schema]") {
  auto problems = validate(make_schema(), {{"frequency", -1}, {"shape", 3}, {"extra", 0}});
  CHECK(problems.size() == 4);  // frequency, shape, extra, missing label
}

TEST_CASE("null config means all defaults and required fields missing", "[config_schema]") {
  auto problems = validate(make_schema(), json());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "/nodes/3/config/label");
}

TEST_CASE("with_defaults fills optional fields and keeps given ones", "[config_schema]") {
  json filled = with_defaults(make_schema(), {{"frequency", 1000}, {"label", "a"}});
  CHECK(filled["frequency"] == 1000);
  CHECK(filled["channels"] == 1);
  CHECK(filled["loop"] == false);
  CHECK(filled["shape"] == "sine");
  CHECK(filled["label"] == "a");
  CHECK_FALSE(with_defaults(make_schema(), json()).contains("label"));
}

TEST_CASE("cross-field checks run only once each field is valid", "[config_schema]") {
  auto schema = make_schema();
  int calls = 0;
  schema.cross_check = [&calls](const json& config, const auto& report) {
    ++calls;
    if (config["channels"].get<int>() > 2 && config["shape"] == "square")
      report("channels", "square supports at most 2 channels");
  };
  auto problems = validate(schema, {{"label", "x"}, {"channels", 4}, {"shape", "square"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "/nodes/3/config/channels");
  CHECK(calls == 1);

  validate(schema, {{"label", "x"}, {"channels", 40}});
  CHECK(calls == 1);
}

TEST_CASE("readable_file paths must exist and be files", "[config_schema]") {
  TempDir dir;
  const auto schema = path_schema(PathCheck::readable_file);
  const std::string file = dir.path + "/in.wav";
  std::ofstream(file) << "RIFF";

  CHECK(validate(schema, {{"path", file}}).empty());

  auto missing = validate(schema, {{"path", dir.path + "/nope.wav"}});
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].path == "/nodes/3/config/path");
  CHECK(contains(missing[0].message, "nope.wav\" does not exist"));

  auto is_dir = validate(schema, {{"path", dir.path}});
  REQUIRE(is_dir.size() == 1);
  CHECK(contains(is_dir[0].message, "is a directory"));

  if (geteuid() != 0) {  // root reads everything
    std::ofstream(dir.path + "/secret.wav") << "x";
    REQUIRE(chmod((dir.path + "/secret.wav").c_str(), 0) == 0);
    auto unreadable = validate(schema, {{"path", dir.path + "/secret.wav"}});
    REQUIRE(unreadable.size() == 1);
    CHECK(contains(unreadable[0].message, "is not readable"));
  }
}

TEST_CASE("writable_file paths need an existing directory", "[config_schema]") {
  TempDir dir;
  const auto schema = path_schema(PathCheck::writable_file);

  CHECK(validate(schema, {{"path", dir.path + "/out.wav"}}).empty());

  auto problems = validate(schema, {{"path", dir.path + "/missing/out.wav"}});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "/nodes/3/config/path");
  CHECK(contains(problems[0].message, "directory \"" + dir.path + "/missing\""));
  CHECK(contains(problems[0].message, "does not exist"));

  auto empty = validate(schema, {{"path", ""}});
  REQUIRE(empty.size() == 1);
  CHECK(contains(empty[0].message, "must not be empty"));
}

TEST_CASE("describe_constraints names bounds and choices", "[config_schema]") {
  auto schema = make_schema();
  CHECK(describe_constraints(schema.fields[0]) == "in [1, 20000]");
  CHECK(describe_constraints(schema.fields[3]) == "one of \"sine\", \"square\"");
  CHECK(describe_constraints(schema.fields[4]).empty());
}
