#include <catch2/catch.hpp>

#include "cluster/monitor_service.hpp"

using namespace streamlab;

TEST_CASE("an ended pipeline's series are shown for kEndedPipelineRetention, then not",
          "[cluster][monitor]") {
  using namespace std::chrono_literals;
  const std::chrono::steady_clock::time_point ended{1000s};
  CHECK(kEndedPipelineRetention == 10min);
  CHECK(ended_pipeline_shown(ended, ended));
  CHECK(ended_pipeline_shown(ended, ended + kEndedPipelineRetention - 1ns));
  CHECK_FALSE(ended_pipeline_shown(ended, ended + kEndedPipelineRetention));
  CHECK_FALSE(ended_pipeline_shown(ended, ended + 1h));
}
