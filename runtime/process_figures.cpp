#include "runtime/process_figures.hpp"

#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace streamlab {

namespace {

// "VmRSS:	    1234 kB" -> 1234. The kernel always reports these in kB.
bool field_value(const std::string& line, const char* key, std::uint64_t& value) {
  const std::size_t key_length = std::strlen(key);
  if (line.compare(0, key_length, key) != 0) return false;
  value = std::strtoull(line.c_str() + key_length, nullptr, 10);
  return true;
}

}  // namespace

ProcessFigures read_process_figures() {
  ProcessFigures figures;

  // getrusage rather than /proc/self/stat: microseconds instead of clock
  // ticks, and no text to parse.
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    figures.cpu_seconds =
        static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
        static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }

  // ru_maxrss is the peak, not the current size; only /proc has the latter.
  std::ifstream status("/proc/self/status");
  std::string line;
  std::uint64_t value = 0;
  while (std::getline(status, line)) {
    if (field_value(line, "VmRSS:", value)) {
      figures.rss_bytes = value * 1024;
    } else if (field_value(line, "Threads:", value)) {
      figures.threads = static_cast<std::uint32_t>(value);
    }
  }
  return figures;
}

}  // namespace streamlab
