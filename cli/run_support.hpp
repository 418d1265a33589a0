#pragma once
// What every subcommand that runs a pipeline (`run`, `dlq replay`) does the
// same way: load it or say why not, and let Ctrl-C stop it.

#include <atomic>
#include <optional>
#include <string>

#include "runtime/pipeline_spec.hpp"

namespace streamlab::cli {

// The validated pipeline; otherwise every problem is printed to stderr,
// with "nothing was started", and nullopt is returned.
// The file is read once: `text`, when given, receives exactly what was
// validated (what `deploy` sends on).
std::optional<PipelineSpec> load_or_report(const std::string& path, std::string* text = nullptr);

// SIGINT and SIGTERM count into the returned counter: the first drains
// (sources stop, sinks flush), the second forces the stop (RunOptions::interrupts).
const std::atomic<int>& install_interrupt_handlers();

}  // namespace streamlab::cli
