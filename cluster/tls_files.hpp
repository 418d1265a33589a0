#pragma once
// The certificates that make a cluster authenticated: every member and
// every client that talks to one gives all three, or none (then the
// cluster is open to anyone who reaches it). One struct carries them from
// the command line to the actor system's configuration.

#include <string>

namespace streamlab {

struct TlsFiles {
  std::string certificate;  // --tls-cert: this process's certificate (PEM)
  std::string key;          // --tls-key: its private key (PEM, unencrypted)
  std::string ca;           // --tls-ca: the cluster's CA; peers must be signed by it

  bool enabled() const { return !certificate.empty() || !key.empty() || !ca.empty(); }
};

// Empty when `files` is usable: none given, or all three readable PEM
// files whose certificate and key belong together. Else the problem,
// naming the flag and the path ("--tls-key is missing: ...", "--tls-ca:
// cannot read ca.pem: No such file or directory"). Checked before CAF
// sees them: CAF's OpenSSL module throws from inside its I/O loop on a
// file it cannot load, long after the command line was accepted.
std::string check_tls_files(const TlsFiles& files);

}  // namespace streamlab
