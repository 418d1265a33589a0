// streamlab nodes: every node type with its config fields, generated from
// the same schemas that validation uses.

#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.hpp"
#include "nodes/registry.hpp"

namespace streamlab::cli {

namespace {

std::string describe_ports(const NodeTypeSchema& s) {
  if (s.is_source()) return "source";
  std::string inputs = s.min_inputs == s.max_inputs
                           ? std::to_string(s.min_inputs)
                           : std::to_string(s.min_inputs) + "-" + std::to_string(s.max_inputs);
  return (s.is_sink() ? "sink, " : "") + inputs + (s.max_inputs == 1 ? " input" : " inputs");
}

std::string describe_default(const FieldSpec& f) {
  return f.required() ? std::string("(required)") : "default " + f.default_value.dump();
}

json schema_to_json(const NodeTypeSchema& s) {
  json fields = json::array();
  for (const auto& f : s.fields) {
    json row = {{"name", f.name},
                {"type", to_string(f.type)},
                {"help", f.help},
                {"required", f.required()}};
    if (!f.required()) row["default"] = f.default_value;
    if (f.min) row["min"] = *f.min;
    if (f.max) row["max"] = *f.max;
    if (!f.choices.empty()) row["choices"] = f.choices;
    fields.push_back(std::move(row));
  }
  return {{"type", s.type},
          {"summary", s.summary},
          {"min_inputs", s.min_inputs},
          {"max_inputs", s.max_inputs},
          {"has_output", s.has_output},
          {"fields", fields}};
}

int list_nodes(bool as_json) {
  const auto schemas = NodeRegistry::builtin().schemas();
  if (as_json) {
    json all = json::array();
    for (const auto* s : schemas) all.push_back(schema_to_json(*s));
    std::cout << all.dump(2) << '\n';
    return kExitOk;
  }
  for (const auto* s : schemas) {
    std::cout << s->type << " (" << describe_ports(*s) << "): " << s->summary << '\n';
    for (const auto& f : s->fields) {
      std::string constraints = describe_constraints(f);
      std::cout << "    " << std::left << std::setw(18) << f.name << std::setw(9)
                << to_string(f.type) << std::setw(22) << describe_default(f) << f.help;
      if (!constraints.empty()) std::cout << "; " << constraints;
      std::cout << '\n';
    }
    if (s->fields.empty()) std::cout << "    (no config fields)\n";
    std::cout << '\n';
  }
  return kExitOk;
}

}  // namespace

void add_nodes_command(CLI::App& app, Action& action) {
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("nodes", "List node types with their config fields");
  cmd->add_flag("--json", *as_json, "Print the listing as JSON");
  cmd->callback([&action, as_json] { action = [as_json] { return list_nodes(*as_json); }; });
}

}  // namespace streamlab::cli
