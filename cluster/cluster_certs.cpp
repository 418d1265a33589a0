#include "cluster/cluster_certs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace streamlab {

namespace {

using Key = std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)>;
using Certificate = std::unique_ptr<X509, void (*)(X509*)>;

std::runtime_error openssl_failure(const std::string& what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  return std::runtime_error(what + ": " + (reason ? reason : "OpenSSL error"));
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) throw openssl_failure("cannot generate a key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, void (*)(X509_EXTENSION*)> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value), X509_EXTENSION_free);
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    throw openssl_failure(std::string("cannot add the extension ") + value);
}

// Signed by `issuer_key`; self-signed when `issuer` is null.
Certificate new_certificate(const std::string& common_name, EVP_PKEY* key, X509* issuer,
                            EVP_PKEY* issuer_key, int days) {
  Certificate cert(X509_new(), X509_free);
  if (!cert) throw openssl_failure("cannot create a certificate");
  X509_set_version(cert.get(), 2);  // v3, for the extensions
  // Random serials: certificates made again for the same names (another
  // `cluster certs` run) must not collide under the same issuer name.
  std::unique_ptr<BIGNUM, void (*)(BIGNUM*)> serial(BN_new(), BN_free);
  if (!serial || BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    throw openssl_failure("cannot make a serial number");
  // A minute back, for clocks of members that run slightly behind.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("StreamLab cluster"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (X509_set_pubkey(cert.get(), key) != 1) throw openssl_failure("cannot set the public key");
  if (!issuer) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer) add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0)
    throw openssl_failure("cannot sign the certificate for " + common_name);
  return cert;
}

// O_EXCL: an existing file is never replaced, even one that appeared
// after the check for existing files.
template <class Write>
void write_new_file(const std::string& path, mode_t mode, Write&& write) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  std::unique_ptr<FILE, int (*)(FILE*)> file(fdopen(fd, "w"), std::fclose);
  if (!file) {
    close(fd);
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
  if (!write(file.get())) throw openssl_failure("cannot write " + path);
  if (std::fflush(file.get()) != 0)
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

struct Pair {
  std::string name;  // file stem and common name
  Key key{nullptr, EVP_PKEY_free};
  Certificate cert{nullptr, X509_free};
};

void write_pair(const std::string& dir, const Pair& p, std::vector<std::string>& written) {
  const std::string key_path = dir + "/" + p.name + ".key";
  const std::string cert_path = dir + "/" + p.name + ".pem";
  write_new_file(key_path, 0600, [&](FILE* f) {
    return PEM_write_PrivateKey(f, p.key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  written.push_back(key_path);
  write_new_file(cert_path, 0644, [&](FILE* f) { return PEM_write_X509(f, p.cert.get()) == 1; });
  written.push_back(cert_path);
}

}  // namespace

std::vector<std::string> write_cluster_certificates(const std::string& dir,
                                                    const std::vector<std::string>& names,
                                                    int days) {
  if (days < 1) throw std::runtime_error("--days must be at least 1");
  struct stat info {};
  if (stat(dir.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode)) throw std::runtime_error(dir + " exists and is not a directory");
  } else if (mkdir(dir.c_str(), 0755) != 0) {
    throw std::runtime_error("cannot create the directory " + dir + ": " + std::strerror(errno));
  }
  std::vector<std::string> stems{"ca"};
  stems.insert(stems.end(), names.begin(), names.end());
  for (const auto& stem : stems) {
    for (const char* ext : {".pem", ".key"}) {
      const std::string path = dir + "/" + stem + ext;
      if (access(path.c_str(), F_OK) == 0)
        throw std::runtime_error(path +
                                 " exists: refusing to overwrite it (remove it, or choose "
                                 "another directory)");
    }
  }

  Pair ca;
  ca.name = "ca";
  ca.key = new_key();
  ca.cert = new_certificate("StreamLab cluster CA", ca.key.get(), nullptr, ca.key.get(), days);
  std::vector<Pair> leaves;
  for (const auto& name : names) {
    Pair p;
    p.name = name;
    p.key = new_key();
    p.cert = new_certificate(name, p.key.get(), ca.cert.get(), ca.key.get(), days);
    leaves.push_back(std::move(p));
  }
  std::vector<std::string> written;
  write_pair(dir, ca, written);
  for (const auto& p : leaves) write_pair(dir, p, written);
  return written;
}

}  // namespace streamlab
