#pragma once
// Number formats shared by the tables the CLI prints (`run`, `monitor`).

#include <array>
#include <cstdint>
#include <string>

#include "runtime/node_metrics.hpp"

namespace streamlab::cli {

// Microseconds with precision that shrinks as they grow: 2.50, 12.5, 1250.
std::string format_us(double us);

// Frames per second: one decimal below 100, none above.
std::string format_rate(double per_second);

std::uint64_t total(const std::array<std::uint64_t, kDropReasonCount>& counts);

}  // namespace streamlab::cli
