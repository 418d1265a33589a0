// The Prometheus exposition of a snapshot: promtool accepts it, names and
// labels follow the conventions (and stay bounded), values are in base
// units, and user text in labels cannot break the format.

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cluster/prometheus_text.hpp"
#include "cluster_test_support.hpp"

using namespace streamlab;
using Catch::Matchers::Contains;
using streamlab::test::promtool_check_metrics;
using streamlab::test::rich_snapshot;

namespace {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // differs from its family's for a histogram's _bucket, _sum, _count
  Labels labels;
  double value = 0;
};

struct Family {
  std::string help;
  std::string type;
  std::vector<Sample> samples;
};

// A histogram's samples belong to the family its TYPE line named.
std::string family_of(const std::map<std::string, Family>& families, const std::string& sample) {
  for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
    if (sample.size() <= suffix.size() ||
        sample.compare(sample.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const auto base = sample.substr(0, sample.size() - suffix.size());
    const auto it = families.find(base);
    if (it != families.end() && it->second.type == "histogram") return base;
  }
  return sample;
}

// A reader for the subset of the text format the serializer writes, with
// label-value unescaping, so tests compare values rather than spellings.
std::map<std::string, Family> parse(const std::string& text) {
  std::map<std::string, Family> families;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      const auto space = line.find(' ', 7);
      families[line.substr(7, space - 7)].help = line.substr(space + 1);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      const auto space = line.find(' ', 7);
      families[line.substr(7, space - 7)].type = line.substr(space + 1);
      continue;
    }
    REQUIRE_FALSE(line.empty());
    std::size_t pos = line.find_first_of("{ ");
    const std::string name = line.substr(0, pos);
    Sample sample;
    sample.name = name;
    if (line[pos] == '{') {
      ++pos;
      while (line[pos] != '}') {
        const auto eq = line.find('=', pos);
        const std::string label = line.substr(pos, eq - pos);
        REQUIRE(line[eq + 1] == '"');
        std::string value;
        pos = eq + 2;
        while (line[pos] != '"') {
          if (line[pos] == '\\') {
            ++pos;
            value += line[pos] == 'n' ? '\n' : line[pos];
          } else {
            value += line[pos];
          }
          ++pos;
        }
        sample.labels[label] = value;
        ++pos;
        if (line[pos] == ',') ++pos;
      }
      ++pos;
    }
    sample.value = std::stod(line.substr(pos + 1));
    families[family_of(families, name)].samples.push_back(sample);
  }
  return families;
}

const Sample& find(const std::map<std::string, Family>& families, const std::string& name,
                   const Labels& labels) {
  const auto family = families.find(family_of(families, name));
  REQUIRE(family != families.end());
  for (const auto& sample : family->second.samples) {
    bool match = sample.name == name;
    for (const auto& [k, v] : labels) {
      const auto it = sample.labels.find(k);
      match = match && it != sample.labels.end() && it->second == v;
    }
    if (match) return sample;
  }
  FAIL("no sample of " << name << " with the given labels");
  throw;
}

Labels node_labels(const std::string& pipeline, const std::string& node) {
  return {{"process", "member-1"}, {"pipeline", pipeline}, {"node", node}};
}

}  // namespace

TEST_CASE("promtool accepts the exposition of a rich snapshot") {
  const auto result = promtool_check_metrics(to_prometheus_text(rich_snapshot()));
  INFO(result.output);
  CHECK(result.exit_status == 0);
  CHECK(result.output.empty());
}

TEST_CASE("promtool accepts the exposition of an empty snapshot") {
  MetricsSnapshot empty;
  empty.process = "local";
  const auto result = promtool_check_metrics(to_prometheus_text(empty));
  INFO(result.output);
  CHECK(result.exit_status == 0);
}

TEST_CASE("every family is prefixed, documented, typed, and named by its type") {
  const auto families = parse(to_prometheus_text(rich_snapshot()));
  const std::set<std::string> expected = {
      "streamlab_node_frames_in_total",
      "streamlab_node_frames_out_total",
      "streamlab_node_errors_total",
      "streamlab_node_restarts_total",
      "streamlab_node_skipped_total",
      "streamlab_node_dropped_total",
      "streamlab_node_dead_lettered_total",
      "streamlab_node_processing_seconds",
      "streamlab_node_end_to_end_seconds",
      "streamlab_node_busy_ratio",
      "streamlab_node_backpressured_ratio",
      "streamlab_node_idle_ratio",
      "streamlab_node_queue_capacity_frames",
      "streamlab_node_queue_max_occupancy_frames",
      "streamlab_node_state",
      "streamlab_edge_frames_total",
      "streamlab_edge_queue_capacity_frames",
      "streamlab_edge_queue_occupancy_frames",
      "streamlab_edge_queue_max_occupancy_frames",
      "streamlab_edge_backpressured",
      "streamlab_edge_backpressure_episodes_total",
      "streamlab_pipeline_state",
      "streamlab_buffer_pool_hits_total",
      "streamlab_buffer_pool_misses_total",
      "streamlab_process_resident_memory_bytes",
      "streamlab_process_cpu_seconds_total",
      "streamlab_process_threads",
  };
  std::set<std::string> names;
  for (const auto& [name, family] : families) {
    INFO(name);
    names.insert(name);
    CHECK(name.rfind("streamlab_", 0) == 0);
    CHECK_FALSE(family.help.empty());
    CHECK_FALSE(family.samples.empty());
    const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    CHECK((family.type == "counter") == total);
    const bool seconds = name.size() > 8 && name.compare(name.size() - 8, 8, "_seconds") == 0;
    CHECK((family.type == "counter" || family.type == "gauge" ||
           (family.type == "histogram" && seconds)));
  }
  CHECK(names == expected);
}

TEST_CASE("labels come from a fixed set and carry no unbounded values") {
  const std::set<std::string> allowed = {"process", "pipeline", "node",  "reason", "from",
                                         "to",      "port",     "state", "le"};
  const auto snapshot = rich_snapshot();
  const auto families = parse(to_prometheus_text(snapshot));
  std::size_t series = 0;
  for (const auto& [name, family] : families) {
    for (const auto& sample : family.samples) {
      ++series;
      for (const auto& [label, value] : sample.labels) {
        INFO(name << " " << label << "=" << value);
        CHECK(allowed.count(label) == 1);
      }
      CHECK(sample.labels.at("process") == "member-1");
    }
  }
  // Series grow with nodes and edges, not with traffic: the same pipelines
  // after a million more frames give the same series.
  auto later = snapshot;
  for (auto& node : later.nodes) node.frames_in += 1'000'000;
  for (auto& edge : later.edges) edge.frames += 1'000'000;
  later.time_ns += 1'000'000'000;
  std::size_t later_series = 0;
  for (const auto& [name, family] : parse(to_prometheus_text(later))) {
    later_series += family.samples.size();
  }
  CHECK(later_series == series);
}

TEST_CASE("node counters, drops by every reason, and latency in seconds") {
  const auto snapshot = rich_snapshot();
  const auto families = parse(to_prometheus_text(snapshot));
  const NodeSnapshot& node = snapshot.nodes[2];  // demo/restarting_node
  const auto id = node_labels(node.pipeline, node.node);

  CHECK(find(families, "streamlab_node_frames_in_total", id).value == node.frames_in);
  CHECK(find(families, "streamlab_node_frames_out_total", id).value == node.frames_out);
  CHECK(find(families, "streamlab_node_errors_total", id).value == node.errors);
  CHECK(find(families, "streamlab_node_restarts_total", id).value == node.restarts);
  CHECK(find(families, "streamlab_node_skipped_total", id).value == node.skipped);
  CHECK(find(families, "streamlab_node_dead_lettered_total", id).value == node.dead_lettered);
  for (std::size_t r = 0; r < kDropReasonCount; ++r) {
    auto with_reason = id;
    with_reason["reason"] = to_string(static_cast<DropReason>(r));
    CHECK(find(families, "streamlab_node_dropped_total", with_reason).value == node.dropped[r]);
  }
  CHECK(find(families, "streamlab_node_busy_ratio", id).value == Approx(0.03));
  CHECK(find(families, "streamlab_node_backpressured_ratio", id).value == Approx(0.015));
  CHECK(find(families, "streamlab_node_idle_ratio", id).value == Approx(0.955));
  CHECK(find(families, "streamlab_node_queue_capacity_frames", id).value == 32);
  CHECK(find(families, "streamlab_node_queue_max_occupancy_frames", id).value ==
        node.queue_max_occupancy);
}

TEST_CASE("latency is two histograms in seconds: cumulative buckets from 1 us to 10 s") {
  const auto snapshot = rich_snapshot();
  const auto text = to_prometheus_text(snapshot);
  const auto families = parse(text);
  const NodeSnapshot& node = snapshot.nodes[2];
  const auto id = node_labels(node.pipeline, node.node);
  for (const auto& [name, buckets] :
       {std::pair<std::string, LatencyBuckets>{"streamlab_node_processing_seconds",
                                               node.processing_buckets},
        {"streamlab_node_end_to_end_seconds", node.end_to_end_buckets}}) {
    INFO(name);
    REQUIRE(families.at(name).type == "histogram");
    // Bounds in seconds, written as Prometheus reads them: le="1e-06" is
    // 1 us exactly, so every member's series meet on the same label values.
    std::vector<std::string> les;
    std::uint64_t expected = 0;
    double previous = 0;
    for (std::size_t i = 0; i < LatencyHistogram::kExportBuckets; ++i) {
      auto with_le = id;
      const bool inf = i == LatencyHistogram::kExportBoundsNs.size();
      expected += buckets.counts[i];
      const auto& family = families.at(name);
      const Sample* found = nullptr;
      for (const auto& sample : family.samples) {
        if (sample.name != name + "_bucket") continue;
        bool match = true;
        for (const auto& [k, v] : id) match = match && sample.labels.at(k) == v;
        if (!match) continue;
        const auto le = sample.labels.at("le");
        const double bound = inf ? HUGE_VAL : LatencyHistogram::kExportBoundsNs[i] / 1e9;
        if ((inf && le == "+Inf") || (!inf && le != "+Inf" && std::stod(le) == Approx(bound)))
          found = &sample;
      }
      REQUIRE(found != nullptr);
      CHECK(found->value == expected);  // cumulative
      CHECK(found->value >= previous);  // monotonic
      previous = found->value;
    }
    CHECK(find(families, name + "_count", id).value == buckets.count());
    CHECK(find(families, name + "_count", id).value == expected);
    CHECK(find(families, name + "_sum", id).value == Approx(buckets.sum_seconds));
  }
  CHECK_THAT(text, Contains("le=\"1e-06\"") && Contains("le=\"0.0025\"") && Contains("le=\"10\"") &&
                       Contains("le=\"+Inf\""));
}

TEST_CASE("drop reasons are all present even when nothing was dropped") {
  MetricsSnapshot snapshot;
  snapshot.process = "local";
  NodeSnapshot node;
  node.pipeline = "p";
  node.node = "n";
  node.state = "running";
  snapshot.nodes.push_back(node);
  const auto families = parse(to_prometheus_text(snapshot));
  const auto& dropped = families.at("streamlab_node_dropped_total").samples;
  REQUIRE(dropped.size() == kDropReasonCount);
  std::set<std::string> reasons;
  for (const auto& sample : dropped) {
    reasons.insert(sample.labels.at("reason"));
    CHECK(sample.value == 0);
  }
  CHECK(reasons == std::set<std::string>{"member_down", "node_failed", "overflow", "shutdown",
                                         "too_large", "undecodable"});
}

TEST_CASE("states are state sets: 1 for the current state, 0 for the others") {
  const auto snapshot = rich_snapshot();
  const auto families = parse(to_prometheus_text(snapshot));

  for (const auto& sample : families.at("streamlab_node_state").samples) {
    const bool current = sample.labels.at("node") == sample.labels.at("state") + "_node";
    CHECK(sample.value == (current ? 1 : 0));
  }
  CHECK(families.at("streamlab_node_state").samples.size() == snapshot.nodes.size() * 7);

  const Labels process = {{"process", "member-1"}};
  auto state_of = [&](const std::string& pipeline, const std::string& state) {
    auto labels = process;
    labels["pipeline"] = pipeline;
    labels["state"] = state;
    return find(families, "streamlab_pipeline_state", labels).value;
  };
  CHECK(state_of("demo", "running") == 1);
  CHECK(state_of("demo", "degraded") == 0);
  CHECK(state_of("capture", "degraded") == 1);
  CHECK(state_of("capture", "running") == 0);
  CHECK(state_of("capture", "failed") == 0);
  CHECK(state_of("capture", "finished") == 0);
}

TEST_CASE("a state outside the known list still shows as the current one") {
  MetricsSnapshot snapshot;
  snapshot.process = "local";
  NodeSnapshot node;
  node.pipeline = "p";
  node.node = "n";
  node.state = "draining";
  snapshot.nodes.push_back(node);
  const auto families = parse(to_prometheus_text(snapshot));
  CHECK(find(families, "streamlab_node_state", {{"state", "draining"}}).value == 1);
  CHECK(find(families, "streamlab_node_state", {{"state", "running"}}).value == 0);
}

TEST_CASE("edges, pool and process figures") {
  const auto snapshot = rich_snapshot();
  const auto families = parse(to_prometheus_text(snapshot));
  const Labels edge = {{"process", "member-1"},
                       {"pipeline", "capture"},
                       {"from", "running_node"},
                       {"to", "finished_node"},
                       {"port", "2"}};
  CHECK(find(families, "streamlab_edge_frames_total", edge).value == 502);
  CHECK(find(families, "streamlab_edge_queue_capacity_frames", edge).value == 32);
  CHECK(find(families, "streamlab_edge_queue_occupancy_frames", edge).value == 5);
  CHECK(find(families, "streamlab_edge_queue_max_occupancy_frames", edge).value == 9);
  CHECK(find(families, "streamlab_edge_backpressured", edge).value == 0);
  CHECK(find(families, "streamlab_edge_backpressure_episodes_total", edge).value == 8);
  auto port1 = edge;
  port1["port"] = "1";
  CHECK(find(families, "streamlab_edge_backpressured", port1).value == 1);
  CHECK(families.at("streamlab_edge_frames_total").samples.size() == snapshot.edges.size());

  const Labels process = {{"process", "member-1"}};
  CHECK(find(families, "streamlab_buffer_pool_hits_total", process).value == 900);
  CHECK(find(families, "streamlab_buffer_pool_misses_total", process).value == 38);
  CHECK(find(families, "streamlab_process_resident_memory_bytes", process).value == 48 << 20);
  CHECK(find(families, "streamlab_process_cpu_seconds_total", process).value == 1.25);
  CHECK(find(families, "streamlab_process_threads", process).value == 9);
}

TEST_CASE("label values with quotes, backslashes and line breaks are escaped") {
  MetricsSnapshot snapshot;
  snapshot.process = "host \"a\"";
  snapshot.pipelines = {{"pipe\\line", "running", ""}};
  NodeSnapshot node;
  node.pipeline = "pipe\\line";
  node.node = "say \"hi\"\\\nbye";
  node.state = "running";
  node.frames_in = 7;
  snapshot.nodes.push_back(node);
  EdgeSnapshot edge;
  edge.pipeline = "pipe\\line";
  edge.from = "say \"hi\"\\\nbye";
  edge.to = "sink\n";
  snapshot.edges.push_back(edge);

  const std::string text = to_prometheus_text(snapshot);
  CHECK_THAT(text, Contains("node=\"say \\\"hi\\\"\\\\\\nbye\""));
  CHECK_THAT(text, Contains("pipeline=\"pipe\\\\line\""));
  CHECK_THAT(text, Contains("process=\"host \\\"a\\\"\""));
  CHECK_THAT(text, Contains("to=\"sink\\n\""));

  const auto families = parse(text);
  CHECK(find(families, "streamlab_node_frames_in_total",
             {{"process", "host \"a\""}, {"pipeline", "pipe\\line"}, {"node", node.node}})
            .value == 7);

  const auto result = promtool_check_metrics(text);
  INFO(result.output);
  CHECK(result.exit_status == 0);
}

TEST_CASE("label values that are not UTF-8 are repaired rather than breaking the scrape") {
  MetricsSnapshot snapshot;
  snapshot.process =
      "bad\xff"
      "byte";
  NodeSnapshot node;
  node.pipeline = "caf\xc3\xa9";  // valid: stays as it is
  node.node = "cut\xe2\x82";      // truncated sequence
  node.state = "running";
  snapshot.nodes.push_back(node);
  const std::string text = to_prometheus_text(snapshot);
  CHECK_THAT(text, Contains("process=\"bad\xef\xbf\xbd"
                            "byte\""));
  CHECK_THAT(text, Contains("pipeline=\"caf\xc3\xa9\""));
  CHECK_THAT(text, Contains("node=\"cut\xef\xbf\xbd\xef\xbf\xbd\""));
  const auto result = promtool_check_metrics(text);
  INFO(result.output);
  CHECK(result.exit_status == 0);
}

TEST_CASE("the same snapshot always gives the same text") {
  const auto snapshot = rich_snapshot();
  CHECK(to_prometheus_text(snapshot) == to_prometheus_text(snapshot));
}

TEST_CASE("a node type's own figures are one gauge family, labelled by figure name") {
  MetricsSnapshot snapshot = streamlab::test::rich_snapshot();
  NodeSnapshot capture;
  capture.pipeline = "capture";
  capture.node = "mic";
  capture.type = "audio_capture";
  capture.state = "running";
  capture.figures = {{"xruns", 3}, {"clock_drift_ppm", -12.5}, {"callback_period_p99_us", 5400}};
  snapshot.nodes.push_back(capture);

  const std::string text = to_prometheus_text(snapshot);
  const auto result = promtool_check_metrics(text);
  INFO(result.output);
  CHECK(result.exit_status == 0);
  CHECK(result.output.empty());

  const auto families = parse(text);
  const auto& family = families.at("streamlab_node_figure");
  CHECK(family.type == "gauge");
  CHECK(family.samples.size() == 3);  // only the node that has figures
  auto id = node_labels("capture", "mic");
  id["name"] = "clock_drift_ppm";
  CHECK(find(families, "streamlab_node_figure", id).value == -12.5);
  id["name"] = "xruns";
  CHECK(find(families, "streamlab_node_figure", id).value == 3);
  for (const auto& sample : family.samples) {
    std::set<std::string> labels;
    for (const auto& [label, value] : sample.labels) labels.insert(label);
    CHECK(labels == std::set<std::string>{"process", "pipeline", "node", "name"});
  }

  // Without figures anywhere the family is not there at all.
  CHECK(
      parse(to_prometheus_text(streamlab::test::rich_snapshot())).count("streamlab_node_figure") ==
      0);
}
