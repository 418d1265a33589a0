#include "cluster/tls_handshake.hpp"

#include <poll.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

namespace streamlab {

namespace {

using clock = std::chrono::steady_clock;

std::string reason_of(unsigned long code) {
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "error " + std::to_string(ERR_GET_REASON(code));
}

// Why a handshake failed, from our end's view of it.
std::string failure(SSL* ssl, int result, const TlsFiles& files) {
  const int kind = SSL_get_error(ssl, result);
  const unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (SSL_get_verify_result(ssl) != X509_V_OK)
    return std::string("TLS handshake failed: the member's certificate is not trusted (") +
           X509_verify_cert_error_string(SSL_get_verify_result(ssl)) +
           "): is it signed by the CA in --tls-ca " + files.ca + "?";
  if (kind == SSL_ERROR_SSL && ERR_GET_LIB(code) == ERR_LIB_SSL) {
    const int reason = ERR_GET_REASON(code);
    // Alerts the member sends when it refuses our certificate.
    if (reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
        reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR ||
        reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE ||
        reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
      return "TLS handshake failed: the member refused our certificate " + files.certificate +
             " (" + reason_of(code) + "): is it signed by the cluster's CA?";
    if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
        reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
      return "TLS handshake failed: the far end does not speak TLS (a member started without "
             "--tls-cert, --tls-key and --tls-ca?) (" +
             reason_of(code) + ")";
    return "TLS handshake failed: " + reason_of(code);
  }
  // The member closed the connection, as the plain BASP gate does with a
  // TLS hello.
  return "TLS handshake failed: the far end closed the connection (a member started without "
         "--tls-cert, --tls-key and --tls-ca, one that refused our certificate, or one out of "
         "connections or file descriptors, which its log says)";
}

}  // namespace

TlsHandshake tls_handshake(int fd, const TlsFiles& files, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  // What CAF's session sets up (caf/openssl/session.cpp, 0.17.6).
  if (!ctx || SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx.get(), files.certificate.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1 ||
      SSL_CTX_set_cipher_list(ctx.get(), "HIGH:!aNULL:!MD5") != 1) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    return {false, "cannot set up TLS with --tls-cert " + files.certificate + ", --tls-key " +
                       files.key + ", --tls-ca " + files.ca + ": " + reason_of(code)};
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<SSL, void (*)(SSL*)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1)
    return {false, "cannot set up TLS: " + reason_of(ERR_get_error())};
  for (;;) {
    ERR_clear_error();
    const int result = SSL_connect(ssl.get());
    if (result == 1) break;
    const int kind = SSL_get_error(ssl.get(), result);
    if (kind != SSL_ERROR_WANT_READ && kind != SSL_ERROR_WANT_WRITE)
      return {false, failure(ssl.get(), result, files)};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    pollfd p{fd, static_cast<short>(kind == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0)
      return {true, "no TLS handshake in time"};
  }
  // Said goodbye properly: the member's CAF then sees a clean close.
  SSL_shutdown(ssl.get());
  ERR_clear_error();
  return {};
}

}  // namespace streamlab
