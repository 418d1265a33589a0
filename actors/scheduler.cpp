#include "actors/scheduler.hpp"

#include <caf/actor_system_config.hpp>

#include "actors/stealing_policy.hpp"

namespace streamlab {

// CAF 0.17's actor_system makes a scheduler from "scheduler.policy" only if
// no module loaded through the config has taken the scheduler's place.
void use_streamlab_scheduler(caf::actor_system_config& cfg) { cfg.load<StealingScheduler>(); }

}  // namespace streamlab
