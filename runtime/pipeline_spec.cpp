#include "runtime/pipeline_spec.hpp"

#include "messages/input_limits.hpp"
#include "runtime/bounded_json.hpp"
#include "runtime/json_text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

namespace streamlab {

namespace {

const std::vector<std::string> kTopLevelKeys = {"name", "pipeline_config", "nodes", "connections",
                                                "description"};
const std::vector<std::string> kNodeKeys = {"id", "type", "config", "supervision", "on"};
const std::vector<std::string> kConnectionKeys = {"from", "to", "capacity"};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string at(const std::string& parent, const std::string& key) {
  return parent + "/" + pointer_token(key);
}
std::string at(const std::string& parent, std::size_t index) {
  return parent + "/" + std::to_string(index);
}

// For the refusal of what is not a regular file.
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a named pipe (FIFO)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

std::optional<std::size_t> as_capacity(const json& value) {
  if (!value.is_number()) return std::nullopt;
  double v = value.get<double>();
  if (!std::isfinite(v) || std::floor(v) != v || v < 1 ||
      v > static_cast<double>(PipelineConfig::kMaxChannelCapacity))
    return std::nullopt;
  return static_cast<std::size_t>(v);
}

std::string capacity_rule() {
  return "an integer in [1, " + std::to_string(PipelineConfig::kMaxChannelCapacity) + "]";
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// One parse: collects problems instead of stopping at the first, and keeps
// enough bookkeeping (JSON indices, schemas, graph edges) to locate each one.
class PipelineParser {
 public:
  PipelineParser(const std::string& file, const std::vector<const NodeTypeSchema*>& types)
      : file_(file) {
    for (const auto* t : types)
      if (t) types_[t->type] = t;
    spec_.file = file;
  }

  ParseResult run(const char* text, std::size_t size) {
    try {
      check(text, size);
    } catch (const std::exception& e) {
      // Validation only reads what the bounded parser built, so nothing
      // should throw; if something does, it is one more problem to report.
      report("", "", std::string("internal error while validating: ") + e.what());
    }
    return finish();
  }

 private:
  void check(const char* text, std::size_t size) {
    BoundedJson parsed = parse_bounded_json(text, size, pipeline_json_bounds());
    if (parsed.failure) {
      const JsonFailure& f = *parsed.failure;
      std::string where = f.pointer.empty() ? f.position : f.pointer;
      std::string message = f.message;
      if (!f.pointer.empty() && !f.position.empty()) message += " (" + f.position + ")";
      report(where, "", message);
      return;
    }
    const json& doc = *parsed.document;
    if (!doc.is_object()) {
      report("", "", "the pipeline must be a JSON object, got " + shown(doc));
      return;
    }
    check_keys(doc, kTopLevelKeys, "", "", "top-level key");
    parse_name(doc);
    check_description(doc);
    parse_pipeline_config(doc);
    parse_nodes(doc);
    parse_connections(doc);
    check_graph();
  }

  struct NodeInfo {
    std::size_t json_index;
    const NodeTypeSchema* schema;     // null when the type is unknown
    std::vector<std::size_t> inputs;  // "connections" indices into this node
  };
  struct Edge {
    std::size_t from, to;    // indices into spec_.nodes
    std::size_t json_index;  // in "connections"
  };

  void report(std::string path, std::string node_id, std::string message) {
    problems_.push_back(Problem{file_, std::move(path), std::move(node_id), std::move(message)});
  }

  ParseResult finish() {
    ParseResult result;
    if (problems_.empty()) result.spec = std::move(spec_);
    result.problems = std::move(problems_);
    return result;
  }

  void check_keys(const json& object, const std::vector<std::string>& allowed,
                  const std::string& path, const std::string& node_id, const std::string& what) {
    for (const auto& item : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end()) continue;
      report(at(path, item.key()), node_id,
             "unknown " + what + " " + in_quotes(item.key()) + " (allowed: " + join(allowed) + ")");
    }
  }

  std::string known_types() const {
    std::vector<std::string> names;
    for (const auto& entry : types_) names.push_back(entry.first);
    return join(names);
  }

  void parse_name(const json& doc) {
    auto it = doc.find("name");
    if (it == doc.end()) {
      auto stem = std::filesystem::path(file_).stem().string();
      spec_.name = stem.empty() ? "pipeline" : stem;
    } else if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      report("/name", "", "\"name\" must be a non-empty string, got " + shown(*it));
    } else {
      spec_.name = it->get<std::string>();
    }
  }

  void check_description(const json& doc) {
    auto it = doc.find("description");
    if (it != doc.end() && !it->is_string())
      report("/description", "", "\"description\" must be a string, got " + shown(*it));
  }

  // Keys other than those judged here belong to later layers and are kept, not judged.
  void parse_pipeline_config(const json& doc) {
    auto it = doc.find("pipeline_config");
    if (it == doc.end()) return;
    if (!it->is_object()) {
      report("/pipeline_config", "", "\"pipeline_config\" must be an object, got " + shown(*it));
      return;
    }
    spec_.config.raw = *it;
    parse_channel_capacity(*it);
    // Judged once here, not once per node that inherits it.
    spec_.config.supervision =
        merge_supervision(it->value("supervision", json()), SupervisionConfig{},
                          Problem{file_, "/pipeline_config/supervision", "", ""}, problems_);
    parse_dead_letter_path(*it);
    parse_backpressure(*it);
    parse_max_memory(*it);
  }

  void parse_max_memory(const json& config) {
    auto it = config.find("max_memory_bytes");
    if (it == config.end()) return;
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > 0)
      spec_.config.max_memory_bytes = it->get<std::uint64_t>();
    else
      report("/pipeline_config/max_memory_bytes", "",
             "\"max_memory_bytes\" must be a positive integer (bytes), got " + shown(*it));
  }

  // {"high_watermark": 0.9, "low_watermark": 0.7}: shares of the time a
  // producer waits for room on an edge.
  void parse_backpressure(const json& config) {
    auto it = config.find("backpressure");
    if (it == config.end()) return;
    const std::string where = "/pipeline_config/backpressure";
    if (!it->is_object()) {
      report(where, "", "\"backpressure\" must be an object, got " + shown(*it));
      return;
    }
    auto& cfg = spec_.config;
    for (const auto& [key, value] : it->items()) {
      double* target = key == "high_watermark"  ? &cfg.backpressure_high
                       : key == "low_watermark" ? &cfg.backpressure_low
                                                : nullptr;
      if (!target) {
        report(where + "/" + key, "",
               "unknown field \"" + key + "\" (known: high_watermark, low_watermark)");
      } else if (!value.is_number() || value.get<double>() <= 0 || value.get<double>() > 1) {
        report(where + "/" + key, "",
               "\"" + key + "\" must be a number in (0, 1], got " + shown(value));
      } else {
        *target = value.get<double>();
      }
    }
    if (cfg.backpressure_low >= cfg.backpressure_high)
      report(where, "",
             "\"low_watermark\" must be below \"high_watermark\", got " +
                 std::to_string(cfg.backpressure_low) + " and " +
                 std::to_string(cfg.backpressure_high));
  }

  void parse_channel_capacity(const json& config) {
    auto cap = config.find("channel_capacity");
    if (cap == config.end()) return;
    if (auto value = as_capacity(*cap))
      spec_.config.channel_capacity = *value;
    else
      report("/pipeline_config/channel_capacity", "",
             "\"channel_capacity\" must be " + capacity_rule() + ", got " + shown(*cap));
  }

  // The file is created by the runner, maybe long after validation, so only
  // what the user can fix now is judged: a file name in an existing directory.
  void parse_dead_letter_path(const json& config) {
    namespace fs = std::filesystem;
    auto it = config.find("dead_letter_path");
    if (it == config.end()) return;
    const std::string where = "/pipeline_config/dead_letter_path";
    if (!it->is_string()) {
      report(where, "", "\"dead_letter_path\" must be a string (a file path), got " + shown(*it));
      return;
    }
    const std::string& path = it->get_ref<const std::string&>();
    if (path.empty()) {
      report(where, "", "\"dead_letter_path\" must not be empty");
      return;
    }
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      report(where, "",
             "\"dead_letter_path\" " + in_quotes(path) +
                 " is a directory; it must name a file (in an existing directory)");
      return;
    }
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir, ec)) {
      report(where, "",
             "directory " + in_quotes(dir.string()) + " of \"dead_letter_path\" " +
                 in_quotes(path) + " does not exist");
      return;
    }
    spec_.config.dead_letter_path = path;
  }

  void parse_nodes(const json& doc) {
    auto it = doc.find("nodes");
    if (it == doc.end()) {
      report("/nodes", "", "missing \"nodes\" (an array of {\"id\", \"type\", \"config\"})");
      return;
    }
    if (!it->is_array()) {
      report("/nodes", "", "\"nodes\" must be an array, got " + shown(*it));
      return;
    }
    if (it->empty()) {
      report("/nodes", "", "the pipeline has no nodes");
      return;
    }
    if (it->size() > limits::kMaxPipelineNodes) {
      report("/nodes", "",
             "the pipeline has " + std::to_string(it->size()) + " nodes, more than the limit of " +
                 std::to_string(limits::kMaxPipelineNodes));
      return;
    }
    nodes_listed_ = true;
    for (std::size_t i = 0; i < it->size(); ++i) parse_node((*it)[i], i);
  }

  void parse_node(const json& node, std::size_t i) {
    const std::string path = at("/nodes", i);
    if (!node.is_object()) {
      report(path, "", "a node must be an object, got " + shown(node));
      all_nodes_known_ = false;
      return;
    }
    std::string id = parse_node_id(node, path);
    check_keys(node, kNodeKeys, path, id, "node key");
    const NodeTypeSchema* schema = parse_node_type(node, path, id);
    if (!schema || id.empty()) all_nodes_known_ = false;

    NodeSpec spec;
    spec.id = id;
    spec.type = schema ? schema->type : "";
    spec.supervision = node.value("supervision", json());
    spec.supervision_config =
        merge_supervision(spec.supervision, spec_.config.supervision,
                          Problem{file_, at(path, "supervision"), id, ""}, problems_);
    spec.config = parse_node_config(node, path, id, schema);
    spec.on = parse_node_placement(node, path, id);
    if (id.empty()) return;

    auto [existing, inserted] = ids_.emplace(id, spec_.nodes.size());
    if (!inserted) {
      report(at(path, "id"), id,
             "duplicate node id " + in_quotes(id) + " (first defined at " +
                 at("/nodes", infos_[existing->second].json_index) + ")");
      all_nodes_known_ = false;
      return;
    }
    spec_.nodes.push_back(std::move(spec));
    infos_.push_back(NodeInfo{i, schema, {}});
  }

  std::string parse_node_id(const json& node, const std::string& path) {
    auto it = node.find("id");
    if (it == node.end()) {
      report(at(path, "id"), "", "missing \"id\" (a non-empty string)");
    } else if (!it->is_string()) {
      report(at(path, "id"), "", "\"id\" must be a string, got " + shown(*it));
    } else if (it->get_ref<const std::string&>().empty()) {
      report(at(path, "id"), "", "\"id\" must not be empty");
    } else {
      return it->get<std::string>();
    }
    return {};
  }

  const NodeTypeSchema* parse_node_type(const json& node, const std::string& path,
                                        const std::string& id) {
    auto it = node.find("type");
    if (it == node.end()) {
      report(at(path, "type"), id, "missing \"type\" (known: " + known_types() + ")");
    } else if (!it->is_string()) {
      report(at(path, "type"), id, "\"type\" must be a string, got " + shown(*it));
    } else if (auto found = types_.find(it->get<std::string>()); found != types_.end()) {
      return found->second;
    } else {
      report(at(path, "type"), id,
             "unknown node type " + shown(*it) + " (known: " + known_types() + ")");
    }
    return nullptr;
  }

  json parse_node_config(const json& node, const std::string& path, const std::string& id,
                         const NodeTypeSchema* schema) {
    json config = node.value("config", json());
    if (!schema) return config;
    validate_config(*schema, config, Problem{file_, at(path, "config"), id, ""}, problems_);
    return with_defaults(*schema, config);
  }

  std::string parse_node_placement(const json& node, const std::string& path,
                                   const std::string& id) {
    auto it = node.find("on");
    if (it == node.end()) return {};
    if (it->is_string()) return it->get<std::string>();
    report(at(path, "on"), id, "\"on\" must be a string (a cluster member), got " + shown(*it));
    return {};
  }

  void parse_connections(const json& doc) {
    auto it = doc.find("connections");
    if (it == doc.end()) return;  // a lone node is judged by the input checks
    if (!it->is_array()) {
      report("/connections", "", "\"connections\" must be an array, got " + shown(*it));
      inputs_uncertain_ = true;
      return;
    }
    for (std::size_t i = 0; i < it->size(); ++i) parse_connection((*it)[i], i);
  }

  void parse_connection(const json& conn, std::size_t i) {
    const std::string path = at("/connections", i);
    if (!conn.is_object()) {
      report(path, "", "a connection must be an object, got " + shown(conn));
      inputs_uncertain_ = true;
      return;
    }
    check_keys(conn, kConnectionKeys, path, "", "connection key");
    ConnectionSpec spec;
    spec.capacity = parse_capacity(conn, path);
    auto from = connection_end(conn, path, "from");
    auto to = connection_end(conn, path, "to");
    if (!to) inputs_uncertain_ = true;
    if (from) check_output_allowed(*from, path);
    if (to) check_input_allowed(*to, path);
    if (!from || !to) {
      // Still an input of `to`: counting it avoids a spurious "missing input".
      if (to) infos_[*to].inputs.push_back(i);
      return;
    }
    spec.from = spec_.nodes[*from].id;
    spec.to = spec_.nodes[*to].id;
    if (is_new_edge(*from, *to, i, path)) {
      edges_.push_back(Edge{*from, *to, i});
      infos_[*to].inputs.push_back(i);
    }
    spec_.connections.push_back(std::move(spec));
  }

  std::size_t parse_capacity(const json& conn, const std::string& path) {
    auto it = conn.find("capacity");
    if (it == conn.end()) return spec_.config.channel_capacity;
    if (auto value = as_capacity(*it)) return *value;
    report(at(path, "capacity"), "",
           "\"capacity\" must be " + capacity_rule() + ", got " + shown(*it));
    return spec_.config.channel_capacity;
  }

  // Index of the node named by conn[key], or nullopt after reporting why not.
  std::optional<std::size_t> connection_end(const json& conn, const std::string& path,
                                            const std::string& key) {
    const std::string where = at(path, key);
    const std::string direction = key == "from" ? "from" : "to";
    auto it = conn.find(key);
    if (it == conn.end()) {
      report(where, "", "missing " + in_quotes(key) + " (a node id)");
    } else if (!it->is_string()) {
      report(where, "", in_quotes(key) + " must be a node id string, got " + shown(*it));
    } else if (auto found = ids_.find(it->get<std::string>()); found != ids_.end()) {
      return found->second;
    } else if (nodes_listed_) {  // without a node list every id is unknown: say it once
      report(where, "", "connection " + direction + " unknown node " + shown(*it));
    }
    return std::nullopt;
  }

  void check_output_allowed(std::size_t from, const std::string& path) {
    const auto* schema = infos_[from].schema;
    const std::string& id = spec_.nodes[from].id;
    if (schema && schema->is_sink())
      report(at(path, "from"), id,
             "node " + in_quotes(id) + " is a sink (type " + in_quotes(schema->type) +
                 ") and has no output");
  }

  void check_input_allowed(std::size_t to, const std::string& path) {
    const auto* schema = infos_[to].schema;
    const std::string& id = spec_.nodes[to].id;
    if (schema && schema->is_source())
      report(at(path, "to"), id,
             "node " + in_quotes(id) + " is a source (type " + in_quotes(schema->type) +
                 ") and takes no inputs");
  }

  // Self-loops and repeats are reported here and kept out of the graph, so
  // the cycle and input-count checks do not report them a second time.
  bool is_new_edge(std::size_t from, std::size_t to, std::size_t json_index,
                   const std::string& path) {
    const std::string& id = spec_.nodes[from].id;
    if (from == to) {
      report(path, id, "connection from " + in_quotes(id) + " to itself");
      return false;
    }
    auto [first, inserted] = edge_json_index_.emplace(std::make_pair(from, to), json_index);
    if (inserted) return true;
    report(path, spec_.nodes[to].id,
           "duplicate connection " + in_quotes(id) + " -> " + in_quotes(spec_.nodes[to].id) +
               " (same as " + at("/connections", first->second) + ")");
    return false;
  }

  // Each check runs only when what it needs is known, so one typo does not
  // cascade into reports about its neighbours.
  void check_graph() {
    if (!inputs_uncertain_) check_input_counts();
    if (all_nodes_known_ && !spec_.nodes.empty()) check_sources_and_sinks();
    check_cycles();
  }

  void check_input_counts() {
    for (std::size_t n = 0; n < spec_.nodes.size(); ++n) {
      const auto* schema = infos_[n].schema;
      if (!schema || schema->is_source()) continue;  // inputs to sources are reported per edge
      const auto& incoming = infos_[n].inputs;
      const std::string& id = spec_.nodes[n].id;
      if (incoming.size() < schema->min_inputs)
        report(at("/nodes", infos_[n].json_index), id,
               "missing input: node type " + in_quotes(schema->type) + " needs at least " +
                   plural(schema->min_inputs, "input") + ", has " +
                   std::to_string(incoming.size()));
      if (incoming.size() > schema->max_inputs)
        report(at(at("/connections", incoming[schema->max_inputs]), "to"), id,
               "too many inputs: node type " + in_quotes(schema->type) + " takes at most " +
                   plural(schema->max_inputs, "input") + ", has " +
                   std::to_string(incoming.size()));
    }
  }

  std::string types_where(bool (NodeTypeSchema::*role)() const) const {
    std::vector<std::string> names;
    for (const auto& entry : types_)
      if ((entry.second->*role)()) names.push_back(entry.first);
    return join(names);
  }

  void check_sources_and_sinks() {
    auto any = [&](bool (NodeTypeSchema::*role)() const) {
      return std::any_of(infos_.begin(), infos_.end(),
                         [&](const NodeInfo& info) { return (info.schema->*role)(); });
    };
    if (!any(&NodeTypeSchema::is_source))
      report("/nodes", "",
             "the pipeline has no source (a node type without inputs: " +
                 types_where(&NodeTypeSchema::is_source) + ")");
    if (!any(&NodeTypeSchema::is_sink))
      report("/nodes", "",
             "the pipeline has no sink (a node type without output: " +
                 types_where(&NodeTypeSchema::is_sink) + ")");
  }

  // Iterative DFS so a long chain in a hostile file cannot overflow the
  // stack. Every edge back to a node on the current path closes one cycle.
  void check_cycles() {
    enum class Mark { unvisited, on_path, done };
    std::vector<Mark> mark(spec_.nodes.size(), Mark::unvisited);
    std::vector<std::vector<const Edge*>> out(spec_.nodes.size());
    for (const auto& edge : edges_) out[edge.from].push_back(&edge);

    struct Step {
      std::size_t node;
      std::size_t next_edge;
    };
    std::vector<Step> path;
    for (std::size_t root = 0; root < spec_.nodes.size(); ++root) {
      if (mark[root] != Mark::unvisited) continue;
      mark[root] = Mark::on_path;
      path.push_back({root, 0});
      while (!path.empty()) {
        Step& step = path.back();
        if (step.next_edge == out[step.node].size()) {
          mark[step.node] = Mark::done;
          path.pop_back();
          continue;
        }
        const Edge& edge = *out[step.node][step.next_edge++];
        if (mark[edge.to] == Mark::on_path) report_cycle(path, edge);
        if (mark[edge.to] != Mark::unvisited) continue;
        mark[edge.to] = Mark::on_path;
        path.push_back({edge.to, 0});
      }
    }
  }

  template <typename Path>
  void report_cycle(const Path& path, const Edge& closing) {
    auto start = std::find_if(path.begin(), path.end(),
                              [&](const auto& step) { return step.node == closing.to; });
    std::string chain;
    for (auto it = start; it != path.end(); ++it)
      chain += in_quotes(spec_.nodes[it->node].id) + " -> ";
    chain += in_quotes(spec_.nodes[closing.to].id);
    report(at("/connections", closing.json_index), spec_.nodes[closing.to].id, "cycle: " + chain);
  }

  std::string file_;
  std::map<std::string, const NodeTypeSchema*> types_;  // sorted, for listings
  PipelineSpec spec_;
  Problems problems_;
  std::vector<NodeInfo> infos_;  // parallel to spec_.nodes
  std::map<std::string, std::size_t> ids_;
  std::vector<Edge> edges_;  // resolved connections, without self-loops and repeats
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> edge_json_index_;  // of edges_
  bool nodes_listed_ = false;      // "nodes" is a non-empty array
  bool all_nodes_known_ = true;    // every node has a usable id and a known type
  bool inputs_uncertain_ = false;  // some connection's target could not be resolved
};

}  // namespace

int PipelineSpec::index_of(const std::string& id) const {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].id == id) return static_cast<int>(i);
  return -1;
}

std::vector<const ConnectionSpec*> PipelineSpec::inputs_of(const std::string& id) const {
  std::vector<const ConnectionSpec*> out;
  for (const auto& c : connections)
    if (c.to == id) out.push_back(&c);
  return out;
}

std::vector<const ConnectionSpec*> PipelineSpec::outputs_of(const std::string& id) const {
  std::vector<const ConnectionSpec*> out;
  for (const auto& c : connections)
    if (c.from == id) out.push_back(&c);
  return out;
}

ParseResult parse_pipeline(const char* text, std::size_t size, const std::string& file,
                           const std::vector<const NodeTypeSchema*>& types) {
  return PipelineParser(file, types).run(text, size);
}

ParseResult parse_pipeline(const std::string& text, const std::string& file,
                           const std::vector<const NodeTypeSchema*>& types) {
  return parse_pipeline(text.data(), text.size(), file, types);
}

std::optional<Problem> read_pipeline_text(const std::string& path, std::string& text) {
  const auto problem = [&](const std::string& why) { return Problem{path, "", "", why}; };
  // Not blocking on a named pipe, nor reading a device: only a regular
  // file is opened (O_NONBLOCK so that opening a FIFO cannot wait for a
  // writer), and the descriptor is checked again after opening.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return problem(std::string("cannot read file: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return problem(std::string("cannot read: it is ") + file_kind(st.st_mode) +
                   ", not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return problem(std::string("cannot read file: ") + std::strerror(errno));
  std::optional<Problem> failed;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    failed = problem(std::string("cannot read: it is ") + file_kind(st.st_mode) +
                     ", not a regular file");
  } else {
    const std::size_t limit = limits::kMaxPipelineTextBytes;
    text.clear();
    char chunk[8192];
    for (;;) {
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        failed = problem(std::string("cannot read file: ") + std::strerror(errno));
        break;
      }
      if (n == 0) break;
      if (text.size() + static_cast<std::size_t>(n) > limit) {
        failed = problem("the file is larger than the limit of " + std::to_string(limit) +
                         " bytes for pipeline text");
        break;
      }
      text.append(chunk, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return failed;
}

ParseResult load_pipeline_file(const std::string& path,
                               const std::vector<const NodeTypeSchema*>& types) {
  std::string text;
  if (auto why = read_pipeline_text(path, text)) {
    ParseResult result;
    result.problems.push_back(std::move(*why));
    return result;
  }
  return parse_pipeline(text, path, types);
}

}  // namespace streamlab
