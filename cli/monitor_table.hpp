#pragma once
// The table `streamlab monitor` prints for one snapshot of a process.

#include <ostream>
#include <string>
#include <vector>

#include "runtime/metrics_snapshot.hpp"

namespace streamlab::cli {

// An edge whose consumer does not keep up: its producer is in the
// backpressure state (it spent its high mark of the time waiting for room;
// with the hysteresis, it stays set until that falls to the low mark). Not
// the occupancy: a slow producer reads its credits only between its turns,
// so its output edges look full from its side while the consumer idles.
bool is_backpressured(const EdgeSnapshot& edge);

struct NodeRef {
  std::string pipeline;
  std::string node;
};

// Where a stalled chain is held up, not merely held back: consumers of a
// backpressured edge that are not waiting themselves. A node that reports
// where its time goes must spend most of it busy (rather than idle, or
// holding output with no room downstream); one that does not (a finished
// node, an older peer) must have no backpressured output edge. The time
// shares decide where they exist because a slow node's output edges look
// full from its side even when its consumer keeps up: the consumer's
// credits queue behind the data waiting in the slow node's mailbox.
std::vector<NodeRef> find_bottlenecks(const MetricsSnapshot& snapshot);

// Process line, one line per pipeline (state and reason), one row per node
// (BUSY: share of its life spent in its process step), then the
// bottlenecks. Rates (frames/s) are taken against `before`, an
// earlier snapshot of the same process; without one they show "-".
void print_monitor_table(std::ostream& os, const MetricsSnapshot& now,
                         const MetricsSnapshot* before);

}  // namespace streamlab::cli
