#include "cli/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace streamlab::cli {

namespace {

std::string quoted(const std::string& path) { return "\"" + path + "\""; }

std::string failure(const std::string& what, const std::string& path, int err) {
  return "cannot " + what + " " + quoted(path) + ": " + std::strerror(err);
}

const char* kind_of(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// lstat, so that a symlink is seen as one and not as what it points to.
std::string refuse_non_regular(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return errno == ENOENT ? "" : failure("inspect", path, errno);
  if (S_ISREG(st.st_mode)) return {};
  return quoted(path) + " is " + kind_of(st.st_mode) +
         "; only a regular file (or a new one) is written, never replaced or written through";
}

}  // namespace

std::string check_output_file(const std::string& path) {
  if (path.empty()) return "no file name given";
  if (path.back() == '/') return quoted(path) + " names a directory, not a file";
  if (std::string refused = refuse_non_regular(path); !refused.empty()) return refused;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (::access(path.c_str(), W_OK) != 0) return failure("write", path, errno);
  }
  // The rename needs the directory, whether or not the file exists.
  const std::string dir = directory_of(path);
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return failure("create files in the directory", dir, errno) + " (for " + quoted(path) + ")";
  return {};
}

std::string replace_output_file(const std::string& path, const std::string& text) {
  if (std::string refused = refuse_non_regular(path); !refused.empty()) return refused;
  std::string temp_name = path + ".tmp-XXXXXX";
  std::vector<char> templ(temp_name.begin(), temp_name.end());
  templ.push_back('\0');
  // mkstemp creates a new file (O_EXCL): never one a symlink points to.
  const int fd = ::mkstemp(templ.data());
  if (fd < 0) return failure("create", temp_name, errno);
  temp_name = templ.data();
  auto give_up = [&](const std::string& what, int err) {
    ::close(fd);
    ::unlink(temp_name.c_str());
    return failure(what, temp_name, err);
  };
  ::fchmod(fd, 0644);  // mkstemp's 0600 would make the snapshot private
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return give_up("write", n < 0 ? errno : ENOSPC);
    done += static_cast<std::size_t>(n);
  }
  // A full device may only say so here.
  if (::fsync(fd) != 0) return give_up("write", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp_name.c_str());
    return failure("write", temp_name, err);
  }
  if (std::string refused = refuse_non_regular(path); !refused.empty()) {
    ::unlink(temp_name.c_str());
    return refused;
  }
  if (std::rename(temp_name.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_name.c_str());
    return "cannot rename " + quoted(temp_name) + " to " + quoted(path) + ": " + std::strerror(err);
  }
  return {};
}

}  // namespace streamlab::cli
