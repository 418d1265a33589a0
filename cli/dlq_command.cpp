// streamlab dlq inspect FILE: one row per dead letter (or --json).
// streamlab dlq replay FILE --into PIPELINE.json --node ID: runs the stored
// frames through ID and everything downstream of it.

#include <algorithm>
#include <atomic>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/pipeline_runner.hpp"
#include "cli/commands.hpp"
#include "cli/problem_output.hpp"
#include "cli/run_report.hpp"
#include "cli/run_support.hpp"
#include "nodes/registry.hpp"
#include "runtime/dead_letter_file.hpp"
#include "runtime/pipeline_spec.hpp"
#include "runtime/pipeline_surgery.hpp"

namespace streamlab::cli {

namespace {

// --- inspect ----------------------------------------------------------------

struct InspectArgs {
  std::string file;
  bool json = false;
};

// "2024-06-11T08:15:02.123Z"; floor division so times before 1970 are right too.
std::string iso8601_utc_ms(std::int64_t ns) {
  constexpr std::int64_t kNsPerS = 1'000'000'000;
  std::int64_t s = ns / kNsPerS;
  std::int64_t rem = ns % kNsPerS;
  if (rem < 0) {
    rem += kNsPerS;
    --s;
  }
  const std::time_t t = static_cast<std::time_t>(s);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return std::to_string(ns) + " ns";
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  std::ostringstream os;
  os << date << '.' << std::setw(3) << std::setfill('0') << rem / 1'000'000 << 'Z';
  return os.str();
}

// Texts come from a file: keep control characters (a newline in an error
// message, or a terminal escape in a hostile file) out of the table.
std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

std::string describe_frames(const Frame& f) {
  return std::to_string(f.channels) + " x " + std::to_string(f.frames) + " @ " +
         std::to_string(f.sample_rate);
}

json letter_to_json(const DeadLetter& d, std::uint64_t offset) {
  json metadata = json::object();
  if (d.frame.metadata)
    for (const auto& [key, value] : *d.frame.metadata) metadata[key] = value;
  return {{"offset", offset},
          {"time", iso8601_utc_ms(d.time_ns)},
          {"time_ns", d.time_ns},
          {"pipeline", d.pipeline},
          {"node", d.node},
          {"port", d.port},
          {"reason", d.reason},
          {"error", d.error},
          {"attempts", d.attempts},
          {"frame",
           {{"seq", d.frame.seq},
            {"timestamp_ns", d.frame.timestamp_ns},
            {"sample_rate", d.frame.sample_rate},
            {"channels", d.frame.channels},
            {"frames", d.frame.frames},
            {"metadata", metadata}}}};
}

void print_table(std::ostream& os, const std::vector<std::vector<std::string>>& rows) {
  const std::vector<std::string> header = {"TIME",   "PIPELINE", "NODE",   "PORT", "SEQ",
                                           "REASON", "ATTEMPTS", "FRAMES", "ERROR"};
  const std::vector<bool> numeric = {false, false, false, true, true, false, true, false, false};
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c + 1 == cells.size()) {
        os << cells[c];  // the last column (ERROR) is not padded
      } else {
        os << (numeric[c] ? std::right : std::left) << std::setw(static_cast<int>(width[c]))
           << cells[c] << "  ";
      }
    }
    os << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
}

int inspect(const InspectArgs& args) {
  // Each record becomes its row at once and its samples go back to the
  // pool: inspecting a large file holds text, not audio.
  std::vector<std::vector<std::string>> rows;
  json array = json::array();
  std::string error;
  try {
    DeadLetterReader reader(args.file, BufferPool::process_pool());
    DeadLetter d;
    for (std::uint64_t offset = reader.offset(); reader.next(d); offset = reader.offset()) {
      if (args.json) {
        array.push_back(letter_to_json(d, offset));
        continue;
      }
      rows.push_back({iso8601_utc_ms(d.time_ns), printable(d.pipeline), printable(d.node),
                      std::to_string(d.port), std::to_string(d.frame.seq), printable(d.reason),
                      std::to_string(d.attempts), describe_frames(d.frame), printable(d.error)});
    }
    error = reader.error();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitInvalidInput;
  }

  if (args.json) {
    // Texts from the file need not be valid UTF-8; replace rather than throw.
    std::cout << array.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  } else if (rows.empty() && error.empty()) {
    std::cout << "no dead letters in \"" << args.file << "\"\n";
  } else {
    print_table(std::cout, rows);
  }
  if (!error.empty()) {
    std::cout.flush();
    std::cerr << "error: " << error << '\n';
    return kExitInvalidInput;
  }
  return kExitOk;
}

// --- replay -----------------------------------------------------------------

struct ReplayArgs {
  std::string file;
  std::string pipeline;
  std::string node;
  std::string only_from;
  bool only_from_given = false;
  std::string metrics_json;
  bool quiet = false;
};

// "out.wav" -> "out.replay.wav": the name a replay writes instead of a
// file the pipeline names. The extension is kept (it picks the container).
std::string beside(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + ".replay" + p.extension().string())).string();
}

// A replay never writes over anything: every file the pipeline would write
// (a sink's path, its dead letters) is written beside it under beside()'s
// name, and the replay's own failures go to beside(the file it reads), never
// into it. Before anything starts, a sidecar "FILE.replayed" records what
// the replay writes; while it or any of those files exists, a second replay
// is refused, so replaying twice never delivers a frame twice. Returns the
// first problem, empty when the replay may go ahead.
std::string redirect_outputs(PipelineSpec& replay_spec, const std::string& letters_file,
                             const NodeRegistry& registry, std::vector<std::string>& written) {
  for (auto& node : replay_spec.nodes) {
    const NodeType* type = registry.find(node.type);
    if (!type) continue;
    for (const auto& field : type->schema.fields) {
      if (field.path_check != PathCheck::writable_file || !node.config.contains(field.name))
        continue;
      const std::string moved = beside(node.config.at(field.name).get<std::string>());
      node.config[field.name] = moved;
      written.push_back(moved);
    }
  }
  replay_spec.config.dead_letter_path = beside(letters_file);
  written.push_back(replay_spec.config.dead_letter_path);
  const std::string sidecar = letters_file + ".replayed";
  std::error_code ec;
  if (std::filesystem::exists(sidecar, ec)) {
    return "\"" + letters_file + "\" was already replayed (see \"" + sidecar +
           "\"); a second replay would deliver its frames again. To replay it again, delete \"" +
           sidecar + "\" and the files it lists";
  }
  for (const auto& path : written) {
    if (std::filesystem::exists(path, ec)) {
      return "\"" + path +
             "\" exists, and a replay never overwrites a file (it writes beside the "
             "pipeline's outputs, under .replay names); move or delete it to replay";
    }
  }
  return {};
}

int replay(const ReplayArgs& args) {
  const auto& registry = NodeRegistry::builtin();
  std::optional<PipelineSpec> loaded = load_or_report(args.pipeline);
  if (!loaded) return kExitInvalidInput;
  const PipelineSpec& spec = *loaded;
  if (spec.index_of(args.node) < 0) {
    std::cerr << "error: --node: pipeline \"" << spec.name << "\" (" << args.pipeline
              << ") has no node \"" << args.node << "\"; its nodes: " << node_id_list(spec) << "\n";
    return kExitInvalidInput;
  }

  PipelineSpec replay_spec;
  try {
    replay_spec = replay_pipeline(
        spec, args.node, args.file,
        args.only_from_given ? std::optional<std::string>(args.only_from) : std::nullopt);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: --node: " << e.what() << '\n';
    return kExitInvalidInput;
  }

  // The replay spec is built, not parsed, so its source's config is judged
  // here, by the same rules a pipeline file would be: the file is readable
  // and starts with a dead letter.
  const NodeSpec& source = replay_spec.nodes.front();
  const NodeType* source_type = registry.find(source.type);
  Problems problems;
  validate_config(source_type->schema, source.config, Problem{}, problems);
  if (!problems.empty()) {
    for (const auto& p : problems) std::cerr << "error: " << p.message << '\n';
    std::cerr << "nothing was started\n";
    return kExitInvalidInput;
  }

  std::vector<std::string> written;
  const std::string refused = redirect_outputs(replay_spec, args.file, registry, written);
  if (!refused.empty()) {
    std::cerr << "error: dlq replay: " << refused << "\nnothing was started\n";
    return kExitInvalidInput;
  }
  {
    std::ofstream sidecar(args.file + ".replayed");
    sidecar << "replayed into node \"" << args.node << "\" of pipeline \"" << spec.name << "\" ("
            << args.pipeline << "); the replay wrote (or may have written):\n";
    for (const auto& path : written) sidecar << path << '\n';
    if (!sidecar) {
      std::cerr << "error: dlq replay: cannot write \"" << args.file
                << ".replayed\", the record that keeps a second replay from repeating frames\n"
                   "nothing was started\n";
      return kExitInvalidInput;
    }
  }
  spdlog::info(
      "the replay writes beside the pipeline's files, never over them; its failures go "
      "to \"{}\"",
      written.back());

  RunOptions options;
  options.interrupts = &install_interrupt_handlers();
  const std::string letters_of = source.config.at("node").get<std::string>();
  spdlog::info("replaying the dead letters of {} from \"{}\" into node \"{}\" of pipeline \"{}\"",
               letters_of.empty() ? std::string("every node") : "node \"" + letters_of + "\"",
               args.file, args.node, spec.name);
  RunResult result = run_pipeline(replay_spec, registry, options);
  if (!result.started) {
    // Nothing was delivered: the record would only stand in the way.
    std::error_code ignored;
    std::filesystem::remove(args.file + ".replayed", ignored);
    std::cerr << "error: " << result.error << "\nnothing was started\n";
    return kExitInvalidInput;
  }
  if (!args.quiet) print_summary(std::cout, replay_spec.name, result);
  if (!args.metrics_json.empty()) {
    std::string error = write_metrics_json(args.metrics_json, replay_spec.name, result);
    if (!error.empty()) {
      std::cerr << "error: --metrics-json: " << error << '\n';
      return kExitRunFailed;
    }
  }
  if (!result.succeeded()) {
    std::cerr << "error: the replay had failed nodes (see the table)\n";
    return kExitRunFailed;
  }
  return kExitOk;
}

}  // namespace

void add_dlq_command(CLI::App& app, Action& action) {
  auto* dlq = app.add_subcommand(
      "dlq", "Inspect and replay dead letters: frames that nodes gave up on, with the reason");
  dlq->require_subcommand(1);

  auto inspect_args = std::make_shared<InspectArgs>();
  auto* inspect_cmd =
      dlq->add_subcommand("inspect",
                          "List the dead letters in a file, one row each (exit 1 if "
                          "the file is truncated or damaged, after what was read)");
  inspect_cmd->add_option("file", inspect_args->file, "Dead-letter file")->required();
  inspect_cmd->add_flag("--json", inspect_args->json, "Print a JSON array of objects instead");
  inspect_cmd->callback(
      [&action, inspect_args] { action = [inspect_args] { return inspect(*inspect_args); }; });

  auto replay_args = std::make_shared<ReplayArgs>();
  auto* replay_cmd = dlq->add_subcommand(
      "replay",
      "Run the frames of a dead-letter file through a node of a pipeline and everything "
      "downstream of it (nodes upstream are left out; a node with several inputs gets the "
      "frames on its first)");
  replay_cmd->add_option("file", replay_args->file, "Dead-letter file")->required();
  replay_cmd->add_option("--into", replay_args->pipeline, "Pipeline JSON file")->required();
  replay_cmd->add_option("--node", replay_args->node, "Node id to feed the frames into")
      ->required();
  auto* only_from = replay_cmd->add_option(
      "--frames-only-from", replay_args->only_from,
      "Replay only the dead letters of this node id (default: those of --node; \"\": all)");
  replay_cmd->add_option("--metrics-json", replay_args->metrics_json,
                         "Write the final metrics snapshot (JSON) to FILE");
  replay_cmd->add_flag("--quiet", replay_args->quiet, "Do not print the per-node table");
  replay_cmd->callback([&action, replay_args, only_from] {
    replay_args->only_from_given = only_from->count() > 0;
    action = [replay_args] { return replay(*replay_args); };
  });
}

}  // namespace streamlab::cli
