#pragma once
// Every message node actors exchange, and how CAF inspects the types in
// them. Locally a Frame travels by reference count; `inspect` is used only
// when a message must be serialized (another process, or printing), and then
// a frame is one Cap'n Proto blob rather than a float-by-float vector (which
// costs 8-27 us per frame, notes/caf-0.17.md).

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/atom.hpp>
#include <caf/detail/stringification_inspector.hpp>
#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/sec.hpp>

#include "messages/frame.hpp"
#include "messages/frame_codec.hpp"
#include "runtime/node_metrics.hpp"

namespace streamlab {

// Data path (subject to credits).
using data_atom = caf::atom_constant<caf::atom("data")>;  // (data, port, Frame)
// Flow control and stream structure (never subject to credits).
using credit_atom = caf::atom_constant<caf::atom("credit")>;  // (credit, port, n)
using eos_atom = caf::atom_constant<caf::atom("eos")>;        // (eos, port)
// Control from the runner, sent at high priority so a full data path can
// always be stopped.
using start_atom = caf::atom_constant<caf::atom("start")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;      // drain: sources end their stream
using kill_atom = caf::atom_constant<caf::atom("kill")>;      // forced: flush sinks, drop the rest
using report_atom = caf::atom_constant<caf::atom("report")>;  // a node's final NodeReport
using pump_atom = caf::atom_constant<caf::atom("pump")>;      // a source continuing its work

// What a node actor tells the runner when it is done.
struct NodeReport {
  NodeSnapshot snapshot;
  std::vector<EdgeSnapshot> edges;      // outgoing
  std::vector<std::uint64_t> received;  // frames received, per input port
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, EdgeSnapshot& x) {
  return f(caf::meta::type_name("edge_report"), x.from, x.to, x.port, x.capacity, x.frames,
           x.max_occupancy);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NodeSnapshot& x) {
  return f(caf::meta::type_name("node_snapshot"), x.pipeline, x.node, x.type, x.state, x.frames_in,
           x.frames_out, x.errors, x.restarts, x.dropped, x.dead_lettered, x.latency_p50_us,
           x.latency_p95_us, x.latency_p99_us, x.latency_max_us, x.queue_capacity,
           x.queue_max_occupancy, x.last_error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NodeReport& x) {
  return f(caf::meta::type_name("node_report"), x.snapshot, x.edges, x.received);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Frame& x) {
  if constexpr (std::is_same<Inspector, caf::detail::stringification_inspector>::value) {
    return f(caf::meta::type_name("frame"), x.seq, x.sample_rate, x.channels, x.frames);
  } else if constexpr (Inspector::reads_state) {
    std::vector<std::uint8_t> bytes;
    encode_frame(x, bytes);
    return f(caf::meta::type_name("frame"), bytes);
  } else {
    std::vector<std::uint8_t> bytes;
    auto decode = caf::meta::load_callback([&]() -> caf::error {
      try {
        x = decode_frame(bytes.data(), bytes.size(), BufferPool::process_pool());
      } catch (const CodecError& e) {
        return caf::make_error(caf::sec::invalid_argument, e.what());
      }
      return caf::none;
    });
    return f(caf::meta::type_name("frame"), bytes, decode);
  }
}

}  // namespace streamlab
