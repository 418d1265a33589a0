// A dead-letter file as `dlq inspect` and `dlq replay` read it: any bytes on
// disk give the records before the first bad one and an error, never a
// crash. The bytes are handed over as a file, the reader's only input.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "messages/buffer_pool.hpp"
#include "runtime/dead_letter_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static streamlab::BufferPool pool;
  static const int fd = memfd_create("fuzz_dead_letters", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    return 0;
  }
  (void)streamlab::read_dead_letters(path, pool);
  return 0;
}
