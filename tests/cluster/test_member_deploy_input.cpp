// A real `streamlab node` process given hostile pipeline text in deploy
// messages, sent the way `deploy` sends them (ClusterClient) but without
// the CLI's own check first: every one is answered with an error naming
// what is wrong, and the member keeps serving. Before the bounded parser,
// 1e400 threw out of the member's actor (the member stayed up but deaf)
// and deep nesting crashed it.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "../integration/process_test_support.hpp"
#include "cluster/cluster_client.hpp"
#include "messages/input_limits.hpp"

using namespace streamlab;
using namespace streamlab::test;
using namespace std::chrono_literals;

namespace {

std::string good_pipeline(const std::string& name) {
  return R"({"name":")" + name + R"(","nodes":[
      {"id":"src","type":"sine","config":{"num_frames":5}},
      {"id":"sink","type":"null_sink"}],
    "connections":[{"from":"src","to":"sink"}]})";
}

}  // namespace

TEST_CASE("a member answers hostile deploy messages with an error and keeps serving",
          "[cluster][deploy][input]") {
  ScratchDir dir;
  Child member(dir, {"node", "--name", "a", "--listen", "127.0.0.1:0"}, "member-a");
  const std::uint16_t port = member.wait_for_port(R"(member "a" listening on 127\.0\.0\.1:(\d+))");
  ClusterClient cluster("127.0.0.1", port);

  const auto refused = [&](const std::string& text, const std::string& expected) {
    std::string summary, error;
    INFO(text.substr(0, 80));
    CHECK_FALSE(cluster.deploy(text, "hostile.json", 0, 20s, summary, error));
    CHECK_THAT(error, Catch::Contains(expected));
  };
  refused(R"({"nodes":[{"id":"src","type":"sine","config":{"frequency":1e400}}]})",
          "/nodes/0/config/frequency: number 1e400 is out of range");
  refused("{\"nodes\":" + std::string(100000, '[') + std::string(100000, ']') + "}",
          "limit of " + std::to_string(limits::kMaxPipelineNesting) + " levels");
  refused(std::string(limits::kMaxPipelineTextBytes + 1, ' '),
          "limit of " + std::to_string(limits::kMaxPipelineTextBytes) + " bytes");

  // Still alive, and still answering: a good pipeline deploys and runs.
  std::string summary, error;
  INFO(error);
  REQUIRE(cluster.deploy(good_pipeline("after"), "after.json", 0, 20s, summary, error));
  CHECK_THAT(summary, Catch::Contains("pipeline \"after\" running"));
  std::vector<PipelineRow> rows;
  REQUIRE(cluster.pipelines(10s, rows, error));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].name == "after");
  CHECK_FALSE(member.wait_for(0s).has_value());  // still running
  CHECK_THAT(member.err(), !Catch::Contains("unhandled exception"));
}
