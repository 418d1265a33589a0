// Liveness and readiness decided from a snapshot, and their two wire forms
// (Kubernetes plain text, JSON), without any server.

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "runtime/health.hpp"

using namespace streamlab;

namespace {

MetricsSnapshot with_pipelines(std::initializer_list<PipelineStatus> pipelines) {
  MetricsSnapshot snapshot;
  snapshot.process = "local";
  snapshot.pipelines = pipelines;
  return snapshot;
}

}  // namespace

TEST_CASE("a process that answers is live; one that does not is not") {
  const auto live = evaluate_liveness(MetricsSnapshot{});
  CHECK(live.up());
  CHECK(live.probe == "livez");
  REQUIRE(live.checks.size() == 1);
  CHECK(live.checks[0].name == "monitor");
  CHECK(live.checks[0].status == HealthStatus::up);
  CHECK(live.checks[0].reason.empty());

  const auto dead = evaluate_liveness(std::nullopt);
  CHECK_FALSE(dead.up());
  REQUIRE(dead.checks.size() == 1);
  CHECK(dead.checks[0].status == HealthStatus::down);
  CHECK(dead.checks[0].reason == "no metrics snapshot within the provider's timeout");
}

TEST_CASE("liveness does not depend on the pipelines") {
  const auto snapshot = with_pipelines({{"demo", "failed", "node \"x\" failed: boom"}});
  CHECK(evaluate_liveness(snapshot).up());
}

TEST_CASE("a process without pipelines is ready") {
  const auto report = evaluate_readiness(with_pipelines({}));
  CHECK(report.up());
  CHECK(report.probe == "readyz");
  REQUIRE(report.checks.size() == 1);
  CHECK(report.checks[0].name == "monitor");
}

TEST_CASE("running and finished pipelines are ready") {
  const auto report =
      evaluate_readiness(with_pipelines({{"live", "running", ""}, {"batch", "finished", ""}}));
  CHECK(report.up());
  REQUIRE(report.checks.size() == 3);
  CHECK(report.checks[1].name == "pipeline live");
  CHECK(report.checks[1].status == HealthStatus::up);
  CHECK(report.checks[2].name == "pipeline batch");
  CHECK(report.checks[2].status == HealthStatus::up);
}

TEST_CASE("one degraded or failed pipeline makes the process not ready, and says why") {
  const auto report = evaluate_readiness(with_pipelines({
      {"ok", "running", ""},
      {"limping", "degraded", "node \"eq\" failed: bad coefficient"},
      {"dead", "failed", "node \"x\" failed: boom"},
      {"silent", "failed", ""},
      {"odd", "", ""},
  }));
  CHECK_FALSE(report.up());
  REQUIRE(report.checks.size() == 6);
  CHECK(report.checks[1].status == HealthStatus::up);
  CHECK(report.checks[2].status == HealthStatus::down);
  CHECK(report.checks[2].reason == "degraded: node \"eq\" failed: bad coefficient");
  // "failed" is already what the check line says; the reason is the pipeline's own.
  CHECK(report.checks[3].reason == "node \"x\" failed: boom");
  CHECK(report.checks[4].reason == "failed");
  CHECK(report.checks[5].status == HealthStatus::down);
  CHECK(report.checks[5].reason == "state unknown");
}

TEST_CASE("a pipeline kept only for its final figures does not decide readiness") {
  // A member keeps an ended pipeline's series for a while (/metrics); that
  // it ended failed says nothing about the member's readiness now.
  MetricsSnapshot snapshot = with_pipelines({{"live", "running", ""}});
  snapshot.pipelines.push_back({"old", "failed", "node \"x\" failed: boom", true});
  const auto report = evaluate_readiness(snapshot);
  CHECK(report.up());
  REQUIRE(report.checks.size() == 2);
  CHECK(report.checks[1].name == "pipeline live");
}

TEST_CASE("without a snapshot the process is not ready") {
  const auto report = evaluate_readiness(std::optional<MetricsSnapshot>());
  CHECK_FALSE(report.up());
  CHECK(report.probe == "readyz");
  REQUIRE(report.checks.size() == 1);
  CHECK(report.checks[0].name == "monitor");
  CHECK(report.checks[0].status == HealthStatus::down);

  CHECK(evaluate_readiness(std::optional<MetricsSnapshot>(with_pipelines({}))).up());
}

TEST_CASE("plain text follows the Kubernetes /readyz format") {
  const auto up = evaluate_readiness(with_pipelines({{"demo", "running", ""}}));
  CHECK(to_plain_text(up, false) == "ok\n");
  CHECK(to_plain_text(up, true) == "[+]monitor ok\n[+]pipeline demo ok\nreadyz check passed\n");

  const auto down = evaluate_readiness(
      with_pipelines({{"demo", "failed", "node \"x\" failed: boom"}, {"other", "running", ""}}));
  CHECK(to_plain_text(down, true) ==
        "[+]monitor ok\n"
        "[-]pipeline demo failed: node \"x\" failed: boom\n"
        "[+]pipeline other ok\n"
        "readyz check failed\n");
  // Without ?verbose a failure still says what failed, and only that.
  CHECK(to_plain_text(down, false) ==
        "[-]pipeline demo failed: node \"x\" failed: boom\nreadyz check failed\n");

  CHECK(to_plain_text(evaluate_liveness(std::nullopt), false) ==
        "[-]monitor failed: no metrics snapshot within the provider's timeout\n"
        "livez check failed\n");
  CHECK(to_plain_text(evaluate_liveness(MetricsSnapshot{}), true) ==
        "[+]monitor ok\nlivez check passed\n");
}

TEST_CASE("user text cannot break the one-check-per-line format") {
  const auto report =
      evaluate_readiness(with_pipelines({{"two\nlines", "failed", "line one\r\nline\ttwo"}}));
  CHECK(to_plain_text(report, true) ==
        "[+]monitor ok\n"
        "[-]pipeline two\\nlines failed: line one\\r\\nline two\n"
        "readyz check failed\n");
}

TEST_CASE("JSON has the status and every check with name, status and reason") {
  const auto down = evaluate_readiness(
      with_pipelines({{"demo", "degraded", "node \"x\" failed: boom"}, {"other", "running", ""}}));
  const auto json = to_json(down);
  CHECK(json == nlohmann::json::parse(R"({"status":"DOWN","checks":[
      {"name":"monitor","status":"UP","reason":""},
      {"name":"pipeline demo","status":"DOWN","reason":"degraded: node \"x\" failed: boom"},
      {"name":"pipeline other","status":"UP","reason":""}]})"));

  CHECK(to_json(evaluate_liveness(MetricsSnapshot{})) ==
        nlohmann::json::parse(
            R"({"status":"UP","checks":[{"name":"monitor","status":"UP","reason":""}]})"));
  CHECK(std::string(to_string(HealthStatus::up)) == "UP");
  CHECK(std::string(to_string(HealthStatus::down)) == "DOWN");
}
