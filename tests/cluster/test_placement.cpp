// Placement of a pipeline's nodes over cluster members: pins, chains kept
// together, the least loaded member for free sources, admission control,
// and the problems reported for what cannot be placed.

#include <catch2/catch.hpp>

#include "cluster/placement.hpp"
#include "nodes/registry.hpp"

using namespace streamlab;

namespace {

PipelineSpec parse(const std::string& text) {
  ParseResult parsed = parse_pipeline(text, "p.json", NodeRegistry::builtin().schemas());
  std::string problems;
  for (const auto& p : parsed.problems) problems += p.to_string() + "\n";
  INFO(problems);
  REQUIRE(parsed.spec);
  return *parsed.spec;
}

// src -> dsp -> sink, with optional pins.
PipelineSpec chain(const std::string& src_on = "", const std::string& dsp_on = "",
                   const std::string& sink_on = "") {
  auto on = [](const std::string& m) { return m.empty() ? "" : R"(,"on":")" + m + "\""; };
  return parse(R"({"name":"p","nodes":[{"id":"src","type":"sine")" + on(src_on) +
               R"(},{"id":"dsp","type":"gain")" + on(dsp_on) +
               R"(},{"id":"sink","type":"null_sink")" + on(sink_on) +
               R"(}],"connections":[{"from":"src","to":"dsp"},{"from":"dsp","to":"sink"}]})");
}

std::vector<std::string> names(const Placement& p, const std::vector<MemberLoad>& members) {
  std::vector<std::string> out;
  for (auto m : p.member_of) out.push_back(m < members.size() ? members[m].name : "?");
  return out;
}

}  // namespace

TEST_CASE("pinned nodes run where they are pinned", "[cluster][placement]") {
  std::vector<MemberLoad> members{{"a"}, {"b"}, {"c"}};
  Placement p = place_pipeline(chain("a", "b", "c"), members);
  CHECK(p.problems.empty());
  CHECK(names(p, members) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("a chain stays with its source, which goes to the least loaded member",
          "[cluster][placement]") {
  std::vector<MemberLoad> members{{"a", 2, 9, 0}, {"b", 1, 2, 0}, {"c", 1, 5, 0}};
  Placement p = place_pipeline(chain(), members);
  CHECK(p.problems.empty());
  CHECK(names(p, members) == std::vector<std::string>{"b", "b", "b"});

  // Pinning the source pulls the rest of the chain along.
  p = place_pipeline(chain("c"), members);
  CHECK(names(p, members) == std::vector<std::string>{"c", "c", "c"});
  // A pin in the middle moves what follows it.
  p = place_pipeline(chain("", "a"), members);
  CHECK(names(p, members) == std::vector<std::string>{"b", "a", "a"});
}

TEST_CASE("admission control: full members take no new pipeline", "[cluster][placement]") {
  std::vector<MemberLoad> members{{"a", 2, 6, 2}, {"b", 1, 3, 0}};
  // The chain avoids the full member.
  Placement p = place_pipeline(chain(), members);
  CHECK(p.problems.empty());
  CHECK(names(p, members) == std::vector<std::string>{"b", "b", "b"});

  p = place_pipeline(chain("", "a"), members);
  REQUIRE(p.problems.size() == 1);
  CHECK(p.problems[0].to_string() ==
        "p.json: /nodes/1/on (node \"dsp\"): member \"a\" already runs 2 pipelines, its limit "
        "(--max-pipelines 2)");

  members[1].max_pipelines = 1;
  p = place_pipeline(chain(), members);
  REQUIRE_FALSE(p.problems.empty());
  CHECK_THAT(p.problems[0].to_string(),
             Catch::Contains("no member admits another pipeline (a 2/2, b 1/1)"));
}

TEST_CASE("unknown members are reported with the members there are", "[cluster][placement]") {
  std::vector<MemberLoad> members{{"a"}, {"b"}};
  Placement p = place_pipeline(chain("x", "", "y"), members);
  REQUIRE(p.problems.size() == 2);
  CHECK(p.problems[0].to_string() ==
        "p.json: /nodes/0/on (node \"src\"): unknown member \"x\" (members: a, b)");
  CHECK(p.problems[1].to_string() ==
        "p.json: /nodes/2/on (node \"sink\"): unknown member \"y\" (members: a, b)");
}
