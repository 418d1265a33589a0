// CAF 0.17.6's OpenSSL session calls SSL_get_error() without emptying the
// thread's error queue first, and leaves the queue as it is after a failure
// (it reads it only when logging is compiled in). OpenSSL 3 queues an error
// for every peer that closes without a close_notify (CAF never sends one)
// and for every refused handshake; the next SSL_read() on any other
// connection of that I/O thread that merely would block then reads as
// SSL_ERROR_SSL, and CAF closes that connection too. Measured on a member:
// each client that disconnected, and each stranger it refused, cut all its
// connections to the other members (remote_link_unreachable, pipelines
// re-placed). SSL_get_error(3) requires an empty queue before each I/O
// call; these wrappers give it one.
//
// They take effect because a program's own definitions come before those
// of its shared libraries: libcaf_openssl calls SSL_read and the others
// through the PLT and reaches these, which call OpenSSL's (RTLD_NEXT).

#include "cluster/openssl_error_queue.hpp"

#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <cstdlib>

namespace {

template <class F>
F real(const char* name) {
  void* found = dlsym(RTLD_NEXT, name);
  if (!found) {
    std::fprintf(stderr, "fatal: cannot find OpenSSL's %s: %s\n", name, dlerror());
    std::abort();
  }
  return reinterpret_cast<F>(found);
}

}  // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buffer, int length) {
  static const auto openssl = real<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return openssl(ssl, buffer, length);
}

int SSL_write(SSL* ssl, const void* buffer, int length) {
  static const auto openssl = real<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return openssl(ssl, buffer, length);
}

int SSL_accept(SSL* ssl) {
  static const auto openssl = real<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return openssl(ssl);
}

int SSL_connect(SSL* ssl) {
  static const auto openssl = real<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return openssl(ssl);
}

}  // extern "C"

namespace streamlab {

void link_openssl_error_queue_fix() {}

}  // namespace streamlab
