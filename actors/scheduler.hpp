#pragma once
// Which scheduler a StreamLab actor system runs on.

#include <caf/fwd.hpp>

namespace streamlab {

// Makes `cfg`'s actor system schedule actors with CAF's work stealing,
// whose "scheduler.*" and "work-stealing.*" settings still apply, on worker
// queues that do not allocate per job (actors/stealing_policy.hpp).
// "scheduler.policy" is then ignored.
void use_streamlab_scheduler(caf::actor_system_config& cfg);

}  // namespace streamlab
