#pragma once
// Owns a pipeline's dead-letter file, so node actors on any thread can hand
// it frames without sharing a writer. The file is created on the first dead
// letter: a run without failures leaves nothing behind.
//   (dead_letter_atom, DeadLetter)  append one record
//   (shutdown_atom) -> (written, error)  report and end

#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace streamlab {

caf::actor spawn_dead_letter_actor(caf::actor_system& system, std::string path);

}  // namespace streamlab
