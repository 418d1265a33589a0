#pragma once
// A TLS handshake of our own, bounded in time, before CAF's. CAF 0.17's
// OpenSSL client never gives up on a peer that stops answering in the
// handshake: its I/O thread spins on the pending write (measured: a full
// core), and the actor system cannot shut down any more, so the process
// hangs at exit. A handshake done here first, as CAF's would be (TLS 1.2,
// the same certificates, both ends verified), tells a live member that
// accepts us from a stopped one, a stranger, or a port without TLS, and
// says which.

#include <chrono>
#include <string>

#include "cluster/tls_files.hpp"

namespace streamlab {

struct TlsHandshake {
  bool timed_out = false;
  std::string error;  // empty: the peer accepted our certificate and we its
};

// `fd`: a connected, non-blocking TCP socket, left open.
TlsHandshake tls_handshake(int fd, const TlsFiles& files, std::chrono::milliseconds timeout);

}  // namespace streamlab
