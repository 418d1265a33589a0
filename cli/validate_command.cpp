// streamlab validate PIPELINE.json...: report every problem, start nothing.

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/problem_output.hpp"
#include "nodes/registry.hpp"
#include "runtime/pipeline_spec.hpp"

namespace streamlab::cli {

namespace {

int validate(const std::vector<std::string>& files) {
  const auto types = NodeRegistry::builtin().schemas();
  bool all_valid = true;
  for (const auto& file : files) {
    ParseResult parsed = load_pipeline_file(file, types);
    if (parsed.problems.empty()) {
      std::cout << file << ": valid (" << parsed.spec->nodes.size() << " nodes, "
                << parsed.spec->connections.size() << " connections)\n";
    } else {
      all_valid = false;
      print_problems(std::cerr, parsed.problems);
    }
  }
  return all_valid ? kExitOk : kExitInvalidInput;
}

}  // namespace

void add_validate_command(CLI::App& app, Action& action) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand(
      "validate",
      "Check pipeline files and report every problem with its location (exit 1 if any)");
  cmd->add_option("pipeline", *files, "Pipeline JSON file(s)")->required();
  cmd->callback([&action, files] { action = [files] { return validate(*files); }; });
}

}  // namespace streamlab::cli
