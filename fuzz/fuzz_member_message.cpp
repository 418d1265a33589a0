// The content of a message as a member's middleman reads it off a peer's
// connection: CAF deserializes a caf::message of any registered StreamLab
// type (frame batches, handovers, reports, snapshots...) through our
// inspect() overloads. Bad bytes must give an error, never a crash, a hang
// or an allocation the input chose.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/message.hpp>
#include <cstddef>
#include <cstdint>

#include "actors/message_types.hpp"

namespace {

struct FuzzConfig : caf::actor_system_config {
  FuzzConfig() {
    streamlab::register_message_types(*this);
    set("scheduler.max-threads", 1);
    set("logger.verbosity", caf::atom("quiet"));
  }
};

// Never destroyed: CAF 0.17's actor_system does not survive destruction
// during exit (it frees memory that its own statics still reach).
caf::actor_system& fuzz_system() {
  static auto* system = new caf::actor_system{*new FuzzConfig};
  return *system;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  caf::message msg;
  caf::binary_deserializer source{fuzz_system(), reinterpret_cast<const char*>(data), size};
  (void)source(msg);
  return 0;
}
