#include "cluster/tls_files.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace streamlab {

namespace {

struct Flag {
  const char* name;
  const std::string* path;
};

using File = std::unique_ptr<FILE, int (*)(FILE*)>;
using Certificate = std::unique_ptr<X509, void (*)(X509*)>;
using Key = std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)>;

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "not PEM";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "not PEM";
}

// Opens the file or says why not, naming the flag and the path.
File open_file(const Flag& flag, std::string& error) {
  File file(std::fopen(flag.path->c_str(), "r"), std::fclose);
  if (!file)
    error = std::string(flag.name) + ": cannot read " + *flag.path + ": " + std::strerror(errno);
  return file;
}

Certificate read_certificate(const Flag& flag, std::string& error) {
  Certificate none(nullptr, X509_free);
  File file = open_file(flag, error);
  if (!file) return none;
  Certificate cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert)
    error = std::string(flag.name) + ": " + *flag.path + " is not a PEM certificate (" +
            openssl_reason() + ")";
  return cert;
}

}  // namespace

std::string check_tls_files(const TlsFiles& files) {
  if (!files.enabled()) return {};
  const std::vector<Flag> flags{
      {"--tls-cert", &files.certificate}, {"--tls-key", &files.key}, {"--tls-ca", &files.ca}};
  for (const auto& flag : flags) {
    if (flag.path->empty())
      return std::string(flag.name) +
             " is missing: --tls-cert, --tls-key and --tls-ca go together (all three, or none "
             "for an unauthenticated cluster)";
  }
  std::string error;
  Certificate cert = read_certificate(flags[0], error);
  if (!cert) return error;
  File key_file = open_file(flags[1], error);
  if (!key_file) return error;
  Key key(PEM_read_PrivateKey(key_file.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key)
    return "--tls-key: " + files.key + " is not an unencrypted PEM private key (" +
           openssl_reason() + ")";
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return "--tls-key: " + files.key + " is not the key of the certificate " + files.certificate;
  }
  Certificate ca = read_certificate(flags[2], error);
  if (!ca) return error;
  return {};
}

}  // namespace streamlab
