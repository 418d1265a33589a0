#pragma once
// The one way a text that came from outside (node ids, pipeline names, paths,
// error messages, member names) reaches a terminal: control characters are
// shown as escapes, so a name cannot move the cursor, clear the screen,
// retitle the window or forge a line of output. Used by every human-readable
// output: the CLI's tables and messages, and every log line (logging.cpp).
// JSON output needs none of this (the JSON writer escapes).

#include <string>
#include <string_view>

namespace streamlab {

// Printable characters and valid UTF-8 pass unchanged. C0 controls and DEL
// become \n, \r, \t or \xHH; C1 controls (U+0080..U+009F, CSI among them)
// become \u0080..\u009f; a byte that is not valid UTF-8 becomes \xHH.
std::string printable(std::string_view text);

}  // namespace streamlab
