#pragma once
// Every message node actors exchange, and how CAF inspects the types in
// them. Locally a Frame travels by reference count; `inspect` is used only
// when a message must be serialized (another process, or printing), and then
// a frame is one Cap'n Proto blob rather than a float-by-float vector (which
// costs 8-27 us per frame, docs/architecture.md#the-frame).

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/atom.hpp>
#include <caf/detail/stringification_inspector.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/sec.hpp>

#include <memory>

#include "messages/frame.hpp"
#include "messages/frame_codec.hpp"
#include "runtime/dead_letter_file.hpp"
#include "runtime/metrics_snapshot.hpp"
#include "runtime/node_metrics.hpp"

namespace streamlab {

// Data path (subject to credits).
// (data, port, index on the edge of the batch's first frame, FrameBatch)
using data_atom = caf::atom_constant<caf::atom("data")>;
// Consecutive frames of one edge in one message: what a node emits in one
// turn goes out together, so a message (its mailbox element, and across
// processes its BASP header and credit share) carries up to kMaxFrames frames
// rather than one. The capacity is fixed so the frames live inside the
// message's one allocation, never in one of their own.
struct FrameBatch {
  static constexpr std::uint32_t kMaxFrames = 16;
  std::uint32_t count = 0;
  std::array<Frame, kMaxFrames> frames;
  // Set only by deserialization: bit i marks frames[i] as one that arrived
  // but could not be decoded (left empty), and why the first one could not.
  // The receiver counts such a frame as dropped, with this reason, instead
  // of CAF discarding the whole message as an "unexpected" empty one.
  std::uint32_t undecodable = 0;
  std::string undecodable_reason;

  bool decoded(std::uint32_t i) const { return ((undecodable >> i) & 1u) == 0; }

  bool empty() const { return count == 0; }
  bool full() const { return count == kMaxFrames; }
  void push(const Frame& frame) { frames[count++] = frame; }
};

// Flow control and stream structure (never subject to credits). A credit
// carries the consumer's cumulative count of frames consumed on that edge,
// not a delta: a credit lost with a failed actor is made good by the next.
using credit_atom = caf::atom_constant<caf::atom("credit")>;  // (credit, port, consumed_total)
using eos_atom = caf::atom_constant<caf::atom("eos")>;        // (eos, port)
// Supervision: re-wiring around a replaced node, in place.
using rewire_atom =
    caf::atom_constant<caf::atom("rewire")>;  // to a producer: (old, new, port, consumed)
using resync_atom = caf::atom_constant<caf::atom("resync")>;  // to a consumer: (port, new_producer)
using failed_atom = caf::atom_constant<caf::atom("failed")>;  // node -> supervisor: (Handover)
using handover_atom = caf::atom_constant<caf::atom("handover")>;  // swap out a stand-in
using restart_atom = caf::atom_constant<caf::atom("restart")>;    // supervisor timer: (index)
using trial_atom = caf::atom_constant<caf::atom("trial")>;        // supervisor timer: (index)
using success_atom = caf::atom_constant<caf::atom("success")>;    // a good frame in a breaker trial
using retry_atom = caf::atom_constant<caf::atom("retry")>;  // node timer: retry the held frame
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;  // the run is over
using memory_atom = caf::atom_constant<caf::atom("memory")>;  // node -> supervisor: (error text)
using result_atom = caf::atom_constant<caf::atom("result")>;  // supervisor -> runner
using dead_letter_atom = caf::atom_constant<caf::atom("deadlettr")>;  // (DeadLetter)
// Monitoring: answered with the state of the moment (pull: costs nothing
// until someone asks).
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using register_atom = caf::atom_constant<caf::atom("register")>;  // (pipeline, supervisor)
using unregister_atom = caf::atom_constant<caf::atom("unregistr")>;
// Control from the runner, sent at high priority so a full data path can
// always be stopped.
using start_atom = caf::atom_constant<caf::atom("start")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;      // drain: sources end their stream
using kill_atom = caf::atom_constant<caf::atom("kill")>;      // forced: flush sinks, drop the rest
using report_atom = caf::atom_constant<caf::atom("report")>;  // a node's final NodeReport
using pump_atom = caf::atom_constant<caf::atom("pump")>;      // a source continuing its work

// One output edge as a producer leaves it to its replacement.
struct OutputHandover {
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;
  std::vector<Frame> unacked;  // sent - acked frames, oldest first, for a re-send if needed
  bool eos_sent = false;
  std::uint64_t max_in_flight = 0;
};

// A frame set that made an instance fail, so its replacement knows how
// often it has been tried (it is dead-lettered once the retries run out).
struct FailedFrame {
  std::uint32_t port = 0;
  std::uint64_t seq = 0;
  std::uint32_t attempts = 0;
};

// What a node actor leaves behind when it fails or is swapped out: enough
// for a replacement to continue in place, with neighbours untouched.
struct Handover {
  std::string error;                    // empty for a planned swap
  std::vector<std::uint64_t> consumed;  // per input port: frames finished with
  std::vector<OutputHandover> outputs;
  std::vector<Frame> pending;  // produced but not sent yet
  std::vector<FailedFrame> failing;
  NodeMetrics metrics;  // frames_in counts consumed frames only: the rest is re-sent
};
using HandoverPtr = std::shared_ptr<const Handover>;  // kept by a supervisor, read by the next

// What a node actor tells its supervisor when its stream has ended.
struct NodeReport {
  NodeSnapshot snapshot;
  std::vector<EdgeSnapshot> edges;      // outgoing
  std::vector<std::uint64_t> received;  // frames received, per input port
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, EdgeSnapshot& x) {
  return f(caf::meta::type_name("edge_snapshot"), x.pipeline, x.from, x.to, x.port, x.capacity,
           x.frames, x.occupancy, x.buffered_bytes, x.max_occupancy, x.backpressured,
           x.backpressure_episodes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, PipelineStatus& x) {
  return f(caf::meta::type_name("pipeline_status"), x.name, x.state, x.reason, x.ended);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ProcessFigures& x) {
  return f(caf::meta::type_name("process_figures"), x.rss_bytes, x.cpu_seconds, x.threads);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, PoolStats& x) {
  return f(caf::meta::type_name("pool_stats"), x.hits, x.misses, x.recycled);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, MemberStatus& x) {
  return f(caf::meta::type_name("member_status"), x.name, x.address, x.state, x.reason, x.figures,
           x.pool);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, MetricsSnapshot& x) {
  return f(caf::meta::type_name("metrics_snapshot"), x.process, x.time_ns, x.pipelines, x.nodes,
           x.edges, x.pool, x.figures, x.members);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NamedFigure& x) {
  return f(caf::meta::type_name("named_figure"), x.name, x.value);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NodeSnapshot& x) {
  return f(caf::meta::type_name("node_snapshot"), x.pipeline, x.node, x.type, x.state, x.frames_in,
           x.frames_out, x.errors, x.restarts, x.skipped, x.dropped, x.dead_lettered,
           x.latency_p50_us, x.latency_p95_us, x.latency_p99_us, x.latency_max_us,
           x.end_to_end_p50_us, x.end_to_end_p99_us, x.end_to_end_max_us, x.processing_buckets,
           x.end_to_end_buckets, x.busy_ms_per_s, x.backpressured_ms_per_s, x.idle_ms_per_s,
           x.queue_capacity, x.queue_max_occupancy, x.last_error, x.process, x.figures);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NodeMetrics& x) {
  return f(caf::meta::type_name("node_metrics"), x.frames_in, x.frames_out, x.errors, x.restarts,
           x.skipped, x.dead_lettered, x.dropped, x.latency, x.end_to_end, x.started_ns, x.busy_ns,
           x.backpressured_ns);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, OutputHandover& x) {
  return f(caf::meta::type_name("output_handover"), x.sent, x.acked, x.unacked, x.eos_sent,
           x.max_in_flight);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, FailedFrame& x) {
  return f(caf::meta::type_name("failed_frame"), x.port, x.seq, x.attempts);
}

// A node on another process fails, or is swapped out, with its handover
// sent by value: the supervisor may be elsewhere.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Handover& x) {
  return f(caf::meta::type_name("handover"), x.error, x.consumed, x.outputs, x.pending, x.failing,
           x.metrics);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, DeadLetter& x) {
  return f(caf::meta::type_name("dead_letter"), x.pipeline, x.node, x.port, x.reason, x.error,
           x.attempts, x.time_ns, x.frame);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NodeReport& x) {
  return f(caf::meta::type_name("node_report"), x.snapshot, x.edges, x.received);
}

// A frame's message is built in scratch bytes, one per thread and reused,
// so a frame crossing processes costs no allocation of its own once the
// first has passed. Scratch grown by an unusually large frame is let go.
inline std::vector<std::uint8_t>& frame_scratch() {
  thread_local std::vector<std::uint8_t> bytes;
  return bytes;
}
inline void trim_frame_scratch() {
  constexpr std::size_t kKeptBytes = std::size_t{1} << 20;
  if (frame_scratch().capacity() > kKeptBytes) std::vector<std::uint8_t>().swap(frame_scratch());
}

// Reads one encoded frame's bytes. CAF's own loading of a byte vector
// resizes it to the length the peer claims before reading a byte (a 4 GB
// claim is a 4 GB allocation), so the length is read and checked here,
// against what a frame within the codec's limits can take, first.
template <class Inspector>
caf::error load_frame_bytes(Inspector& f, std::vector<std::uint8_t>& bytes) {
  std::size_t size = 0;
  return caf::error::eval([&] { return f.begin_sequence(size); },
                          [&]() -> caf::error {
                            const std::size_t limit = CodecLimits{}.max_message_bytes;
                            if (size <= limit) return caf::none;
                            return caf::make_error(caf::sec::invalid_argument,
                                                   "an encoded frame of " + std::to_string(size) +
                                                       " bytes, over the limit of " +
                                                       std::to_string(limit));
                          },
                          [&] {
                            bytes.resize(size);
                            return size > 0 ? f.apply_raw(size, bytes.data()) : caf::error{};
                          },
                          [&] { return f.end_sequence(); });
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Frame& x) {
  if constexpr (std::is_same<Inspector, caf::detail::stringification_inspector>::value) {
    return f(caf::meta::type_name("frame"), x.seq, x.sample_rate, x.channels, x.frames);
  } else if constexpr (Inspector::reads_state) {
    std::vector<std::uint8_t>& bytes = frame_scratch();
    encode_frame(x, bytes);
    auto result = f(caf::meta::type_name("frame"), bytes);
    trim_frame_scratch();
    return result;
  } else {
    std::vector<std::uint8_t>& bytes = frame_scratch();
    auto result = caf::error::eval([&] { return load_frame_bytes(f, bytes); },
                                   [&]() -> caf::error {
                                     try {
                                       x = decode_frame(bytes.data(), bytes.size(),
                                                        BufferPool::process_pool());
                                     } catch (const CodecError& e) {
                                       return caf::make_error(caf::sec::invalid_argument, e.what());
                                     }
                                     return caf::none;
                                   });
    trim_frame_scratch();
    return result;
  }
}

// Each frame is its own Cap'n Proto message (messages/frame.capnp), after
// the count; a count over the capacity is refused before any frame is read.
// A frame whose blob was read whole but does not decode (over the codec's
// limits, corrupt) does not fail the batch: CAF 0.17 would drop the whole
// message and log it as "unexpected", with no count anywhere. It is marked
// instead, and the receiving node counts it as dropped with the reason.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, FrameBatch& x) {
  if constexpr (std::is_same<Inspector, caf::detail::stringification_inspector>::value) {
    return f(caf::meta::type_name("frame_batch"), x.count);
  } else {
    if (auto err = f(caf::meta::type_name("frame_batch"), x.count)) return err;
    if (x.count > FrameBatch::kMaxFrames)
      return caf::make_error(caf::sec::invalid_argument,
                             "a frame batch of " + std::to_string(x.count) +
                                 " frames, over its capacity of " +
                                 std::to_string(FrameBatch::kMaxFrames));
    if constexpr (Inspector::reads_state) {
      for (std::uint32_t i = 0; i < x.count; ++i)
        if (auto err = f(x.frames[i])) return err;
    } else {
      x.undecodable = 0;
      x.undecodable_reason.clear();
      for (std::uint32_t i = 0; i < x.count; ++i) {
        std::vector<std::uint8_t>& bytes = frame_scratch();
        if (auto err = load_frame_bytes(f, bytes)) return err;  // the stream itself is broken
        try {
          x.frames[i] = decode_frame(bytes.data(), bytes.size(), BufferPool::process_pool());
        } catch (const CodecError& e) {
          x.frames[i] = Frame{};
          if (x.undecodable == 0) x.undecodable_reason = e.what();
          x.undecodable |= std::uint32_t{1} << i;
        }
        trim_frame_scratch();
      }
    }
    return caf::none;
  }
}

}  // namespace streamlab
