#pragma once
// Files the CLI writes whole at the end of a run (`--metrics-json`): checked
// before anything starts, then replaced atomically. A target that exists must
// be a regular file: a symlink, a device (/dev/full), a FIFO or a directory is
// refused rather than replaced by the rename or written through.

#include <string>

namespace streamlab::cli {

// Empty when `path` can be written at the end of the run: it is a regular
// file we may write, or does not exist in a directory we may create files in.
// Otherwise the reason, naming the path.
std::string check_output_file(const std::string& path);

// Writes `text` to a new file beside `path` (fsync'd), then renames it over
// `path`, so a reader never sees half a file. Every failure (short write,
// full device, fsync, close, rename, a target that became a non-regular file)
// returns its reason, naming the path; the temporary file is removed.
std::string replace_output_file(const std::string& path, const std::string& text);

}  // namespace streamlab::cli
