#pragma once
// The one place where StreamLab's message types are announced to CAF. Every
// process must call it: an unregistered type arrives as an empty message and
// its sender is never told (docs/architecture.md#caf-017-facts).

#include <caf/actor_system_config.hpp>

namespace streamlab {

void register_message_types(caf::actor_system_config& cfg);

}  // namespace streamlab
