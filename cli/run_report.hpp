#pragma once
// What `streamlab run` shows when a run ends: the per-node table, and the
// metrics snapshot file.

#include <ostream>
#include <string>

#include "actors/pipeline_runner.hpp"

namespace streamlab::cli {

// Whether a run that started succeeded, and if not, why in words. It did
// not when the pipeline degraded or failed, when a node ended in any state
// but `finished` (failed for good, still backing off or in an open circuit at
// a forced stop: it never recovered), or when dead letters could not be
// written (frames were lost).
struct RunVerdict {
  bool succeeded = true;
  std::string why;  // empty when it succeeded
};
RunVerdict judge_run(const RunResult& result);

void print_summary(std::ostream& os, const std::string& pipeline, const RunResult& result);

// The snapshot of snapshot_to_json() plus a "run" object (elapsed time,
// pool figures), written by replace_output_file (cli/output_file.hpp).
// Returns an error text, empty on success.
std::string write_metrics_json(const std::string& path, const std::string& pipeline,
                               const RunResult& result);

}  // namespace streamlab::cli
