#include "actors/caf_words.hpp"

#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

namespace streamlab {

namespace {

const char* exit_words(caf::exit_reason reason) {
  using r = caf::exit_reason;
  switch (reason) {
    case r::normal:
      return "it ended normally";
    case r::unhandled_exception:
      return "it stopped on an unhandled exception";
    case r::unknown:
      return "it stopped for an unknown reason";
    case r::out_of_workers:
      return "it stopped: no worker threads left";
    case r::user_shutdown:
      return "it was shut down";
    case r::kill:
      return "it was killed";
    case r::remote_link_unreachable:
      return "the connection to its process was lost";
    case r::unreachable:
      return "it cannot be reached";
  }
  return nullptr;
}

const char* sec_words(caf::sec code) {
  using s = caf::sec;
  switch (code) {
    case s::unexpected_message:
      return "the other side did not understand the request (another program or version?)";
    case s::unexpected_response:
      return "the other side gave an unexpected answer";
    case s::request_receiver_down:
      return "the actor asked is gone (its process stopped or the connection was lost)";
    case s::request_timeout:
      return "no answer in time";
    case s::no_actor_published_at_port:
      return "nothing of ours is published at that port";
    case s::disconnect_during_handshake:
      return "the connection closed during the handshake";
    case s::cannot_connect_to_node:
      return "cannot connect";
    case s::cannot_open_port:
      return "cannot open the port";
    case s::network_syscall_failed:
      return "a network call failed";
    case s::no_route_to_receiving_node:
      return "no route to the process";
    case s::remote_lookup_failed:
      return "the remote lookup failed";
    case s::connection_timeout:
      return "the connection timed out";
    case s::incompatible_versions:
      return "the other side runs an incompatible version";
    case s::incompatible_application_ids:
      return "the other side is another application";
    case s::malformed_basp_message:
      return "the other side sent a malformed message";
    case s::socket_disconnected:
      return "the connection closed";
    default:
      return nullptr;
  }
}

}  // namespace

std::string plain_words(const caf::error& err) {
  if (!err) return "no error";
  // Categories as CAF itself makes them, rather than spelled-out atoms.
  static const caf::atom_value exit_category = caf::make_error(caf::exit_reason::kill).category();
  static const caf::atom_value system_category =
      caf::make_error(caf::sec::request_timeout).category();
  if (err.category() == exit_category) {
    if (const char* words = exit_words(static_cast<caf::exit_reason>(err.code()))) return words;
  } else if (err.category() == system_category) {
    if (const char* words = sec_words(static_cast<caf::sec>(err.code()))) return words;
  }
  return "internal error " + caf::to_string(err);
}

}  // namespace streamlab
