// Pipeline files that are not files: validate, run and deploy refuse a
// named pipe (which made `validate` block before) and a directory at once,
// naming the path, and start nothing.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <string>

#include "process_test_support.hpp"

using namespace streamlab::test;

TEST_CASE("validate, run and deploy refuse a named pipe or a directory without waiting",
          "[integration][input]") {
  ScratchDir dir;
  REQUIRE(mkfifo(dir.file("pipe.json").c_str(), 0600) == 0);
  REQUIRE(mkdir(dir.file("folder.json").c_str(), 0700) == 0);
  for (const std::string command :
       {"validate", "run", "deploy --cluster 127.0.0.1:9 --timeout 1"}) {
    for (const std::string file : {"pipe.json", "folder.json"}) {
      // `deploy --cluster X file`: the subcommand takes the file positionally.
      const Timed t = run_bounded(dir, command + " " + file, 10);
      INFO(command << " " << file << ": " << t.outcome.err);
      CHECK(t.outcome.status == 1);  // not 124: the time limit's
      CHECK_THAT(t.outcome.err, Catch::Contains(file) && Catch::Contains("not a regular file"));
    }
  }
}

TEST_CASE("validate reports two bad fields of one node at once", "[integration][input]") {
  ScratchDir dir;
  dir.write("two.json", R"({"nodes":[
      {"id":"s","type":"sine","config":{"frequency":-5,"sample_rate":0}},
      {"id":"n","type":"null_sink"}],
    "connections":[{"from":"s","to":"n"}]})");
  const Timed t = run_bounded(dir, "validate two.json");
  INFO(t.outcome.err);
  CHECK(t.outcome.status == 1);
  CHECK_THAT(t.outcome.err, Catch::Contains("/nodes/0/config/frequency") &&
                                Catch::Contains("/nodes/0/config/sample_rate") &&
                                Catch::Contains("2 problems found"));
}
