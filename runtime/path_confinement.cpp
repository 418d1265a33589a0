#include "runtime/path_confinement.hpp"

#include <filesystem>
#include <system_error>

namespace streamlab {

namespace fs = std::filesystem;

namespace {

// `inner` is `outer` or below it (both canonical).
bool is_within(const fs::path& outer, const fs::path& inner) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i)
    if (i == inner.end() || *o != *i) return false;
  return true;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  return out + "\"";
}

}  // namespace

ConfinedPath confine_path(const std::string& root, const std::string& requested) {
  ConfinedPath out;
  if (requested.empty()) {
    out.error = "is empty";
    return out;
  }
  const fs::path rel(requested);
  if (rel.is_absolute()) {
    out.error =
        "is an absolute path; a member only reads and writes under its data directory, "
        "so give a path relative to it";
    return out;
  }
  for (const auto& part : rel)
    if (part == "..") {
      out.error = "contains \"..\"; a member only reads and writes under its data directory";
      return out;
    }
  std::error_code ec;
  const fs::path base = fs::canonical(root, ec);
  if (ec) {
    out.error = "cannot be resolved: data directory " + quoted(root) + ": " + ec.message();
    return out;
  }
  // weakly_canonical follows every symlink in the part that exists, the
  // last component included, so a link pointing out is seen as outside.
  const fs::path resolved = fs::weakly_canonical(base / rel, ec);
  if (ec) {
    out.error = "cannot be resolved: " + ec.message();
    return out;
  }
  if (!is_within(base, resolved) || resolved == base) {
    out.error = "leads outside the data directory " + quoted(base.string()) + " (to " +
                quoted(resolved.string()) + ", through a symbolic link)";
    return out;
  }
  out.path = resolved.string();
  return out;
}

std::string confine_config_paths(const NodeTypeSchema& schema, json& config,
                                 const std::string& root) {
  if (!config.is_object()) return {};
  for (const FieldSpec& field : schema.fields) {
    if (field.path_check == PathCheck::none) continue;
    auto it = config.find(field.name);
    if (it == config.end() || !it->is_string()) continue;
    const std::string value = it->get<std::string>();
    ConfinedPath c = confine_path(root, value);
    if (!c.error.empty()) return "field \"" + field.name + "\": " + quoted(value) + " " + c.error;
    *it = c.path;
  }
  return {};
}

}  // namespace streamlab
