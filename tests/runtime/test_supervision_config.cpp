#include <catch2/catch.hpp>

#include <stdlib.h>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/pipeline_spec.hpp"
#include "runtime/supervision_config.hpp"

using namespace streamlab;

namespace {

// Stand-ins for real node types, so these tests do not depend on nodes/.
struct TestTypes {
  NodeTypeSchema tone, amp, out;
  std::vector<const NodeTypeSchema*> all;

  TestTypes() {
    tone.type = "tone";
    tone.min_inputs = tone.max_inputs = 0;
    amp.type = "amp";
    amp.fields = {FieldSpec{"gain", FieldType::number, "", 1.0, 0.0, 10.0, {}, PathCheck::none}};
    out.type = "out";
    out.has_output = false;
    all = {&tone, &amp, &out};
  }
};

ParseResult parse(const std::string& text, const std::string& file = "") {
  static const TestTypes types;
  return parse_pipeline(text, file, types.all);
}

std::string describe(const Problems& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p.to_string();
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// osc -> gain -> spk, each node's "supervision" (JSON text) given or left out.
std::string pipeline(const std::string& pipeline_config, const std::string& osc_sup = "",
                     const std::string& gain_sup = "", const std::string& spk_sup = "") {
  auto node = [](const std::string& id, const std::string& type, const std::string& sup) {
    return R"({"id": ")" + id + R"(", "type": ")" + type + "\"" +
           (sup.empty() ? "" : R"(, "supervision": )" + sup) + "}";
  };
  return "{" + (pipeline_config.empty() ? "" : R"("pipeline_config": )" + pipeline_config + ", ") +
         R"("nodes": [)" + node("osc", "tone", osc_sup) + ", " + node("gain", "amp", gain_sup) +
         ", " + node("spk", "out", spk_sup) + R"(], "connections": [)" +
         R"({"from": "osc", "to": "gain"}, {"from": "gain", "to": "spk"}]})";
}

struct BadCase {
  std::string supervision;  // JSON text
  std::string path;         // below ".../supervision"
  std::string fragment;     // of the message
};

// Each one is wrong in exactly one place, at either level.
std::vector<BadCase> bad_cases() {
  const std::string strategies = R"("never", "immediate", "exponential", "circuit_breaker")";
  const std::string restart_keys =
      "strategy, base_ms, max_ms, multiplier, jitter, reset_after_ms, failures, window_ms, "
      "open_ms, half_open_trials";
  return {
      {"3", "", R"("supervision" must be an object, got 3)"},
      {"[]", "", R"("supervision" must be an object, got [])"},
      {R"({"restarts": {}})", "/restarts",
       R"(unknown key "restarts" in "supervision" (allowed: restart, intensity, on_error, retry, )"
       "default_frame)"},
      {R"({"a/b": 1})", "/a~1b", R"(unknown key "a/b")"},
      {R"({"restart": 5})", "/restart",
       R"("restart" must be an object or a strategy name (one of )" + strategies + "), got 5"},
      {R"({"restart": "sometimes"})", "/restart",
       R"(unknown restart strategy "sometimes" (one of )" + strategies + ")"},
      {R"({"restart": {"strategy": "expo"}})", "/restart/strategy",
       R"("strategy" must be one of )" + strategies + R"(, got "expo")"},
      {R"({"restart": {"strategy": 1}})", "/restart/strategy", "got 1"},
      {R"({"restart": {"jiter": 0.1}})", "/restart/jiter",
       R"(unknown key "jiter" in "restart" (allowed: )" + restart_keys + ")"},
      {R"({"restart": {"base_ms": -1}})", "/restart/base_ms",
       R"("base_ms" must be an integer in [0, 3600000], got -1)"},
      {R"({"restart": {"base_ms": 3600001}})", "/restart/base_ms", "got 3600001"},
      {R"({"restart": {"base_ms": 1.5}})", "/restart/base_ms",
       "an integer in [0, 3600000], got 1.5"},
      {R"({"restart": {"base_ms": "10"}})", "/restart/base_ms", R"(got "10")"},
      {R"({"restart": {"max_ms": 86400001}})", "/restart/max_ms",
       R"("max_ms" must be an integer in [0, 86400000], got 86400001)"},
      {R"({"restart": {"base_ms": 100, "max_ms": 50}})", "/restart/max_ms",
       R"("max_ms" must be >= base_ms (100), got 50)"},
      {R"({"restart": {"max_ms": 5}})", "/restart/max_ms",
       R"("max_ms" must be >= base_ms (10, inherited), got 5)"},
      {R"({"restart": {"base_ms": 6000}})", "/restart/base_ms",
       R"("base_ms" must be <= max_ms (5000, inherited), got 6000)"},
      // The bad base_ms is reported; the pair it would have formed is not.
      {R"({"restart": {"base_ms": "x", "max_ms": 5}})", "/restart/base_ms", R"(got "x")"},
      {R"({"restart": {"multiplier": 0.5}})", "/restart/multiplier",
       R"("multiplier" must be a number in [1, 100], got 0.5)"},
      {R"({"restart": {"multiplier": 101}})", "/restart/multiplier", "got 101"},
      {R"({"restart": {"jitter": 1.5}})", "/restart/jitter",
       R"("jitter" must be a number in [0, 1], got 1.5)"},
      {R"({"restart": {"jitter": -0.1}})", "/restart/jitter", "got -0.1"},
      {R"({"restart": {"jitter": true}})", "/restart/jitter", "got true"},
      {R"({"restart": {"reset_after_ms": 86400001}})", "/restart/reset_after_ms",
       R"("reset_after_ms" must be an integer in [0, 86400000], got 86400001)"},
      {R"({"restart": {"reset_after_ms": -1}})", "/restart/reset_after_ms", "got -1"},
      {R"({"restart": {"failures": 0}})", "/restart/failures",
       R"("failures" must be an integer in [1, 1000000], got 0)"},
      {R"({"restart": {"failures": 2.5}})", "/restart/failures", "got 2.5"},
      {R"({"restart": {"failures": 1000001}})", "/restart/failures", "got 1000001"},
      {R"({"restart": {"window_ms": 0}})", "/restart/window_ms",
       R"("window_ms" must be an integer in (0, 86400000], got 0)"},
      {R"({"restart": {"open_ms": -1}})", "/restart/open_ms",
       R"("open_ms" must be an integer in [0, 86400000], got -1)"},
      {R"({"restart": {"half_open_trials": 0}})", "/restart/half_open_trials",
       R"("half_open_trials" must be an integer in [1, 1000000], got 0)"},
      {R"({"intensity": 3})", "/intensity", R"("intensity" must be an object, got 3)"},
      {R"({"intensity": {"max_restarts": -1}})", "/intensity/max_restarts",
       R"("max_restarts" must be an integer in [0, 1000000], got -1)"},
      {R"({"intensity": {"max_restarts": 1000001}})", "/intensity/max_restarts", "got 1000001"},
      {R"({"intensity": {"within_ms": 0}})", "/intensity/within_ms",
       R"("within_ms" must be an integer in (0, 86400000], got 0)"},
      {R"({"intensity": {"max": 1}})", "/intensity/max",
       R"(unknown key "max" in "intensity" (allowed: max_restarts, within_ms, give_up_after_ms))"},
      {R"({"intensity": {"give_up_after_ms": -1}})", "/intensity/give_up_after_ms",
       R"("give_up_after_ms" must be an integer in [0, 86400000], got -1)"},
      {R"({"intensity": {"give_up_after_ms": 1.5}})", "/intensity/give_up_after_ms", "got 1.5"},
      {R"({"on_error": "ignore"})", "/on_error",
       R"("on_error" must be one of "propagate", "skip", "default", "retry", got "ignore")"},
      {R"({"on_error": "default_frame"})", "/on_error", R"(got "default_frame")"},
      {R"({"on_error": 3})", "/on_error", "got 3"},
      {R"({"retry": []})", "/retry", R"("retry" must be an object, got [])"},
      {R"({"retry": {"attempts": 101}})", "/retry/attempts",
       R"("attempts" must be an integer in [0, 100], got 101)"},
      {R"({"retry": {"attempts": -1}})", "/retry/attempts", "got -1"},
      {R"({"retry": {"backoff_ms": 60001}})", "/retry/backoff_ms",
       R"("backoff_ms" must be an integer in [0, 60000], got 60001)"},
      {R"({"retry": {"tries": 2}})", "/retry/tries",
       R"(unknown key "tries" in "retry" (allowed: attempts, backoff_ms))"},
      {R"({"default_frame": 0})", "/default_frame", R"("default_frame" must be an object, got 0)"},
      {R"({"default_frame": {"value": "x"}})", "/default_frame/value",
       R"("value" must be a finite number, got "x")"},
      {R"({"default_frame": {"value": null}})", "/default_frame/value", "got null"},
      {R"({"default_frame": {"val": 1}})", "/default_frame/val",
       R"(unknown key "val" in "default_frame" (allowed: value))"},
  };
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/streamlab-supervision-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

const Problem kNodeWhere{"p.json", "/nodes/1/supervision", "amp", ""};
const Problem kPipelineWhere{"p.json", "/pipeline_config/supervision", "", ""};

}  // namespace

TEST_CASE("the built-in supervision defaults are the safe ones", "[supervision_config]") {
  Problems problems;
  SupervisionConfig c = resolve_supervision(json(), json(), kNodeWhere, kPipelineWhere, problems);
  CHECK(problems.empty());
  CHECK(c.restart.strategy == RestartKind::exponential);
  CHECK(c.restart.base_ms == 10);
  CHECK(c.restart.max_ms == 5000);
  CHECK(c.restart.multiplier == 2.0);
  CHECK(c.restart.jitter == 0.2);
  CHECK(c.restart.reset_after_ms == 30000);
  CHECK(c.restart.failures == 5);
  CHECK(c.restart.window_ms == 10000);
  CHECK(c.restart.open_ms == 2000);
  CHECK(c.restart.half_open_trials == 1);
  CHECK(c.intensity.max_restarts == 10);
  CHECK(c.intensity.within_ms == 5000);
  CHECK(c.intensity.give_up_after_ms == 10000);
  CHECK(c.on_error == ErrorPolicy::propagate);
  CHECK(c.retry.attempts == 3);
  CHECK(c.retry.backoff_ms == 5);
  CHECK(c.default_value == 0.0);

  CHECK(to_json(c) == json::parse(R"({
    "restart": {"strategy": "exponential", "base_ms": 10, "max_ms": 5000, "multiplier": 2.0,
                "jitter": 0.2, "reset_after_ms": 30000, "failures": 5, "window_ms": 10000,
                "open_ms": 2000, "half_open_trials": 1},
    "intensity": {"max_restarts": 10, "within_ms": 5000, "give_up_after_ms": 10000},
    "on_error": "propagate",
    "retry": {"attempts": 3, "backoff_ms": 5},
    "default_frame": {"value": 0.0}})"));

  // An empty object is the same as nothing.
  CHECK(to_json(resolve_supervision(json::object(), json::object(), kNodeWhere, kPipelineWhere,
                                    problems)) == to_json(c));
  CHECK(problems.empty());
}

TEST_CASE("node settings win over pipeline settings, field by field", "[supervision_config]") {
  const json pipeline_level = json::parse(R"({
    "restart": {"strategy": "circuit_breaker", "failures": 3, "open_ms": 500},
    "intensity": {"max_restarts": 4},
    "on_error": "retry",
    "retry": {"attempts": 7}})");
  Problems problems;

  SECTION("a node giving only on_error keeps the pipeline's restart settings") {
    auto c = resolve_supervision(json{{"on_error", "skip"}}, pipeline_level, kNodeWhere,
                                 kPipelineWhere, problems);
    CHECK(c.on_error == ErrorPolicy::skip);
    CHECK(c.restart.strategy == RestartKind::circuit_breaker);
    CHECK(c.restart.failures == 3);
    CHECK(c.restart.open_ms == 500);
    CHECK(c.restart.window_ms == 10000);  // built-in: neither level gives it
    CHECK(c.intensity.max_restarts == 4);
    CHECK(c.intensity.within_ms == 5000);
    CHECK(c.retry.attempts == 7);
    CHECK(c.retry.backoff_ms == 5);
  }
  SECTION("inside one object too") {
    auto c = resolve_supervision(
        json::parse(R"({"restart": {"failures": 9}, "intensity": {"within_ms": 100},
                        "retry": {"backoff_ms": 1}, "default_frame": {"value": -0.5}})"),
        pipeline_level, kNodeWhere, kPipelineWhere, problems);
    CHECK(c.restart.strategy == RestartKind::circuit_breaker);
    CHECK(c.restart.failures == 9);
    CHECK(c.restart.open_ms == 500);
    CHECK(c.intensity.max_restarts == 4);
    CHECK(c.intensity.within_ms == 100);
    CHECK(c.on_error == ErrorPolicy::retry);
    CHECK(c.retry.attempts == 7);
    CHECK(c.retry.backoff_ms == 1);
    CHECK(c.default_value == -0.5);
  }
  SECTION("a strategy name alone is short for {\"strategy\": name}") {
    auto c = resolve_supervision(json{{"restart", "immediate"}}, pipeline_level, kNodeWhere,
                                 kPipelineWhere, problems);
    CHECK(c.restart.strategy == RestartKind::immediate);
    CHECK(c.restart.failures == 3);
  }
  SECTION("without node settings the pipeline's apply") {
    auto c = resolve_supervision(json(), pipeline_level, kNodeWhere, kPipelineWhere, problems);
    CHECK(c.restart.strategy == RestartKind::circuit_breaker);
    CHECK(c.on_error == ErrorPolicy::retry);
  }
  CHECK(problems.empty());
}

TEST_CASE("every strategy and error policy is read by its file name", "[supervision_config]") {
  const std::pair<const char*, RestartKind> kinds[] = {
      {"never", RestartKind::never},
      {"immediate", RestartKind::immediate},
      {"exponential", RestartKind::exponential},
      {"circuit_breaker", RestartKind::circuit_breaker}};
  for (const auto& [name, kind] : kinds) {
    Problems problems;
    auto c = resolve_supervision(json{{"restart", {{"strategy", name}}}}, json(), kNodeWhere,
                                 kPipelineWhere, problems);
    CHECK(problems.empty());
    CHECK(c.restart.strategy == kind);
    CHECK(to_string(kind) == name);
  }
  const std::pair<const char*, ErrorPolicy> policies[] = {{"propagate", ErrorPolicy::propagate},
                                                          {"skip", ErrorPolicy::skip},
                                                          {"default", ErrorPolicy::default_frame},
                                                          {"retry", ErrorPolicy::retry}};
  for (const auto& [name, policy] : policies) {
    Problems problems;
    auto c =
        resolve_supervision(json{{"on_error", name}}, json(), kNodeWhere, kPipelineWhere, problems);
    CHECK(problems.empty());
    CHECK(c.on_error == policy);
    CHECK(to_string(policy) == name);
  }
}

TEST_CASE("to_json gives back the same configuration when read again", "[supervision_config]") {
  Problems problems;
  auto c = resolve_supervision(json::parse(R"({
    "restart": {"strategy": "circuit_breaker", "base_ms": 3, "max_ms": 70, "multiplier": 1.5,
                "jitter": 0, "reset_after_ms": 0, "failures": 2, "window_ms": 1, "open_ms": 0,
                "half_open_trials": 4},
    "intensity": {"max_restarts": 0, "within_ms": 86400000, "give_up_after_ms": 0},
    "on_error": "default", "retry": {"attempts": 0, "backoff_ms": 60000},
    "default_frame": {"value": 0.25}})"),
                               json(), kNodeWhere, kPipelineWhere, problems);
  REQUIRE(problems.empty());
  json written = to_json(c);
  CHECK(written["restart"]["multiplier"] == 1.5);
  CHECK(written["on_error"] == "default");
  auto again = merge_supervision(written, SupervisionConfig{}, kNodeWhere, problems);
  CHECK(problems.empty());
  CHECK(to_json(again) == written);
}

TEST_CASE("a rejected field keeps its inherited value", "[supervision_config]") {
  Problems problems;
  auto c = resolve_supervision(
      json::parse(R"({"restart": {"jitter": 2, "multiplier": 3}, "on_error": "x"})"),
      json::parse(R"({"restart": {"jitter": 0.5}, "on_error": "skip"})"), kNodeWhere,
      kPipelineWhere, problems);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].path == "/nodes/1/supervision/restart/jitter");
  CHECK(problems[0].node_id == "amp");
  CHECK(problems[0].file == "p.json");
  CHECK(problems[1].path == "/nodes/1/supervision/on_error");
  CHECK(c.restart.jitter == 0.5);
  CHECK(c.restart.multiplier == 3.0);
  CHECK(c.on_error == ErrorPolicy::skip);
}

TEST_CASE("each bad supervision value is reported once, at its exact path",
          "[supervision_config]") {
  for (const auto& c : bad_cases()) {
    for (bool node_level : {true, false}) {
      const std::string text = node_level ? pipeline("", "", "", c.supervision)
                                          : pipeline(R"({"supervision": )" + c.supervision + "}");
      INFO((node_level ? "node level: " : "pipeline level: ") << c.supervision);
      auto result = parse(text, "bad.json");
      INFO("problems:" << describe(result.problems));
      CHECK_FALSE(result.spec.has_value());
      REQUIRE(result.problems.size() == 1);
      const auto& p = result.problems[0];
      CHECK(p.file == "bad.json");
      CHECK(p.path ==
            (node_level ? "/nodes/2/supervision" : "/pipeline_config/supervision") + c.path);
      CHECK(p.node_id == (node_level ? "spk" : ""));
      CHECK(contains(p.message, c.fragment));
    }
  }
}

TEST_CASE("parse_pipeline resolves every node's supervision", "[supervision_config]") {
  auto result = parse(pipeline(R"({"supervision": {"restart": {"strategy": "immediate"},
                                                   "on_error": "skip"}})",
                               "", R"({"on_error": "default", "default_frame": {"value": 1}})",
                               R"({"restart": "never"})"));
  INFO(describe(result.problems));
  REQUIRE(result.spec.has_value());
  const auto& spec = *result.spec;
  CHECK(spec.config.supervision.restart.strategy == RestartKind::immediate);
  CHECK(spec.config.supervision.on_error == ErrorPolicy::skip);

  const auto& osc = spec.nodes[0];
  CHECK(osc.supervision.is_null());
  CHECK(to_json(osc.supervision_config) == to_json(spec.config.supervision));

  const auto& gain = spec.nodes[1];
  CHECK(gain.supervision ==
        json::parse(R"({"on_error": "default", "default_frame": {"value": 1}})"));
  CHECK(gain.supervision_config.restart.strategy == RestartKind::immediate);
  CHECK(gain.supervision_config.on_error == ErrorPolicy::default_frame);
  CHECK(gain.supervision_config.default_value == 1.0);

  const auto& spk = spec.nodes[2];
  CHECK(spk.supervision_config.restart.strategy == RestartKind::never);
  CHECK(spk.supervision_config.on_error == ErrorPolicy::skip);
}

TEST_CASE("without any supervision every node gets the built-in defaults", "[supervision_config]") {
  auto result = parse(pipeline(""));
  REQUIRE(result.spec.has_value());
  const json defaults = to_json(SupervisionConfig{});
  CHECK(to_json(result.spec->config.supervision) == defaults);
  for (const auto& node : result.spec->nodes) CHECK(to_json(node.supervision_config) == defaults);
  CHECK(result.spec->config.dead_letter_path.empty());
}

TEST_CASE("supervision problems are reported with all the others, the pipeline's once",
          "[supervision_config]") {
  auto result = parse(R"({
    "pipeline_config": {"supervision": {"intensity": {"max_restarts": -3}}, "channel_capacity": 0},
    "nodes": [
      {"id": "osc", "type": "tone", "supervision": {"on_error": "explode"}},
      {"id": "gain", "type": "amp", "config": {"gain": 99}},
      {"id": "spk", "type": "out", "supervision": {"restart": {"window_ms": -5}}}
    ],
    "connections": [{"from": "osc", "to": "gain"}, {"from": "gain", "to": "spk"}]})",
                      "all.json");
  INFO(describe(result.problems));
  CHECK_FALSE(result.spec.has_value());
  REQUIRE(result.problems.size() == 5);
  CHECK(result.problems[0].path == "/pipeline_config/channel_capacity");
  CHECK(result.problems[1].path == "/pipeline_config/supervision/intensity/max_restarts");
  CHECK(result.problems[1].node_id.empty());
  CHECK(result.problems[2].path == "/nodes/0/supervision/on_error");
  CHECK(result.problems[2].node_id == "osc");
  CHECK(result.problems[3].path == "/nodes/1/config/gain");
  CHECK(result.problems[4].path == "/nodes/2/supervision/restart/window_ms");
  CHECK(result.problems[4].node_id == "spk");
}

TEST_CASE("dead_letter_path names a file in an existing directory", "[supervision_config]") {
  TempDir dir;
  auto with_path = [](const std::string& value) {
    return pipeline(R"({"dead_letter_path": )" + value + "}");
  };

  auto ok = parse(with_path("\"" + dir.path + "/dead.jsonl\""));
  INFO(describe(ok.problems));
  REQUIRE(ok.spec.has_value());
  CHECK(ok.spec->config.dead_letter_path == dir.path + "/dead.jsonl");
  CHECK(ok.spec->config.raw["dead_letter_path"] == dir.path + "/dead.jsonl");

  auto relative = parse(with_path(R"("dead.jsonl")"));  // in the working directory
  INFO(describe(relative.problems));
  REQUIRE(relative.spec.has_value());
  CHECK(relative.spec->config.dead_letter_path == "dead.jsonl");

  struct Case {
    std::string value;
    std::string fragment;
  };
  const Case cases[] = {
      {"3", R"("dead_letter_path" must be a string (a file path), got 3)"},
      {R"("")", R"("dead_letter_path" must not be empty)"},
      {"\"" + dir.path + "/missing/dead.jsonl\"",
       "directory \"" + dir.path + "/missing\" of \"dead_letter_path\" \"" + dir.path +
           "/missing/dead.jsonl\" does not exist"},
      {"\"" + dir.path + "\"", "\"" + dir.path + "\" is a directory; it must name a file"},
  };
  for (const auto& c : cases) {
    INFO(c.value);
    auto result = parse(with_path(c.value), "dl.json");
    INFO(describe(result.problems));
    CHECK_FALSE(result.spec.has_value());
    REQUIRE(result.problems.size() == 1);
    CHECK(result.problems[0].path == "/pipeline_config/dead_letter_path");
    CHECK(result.problems[0].node_id.empty());
    CHECK(result.problems[0].file == "dl.json");
    CHECK(contains(result.problems[0].message, c.fragment));
  }
}

TEST_CASE("a frame's retries back off doubling, then it is dead-lettered", "[supervision_config]") {
  RetryConfig retry;  // 3 attempts, 5 ms
  CHECK(retry.next_retry_delay_ns(0) == 5 * kNsPerMs);
  CHECK(retry.next_retry_delay_ns(1) == 10 * kNsPerMs);
  CHECK(retry.next_retry_delay_ns(2) == 20 * kNsPerMs);
  CHECK_FALSE(retry.next_retry_delay_ns(3).has_value());
  CHECK_FALSE(retry.next_retry_delay_ns(4).has_value());

  retry.attempts = 0;
  CHECK_FALSE(retry.next_retry_delay_ns(0).has_value());

  retry.attempts = 100;
  retry.backoff_ms = 0;
  CHECK(retry.next_retry_delay_ns(99) == 0);

  retry.backoff_ms = 60000;  // the largest allowed, and the cap
  CHECK(retry.next_retry_delay_ns(0) == 60000 * kNsPerMs);
  CHECK(retry.next_retry_delay_ns(99) == 60000 * kNsPerMs);

  retry.backoff_ms = 1000;  // 2^99 would overflow; the cap holds first
  CHECK(retry.next_retry_delay_ns(5) == 32000 * kNsPerMs);
  CHECK(retry.next_retry_delay_ns(6) == RetryConfig::kMaxDelayMs * kNsPerMs);
  CHECK(retry.next_retry_delay_ns(99) == RetryConfig::kMaxDelayMs * kNsPerMs);
}
