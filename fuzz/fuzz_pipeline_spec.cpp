// Pipeline text as a file or a deploy message brings it: parse and validate
// against every built-in node type. Whatever the bytes, the result is a
// spec or a list of problems; any crash, hang or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>

#include "nodes/registry.hpp"
#include "runtime/pipeline_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto types = streamlab::NodeRegistry::builtin().schemas();
  (void)streamlab::parse_pipeline(reinterpret_cast<const char*>(data), size, "fuzz.json", types);
  return 0;
}
