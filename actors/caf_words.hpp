#pragma once
// CAF's errors and exit reasons in words a user can act on. CAF renders them
// as code names ("exit_reason(remote_link_unreachable)",
// "error(1, system, ...)"); wherever one reaches a person (a log line, a
// node's or member's reason in `monitor`, an error message) it goes through
// here instead.

#include <string>

#include <caf/error.hpp>

namespace streamlab {

// "the connection to its process was lost", "the request timed out", ...;
// a code this does not know keeps CAF's rendering after a plain lead-in.
std::string plain_words(const caf::error& err);

}  // namespace streamlab
