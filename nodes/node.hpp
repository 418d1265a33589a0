#pragma once
// The one interface every node type implements. Nodes are pure DSP: they
// know nothing of actors, threads, credits or the network. The node actor
// feeds them frames and forwards what they emit.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "messages/buffer_pool.hpp"
#include "messages/frame.hpp"
#include "runtime/config_schema.hpp"
#include "runtime/node_metrics.hpp"

namespace streamlab {

// The result of one step. Returned (rather than thrown) for expected failures;
// an exception escaping a node is treated the same way by its actor.
class Status {
 public:
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }
  bool is_ok() const { return message_.empty(); }
  const std::string& message() const { return message_; }

 private:
  Status() = default;
  explicit Status(std::string message)
      : message_(message.empty() ? std::string("unspecified error") : std::move(message)) {}
  std::string message_;
};

// Output of one step. The caller clears it and keeps its capacity, so
// emitting frames allocates nothing in steady state.
using FrameList = std::vector<Frame>;

// One aligned set of inputs: slot i holds the frame from input port i, or
// null when that input has nothing at this sequence number (a gap, or the
// input has ended). Single-input nodes always get exactly one non-null frame.
struct Inputs {
  const Frame* const* frames = nullptr;
  std::size_t count = 0;
  const Frame* operator[](std::size_t i) const { return frames[i]; }
};

// What a node may use from its surroundings.
struct NodeContext {
  std::string node_id;
  BufferPool* pool = &BufferPool::process_pool();
  std::ostream* text_out = nullptr;  // where `print` writes; null means std::cout
  // The wall-clock time (ns) the pipeline counts from, the same for every
  // node in every process; 0 outside a pipeline run. Live sources number
  // their frames on a grid from it (nodes/frame_grid.hpp), so that streams
  // captured side by side line up in a mix.
  std::int64_t epoch_ns = 0;
  // On a cluster member: its data directory. Nodes open their files beneath
  // it without following symlinks (runtime/path_confinement's open_beneath),
  // so a link swapped in after deploy's check cannot lead out. Empty: paths
  // are opened as given (a local run).
  std::string confine_root = {};
};

// What a live source does when its output has no room. A live source (an
// audio device, a real-time clock) produces at a pace nobody downstream
// controls, so it cannot wait: its actor holds at most `backlog` frames,
// and past that drops by this policy, counting each as
// dropped{reason="overflow"}.
enum class Overflow { drop_oldest, drop_newest };

struct LivePacing {
  // How often the actor asks the node for new frames; for a node that also
  // says when its next frame is due (next_due_ns), the longest it waits.
  std::int64_t poll_interval_ns = 0;
  Overflow overflow = Overflow::drop_oldest;
  std::size_t backlog = 4;  // frames held back while an edge is full, before dropping
  // Sequence numbers are slots of the pipeline's frame grid, not a count:
  // a restarted instance goes on from the slot it starts in (its actor
  // must not shift them), and a gap is time nothing was captured.
  bool numbered_by_time = false;
};

class Node {
 public:
  virtual ~Node() = default;

  // Live sources say how to pace them; for everything else (generators,
  // files) this is empty and the actor generates as fast as credits allow.
  // A live source's generate() returns what is ready now, possibly nothing.
  virtual std::optional<LivePacing> live() const { return std::nullopt; }

  // A live source that knows when its next frame will be ready (one paced
  // by a clock) says so, on the steady clock in ns; its actor then wakes at
  // that time, or after poll_interval_ns if that comes first. Empty when not
  // known (a device: data comes when it comes), or when nothing more will come.
  // Called after each generate() that returned nothing; must not allocate.
  // The actor keeps one timer: a due time that moves earlier than the
  // wake-up already set is only seen at that wake-up.
  virtual std::optional<std::int64_t> next_due_ns() const { return std::nullopt; }

  // Sources (no inputs): append the next frame(s) to `out`; set
  // `end_of_stream` when there will be no more (e.g. end of file).
  virtual Status generate(FrameList& out, bool& end_of_stream);

  // Processors and sinks: consume one aligned input set, append outputs.
  virtual Status process(const Inputs& in, FrameList& out);

  // All inputs have ended (or a source is being stopped): emit anything
  // still held and release resources (a sink closes its file here).
  virtual Status finish(FrameList& out);

  // Figures particular to this node type, appended when a snapshot is taken
  // (not a hot path: it may allocate). Always the same names for a type.
  virtual void figures(std::vector<NamedFigure>& /*out*/) const {}
};

}  // namespace streamlab
