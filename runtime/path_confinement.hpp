#pragma once
// Confinement of the file paths a deployed pipeline names to the directory
// a cluster member was given (`streamlab node --data-dir`). A deployer must
// not make a member read or write outside it: relative paths resolve inside
// it; absolute paths, `..` and symlinks leading out are refused with the
// reason. Local `streamlab run` does not confine: it writes where its user
// says.
//
// Pure apart from reading the file system (lstat/realpath of what exists):
// no process state, the root is passed in.

#include <string>

#include <nlohmann/json.hpp>

#include "runtime/config_schema.hpp"

namespace streamlab {

struct ConfinedPath {
  std::string path;   // absolute, inside the root, when `error` is empty
  std::string error;  // why the request is refused
};

// `requested` resolved inside `root` (an existing directory). Refused: an
// empty or absolute path, any `..` component, and a path whose existing
// part (a symlink anywhere along it, the file itself included) resolves
// outside the root. A path not existing yet is fine if its existing
// ancestors stay inside.
ConfinedPath confine_path(const std::string& root, const std::string& requested);

// Opens `path` (absolute, inside `root`, as confine_path() returned it)
// component by component from `root` without following any symlink
// (openat with O_NOFOLLOW): a link swapped in after the path was checked
// fails the open (ELOOP or ENOTDIR) instead of leading out. `flags` and
// `mode` as for open(2). Returns the descriptor, or -1 with errno set.
int open_beneath(const std::string& root, const std::string& path, int flags, int mode = 0644);

// Every field the schema marks as a file path (FieldSpec::path_check) in
// `config`, confined to `root` and replaced by its resolved path. Returns
// the first refusal as "field \"F\": \"VALUE\" REASON", or empty.
std::string confine_config_paths(const NodeTypeSchema& schema, json& config,
                                 const std::string& root);

}  // namespace streamlab
