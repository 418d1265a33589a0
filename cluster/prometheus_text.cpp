#include "cluster/prometheus_text.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace streamlab {

namespace {

// The states a node or pipeline reports. Each one gets a series (1 for the
// current state, 0 for the others) so that a state change is a value change
// and `streamlab_node_state{state="failed"} == 1` works as an alert.
constexpr std::array<const char*, 7> kNodeStates = {
    "running", "finished", "restarting", "backing_off", "open", "half_open", "failed"};
constexpr std::array<const char*, 4> kPipelineStates = {"running", "finished", "degraded",
                                                        "failed"};

// A label value that is not UTF-8 makes Prometheus reject the whole scrape,
// and names are user text: each invalid byte becomes U+FFFD instead.
std::string valid_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t min = 0;
    if (lead < 0x80) {
      length = 1;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2, min = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3, min = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4, min = 0x10000;
    }
    bool ok = length > 0 && i + length <= text.size();
    // No shift for a byte that starts no sequence (length 0): it is invalid.
    std::uint32_t code = length <= 1 ? lead : lead & (0x3f >> (length - 1));
    for (std::size_t k = 1; ok && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xc0) == 0x80;
      code = (code << 6) | (next & 0x3f);
    }
    ok = ok && code >= min && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
    if (ok) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

prometheus::Labels labels(std::initializer_list<std::pair<const char*, const std::string&>> pairs) {
  prometheus::Labels result;
  for (const auto& [name, value] : pairs) result.emplace(name, valid_utf8(value));
  return result;
}

template <class Values>
void add_state_set(prometheus::Family<prometheus::Gauge>& family, const prometheus::Labels& base,
                   const Values& known, const std::string& current) {
  bool current_known = false;
  for (const char* state : known) {
    auto with_state = base;
    with_state.emplace("state", state);
    family.Add(with_state).Set(current == state ? 1 : 0);
    current_known = current_known || current == state;
  }
  // A state this list does not know yet still shows, rather than a node
  // that is in no state at all.
  if (!current_known && !current.empty()) {
    auto with_state = base;
    with_state.emplace("state", valid_utf8(current));
    family.Add(with_state).Set(1);
  }
}

// The registry only lives for one scrape: the snapshot already holds the
// totals, so counters are built at their value rather than kept and
// incremented, and nothing outlives a pipeline that has gone.
class Exposition {
 public:
  prometheus::Family<prometheus::Counter>& counter(const char* name, const char* help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry_);
  }
  prometheus::Family<prometheus::Gauge>& gauge(const char* name, const char* help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(registry_);
  }
  prometheus::Family<prometheus::Histogram>& histogram(const char* name, const char* help) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(registry_);
  }

  std::string text() const {
    auto families = registry_.Collect();
    // Series come out of the registry in hash order; sorted, two scrapes of
    // the same snapshot are identical and related families sit together.
    std::sort(families.begin(), families.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (auto& family : families) {
      std::sort(family.metric.begin(), family.metric.end(),
                [](const auto& a, const auto& b) { return a.label < b.label; });
    }
    return prometheus::TextSerializer().Serialize(families);
  }

 private:
  prometheus::Registry registry_;
};

void set_count(prometheus::Family<prometheus::Counter>& family, const prometheus::Labels& labels,
               std::uint64_t value) {
  family.Add(labels).Increment(static_cast<double>(value));
}

// The node's export buckets as a Prometheus histogram: the registry makes
// them cumulative and adds `le="+Inf"` and `_count`.
const prometheus::Histogram::BucketBoundaries& bucket_bounds_seconds() {
  static const auto bounds = [] {
    prometheus::Histogram::BucketBoundaries out;
    for (auto ns : LatencyHistogram::kExportBoundsNs) out.push_back(static_cast<double>(ns) / 1e9);
    return out;
  }();
  return bounds;
}

void set_histogram(prometheus::Family<prometheus::Histogram>& family,
                   const prometheus::Labels& labels, const LatencyBuckets& buckets) {
  std::vector<double> counts(buckets.counts.begin(), buckets.counts.end());
  family.Add(labels, bucket_bounds_seconds()).ObserveMultiple(counts, buckets.sum_seconds);
}

// What a node type reports of its own (an audio device's xruns, clock
// drift, ...): one gauge family with the figure's name as a label. Names are
// fixed per node type, so the label set stays bounded. Registered only when
// some node has figures, so a scrape without them is unchanged.
void add_node_figures(Exposition& out, const MetricsSnapshot& snapshot) {
  const bool any = std::any_of(snapshot.nodes.begin(), snapshot.nodes.end(),
                               [](const NodeSnapshot& n) { return !n.figures.empty(); });
  if (!any) return;
  auto& figure = out.gauge("streamlab_node_figure",
                           "A figure particular to the node's type, by name (see the README).");
  for (const auto& node : snapshot.nodes) {
    for (const auto& f : node.figures) {
      figure
          .Add(labels({{"process", snapshot.process},
                       {"pipeline", node.pipeline},
                       {"node", node.node},
                       {"name", f.name}}))
          .Set(f.value);
    }
  }
}

void add_nodes(Exposition& out, const MetricsSnapshot& snapshot) {
  auto& frames_in =
      out.counter("streamlab_node_frames_in_total", "Frames a node has consumed from its inputs.");
  auto& frames_out =
      out.counter("streamlab_node_frames_out_total", "Frames a node has sent to its outputs.");
  auto& errors = out.counter("streamlab_node_errors_total",
                             "Errors raised by a node's processing step, whatever the policy.");
  auto& restarts =
      out.counter("streamlab_node_restarts_total", "Times the supervisor restarted a node.");
  auto& skipped = out.counter("streamlab_node_skipped_total",
                              "Failed frames discarded by the skip error policy.");
  auto& dropped =
      out.counter("streamlab_node_dropped_total", "Frames that did not reach the node, by reason.");
  auto& dead_lettered = out.counter("streamlab_node_dead_lettered_total",
                                    "Frames written to the dead-letter file after retries.");
  // Histograms, not per-quantile gauges: buckets add up across members and
  // over time (an average of p99s is no p99); `monitor` keeps the percentiles.
  auto& processing = out.histogram(
      "streamlab_node_processing_seconds",
      "Time of one processing step (the timed ones: see the README), since the node started.");
  auto& end_to_end = out.histogram(
      "streamlab_node_end_to_end_seconds",
      "Time from a frame's source timestamp to its arrival here (the timed ones), since the "
      "node started.");
  auto& busy = out.gauge("streamlab_node_busy_ratio",
                         "Share of the node's life spent processing, from 0 to 1.");
  auto& backpressured = out.gauge(
      "streamlab_node_backpressured_ratio",
      "Share of the node's life spent holding output no consumer had room for, from 0 to 1.");
  auto& idle = out.gauge("streamlab_node_idle_ratio",
                         "Share of the node's life spent waiting for input, from 0 to 1.");
  auto& queue_capacity = out.gauge("streamlab_node_queue_capacity_frames",
                                   "Frames the node's fullest input edge may hold.");
  auto& queue_max = out.gauge("streamlab_node_queue_max_occupancy_frames",
                              "Most frames ever waiting at once on the node's input edges.");
  auto& state =
      out.gauge("streamlab_node_state", "1 for the state the node is in, 0 for the others.");

  for (const auto& node : snapshot.nodes) {
    const auto id =
        labels({{"process", snapshot.process}, {"pipeline", node.pipeline}, {"node", node.node}});
    set_count(frames_in, id, node.frames_in);
    set_count(frames_out, id, node.frames_out);
    set_count(errors, id, node.errors);
    set_count(restarts, id, node.restarts);
    set_count(skipped, id, node.skipped);
    set_count(dead_lettered, id, node.dead_lettered);
    // Every reason, zeros included: a series that appears only on the first
    // drop hides that first drop from rate().
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
      auto with_reason = id;
      with_reason.emplace("reason", to_string(static_cast<DropReason>(i)));
      set_count(dropped, with_reason, node.dropped[i]);
    }
    set_histogram(processing, id, node.processing_buckets);
    set_histogram(end_to_end, id, node.end_to_end_buckets);
    busy.Add(id).Set(node.busy_ms_per_s / 1e3);
    backpressured.Add(id).Set(node.backpressured_ms_per_s / 1e3);
    idle.Add(id).Set(node.idle_ms_per_s / 1e3);
    queue_capacity.Add(id).Set(static_cast<double>(node.queue_capacity));
    queue_max.Add(id).Set(static_cast<double>(node.queue_max_occupancy));
    add_state_set(state, id, kNodeStates, node.state);
  }
  add_node_figures(out, snapshot);
}

void add_edges(Exposition& out, const MetricsSnapshot& snapshot) {
  auto& frames = out.counter("streamlab_edge_frames_total", "Frames sent on an edge.");
  auto& capacity =
      out.gauge("streamlab_edge_queue_capacity_frames", "Frames an edge may hold (its credits).");
  auto& occupancy = out.gauge("streamlab_edge_queue_occupancy_frames",
                              "Frames sent on an edge and not yet consumed, now.");
  auto& max_occupancy = out.gauge("streamlab_edge_queue_max_occupancy_frames",
                                  "Most frames ever sent on an edge and not yet consumed.");
  auto& backpressured =
      out.gauge("streamlab_edge_backpressured", "1 while an edge is in the backpressure state.");
  auto& episodes = out.counter("streamlab_edge_backpressure_episodes_total",
                               "Times an edge entered the backpressure state.");
  for (const auto& edge : snapshot.edges) {
    const std::string port = std::to_string(edge.port);
    const auto id = labels({{"process", snapshot.process},
                            {"pipeline", edge.pipeline},
                            {"from", edge.from},
                            {"to", edge.to},
                            {"port", port}});
    set_count(frames, id, edge.frames);
    capacity.Add(id).Set(edge.capacity);
    occupancy.Add(id).Set(static_cast<double>(edge.occupancy));
    max_occupancy.Add(id).Set(static_cast<double>(edge.max_occupancy));
    backpressured.Add(id).Set(edge.backpressured ? 1 : 0);
    set_count(episodes, id, edge.backpressure_episodes);
  }
}

void add_process(Exposition& out, const MetricsSnapshot& snapshot) {
  const auto id = labels({{"process", snapshot.process}});

  auto& pipeline_state = out.gauge("streamlab_pipeline_state",
                                   "1 for the state the pipeline is in, 0 for the others.");
  for (const auto& pipeline : snapshot.pipelines) {
    auto with_pipeline = id;
    with_pipeline.emplace("pipeline", valid_utf8(pipeline.name));
    add_state_set(pipeline_state, with_pipeline, kPipelineStates, pipeline.state);
  }

  set_count(out.counter("streamlab_buffer_pool_hits_total",
                        "Sample buffers served from the pool without allocating."),
            id, snapshot.pool.hits);
  set_count(
      out.counter("streamlab_buffer_pool_misses_total", "Sample buffers the pool had to allocate."),
      id, snapshot.pool.misses);

  out.gauge("streamlab_process_resident_memory_bytes", "Resident memory size of the process.")
      .Add(id)
      .Set(static_cast<double>(snapshot.figures.rss_bytes));
  out.counter("streamlab_process_cpu_seconds_total",
              "User and system CPU time the process has used.")
      .Add(id)
      .Increment(snapshot.figures.cpu_seconds);
  out.gauge("streamlab_process_threads", "Threads of the process.")
      .Add(id)
      .Set(snapshot.figures.threads);
}

}  // namespace

std::string to_prometheus_text(const MetricsSnapshot& snapshot) {
  Exposition out;
  add_nodes(out, snapshot);
  add_edges(out, snapshot);
  add_process(out, snapshot);
  return out.text();
}

}  // namespace streamlab
