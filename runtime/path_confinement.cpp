#include "runtime/path_confinement.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
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

int open_beneath(const std::string& root, const std::string& path, int flags, int mode) {
  std::error_code ec;
  const fs::path base = fs::canonical(root, ec);
  const fs::path target(path);
  if (ec || !target.is_absolute() || !is_within(base, target) || target == base) {
    errno = EACCES;
    return -1;
  }
  int dir = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  const fs::path rel = target.lexically_relative(base);
  auto part = rel.begin();
  while (part != rel.end()) {
    const std::string name = part->string();
    const bool last = std::next(part) == rel.end();
    if (name == ".." || name.empty()) {
      ::close(dir);
      errno = EACCES;
      return -1;
    }
    const int next =
        last ? ::openat(dir, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode)
             : ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int saved = errno;
    ::close(dir);
    if (next < 0) {
      errno = saved;
      return -1;
    }
    dir = next;
    ++part;
  }
  return dir;
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
