#pragma once
// What the operating system says about this process: resident memory, CPU
// time, threads. Read on demand (a few syscalls and one small /proc read),
// so the monitor takes them when a snapshot is asked for, not periodically.

#include "runtime/metrics_snapshot.hpp"

namespace streamlab {

// Fields the system cannot tell (no /proc) stay 0 rather than failing: a
// snapshot without them is still worth serving.
ProcessFigures read_process_figures();

}  // namespace streamlab
