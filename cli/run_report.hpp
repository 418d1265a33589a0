#pragma once
// What `streamlab run` shows when a run ends: the per-node table, and the
// metrics snapshot file.

#include <ostream>
#include <string>

#include "actors/pipeline_runner.hpp"

namespace streamlab::cli {

void print_summary(std::ostream& os, const std::string& pipeline, const RunResult& result);

// The snapshot of snapshot_to_json() plus a "run" object (elapsed time,
// pool figures). Written to a temporary file and renamed, so a reader never
// sees half a file. Returns an error text, empty on success.
std::string write_metrics_json(const std::string& path, const std::string& pipeline,
                               const RunResult& result);

}  // namespace streamlab::cli
