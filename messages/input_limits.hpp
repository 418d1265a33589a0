#pragma once
// Every size, depth, count and timeout that bounds what StreamLab accepts
// from outside: pipeline files and deploy messages, frames and dead letters
// read back, connections to the ports a process opens. One header, so that
// a reviewer sees the whole attack surface's bounds at once and the README's
// security section can list them; each is tested at its edge.
//
// It lives in messages/, the lowest layer, so that every layer can use it
// without an arrow pointing up. No CAF, no third-party headers.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace streamlab::limits {

// --- Pipeline files and deploy messages (JSON) ---

// --- Frames (Cap'n Proto, across processes and in dead-letter files) ---

// --- Connections (BASP gate, monitor port, HTTP endpoints, TLS) ---

// --- Member file system (deployed pipelines' paths) ---

}  // namespace streamlab::limits
