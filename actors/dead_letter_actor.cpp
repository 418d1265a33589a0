#include "actors/dead_letter_actor.hpp"

#include <memory>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "runtime/dead_letter_file.hpp"

namespace streamlab {

namespace {

struct DeadLetterState {
  std::string path;
  std::unique_ptr<DeadLetterWriter> writer;
  std::uint64_t written = 0;
  std::uint64_t lost = 0;
  std::string error;  // the first failure; later letters are counted as lost
};

caf::behavior dead_letter_actor(caf::stateful_actor<DeadLetterState>* self, std::string path) {
  self->state.path = std::move(path);
  return {
      [self](dead_letter_atom, const DeadLetter& letter) {
        auto& st = self->state;
        try {
          if (!st.error.empty()) {
            ++st.lost;
            return;
          }
          if (!st.writer) st.writer = std::make_unique<DeadLetterWriter>(st.path);
          st.writer->append(letter);
          ++st.written;
        } catch (const std::exception& e) {
          // The node has counted the frame as dead-lettered; that it could
          // not be kept must be as visible as the frame itself.
          st.error = e.what();
          ++st.lost;
          spdlog::error("dead letters of node \"{}\" cannot be written: {}", letter.node, st.error);
        }
      },
      [self](shutdown_atom) -> std::tuple<std::uint64_t, std::string> {
        auto& st = self->state;
        std::string error = st.error;
        if (st.lost) error += " (" + std::to_string(st.lost) + " dead letters not written)";
        // Closed before the answer leaves: whoever gets it may read the
        // file at once, while this actor's state could still be alive.
        st.writer.reset();
        self->quit();
        return std::make_tuple(st.written, error);
      },
  };
}

}  // namespace

caf::actor spawn_dead_letter_actor(caf::actor_system& system, std::string path) {
  return system.spawn(dead_letter_actor, std::move(path));
}

}  // namespace streamlab
