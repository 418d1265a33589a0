#pragma once
// One place that configures spdlog for the whole process.

#include <string>

namespace streamlab {

// Known levels: trace, debug, info, warn, error, critical, off.
// Returns false (and changes nothing) for an unknown level name.
bool setup_logging(const std::string& level);

}  // namespace streamlab
