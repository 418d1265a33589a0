// The --tls-* flags are all three or none, and each names a usable file;
// `cluster certs` writes files that pass that check, keeps keys private
// and never overwrites.

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

#include "cluster/cluster_certs.hpp"
#include "cluster/tls_files.hpp"

using streamlab::check_tls_files;
using streamlab::TlsFiles;
using streamlab::write_cluster_certificates;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char templ[] = "/tmp/streamlab-tls-XXXXXX";
    path = mkdtemp(templ);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

TlsFiles files_of(const std::string& dir, const std::string& name) {
  return {dir + "/" + name + ".pem", dir + "/" + name + ".key", dir + "/ca.pem"};
}

}  // namespace

TEST_CASE("TLS flags: none is fine, a partial set names what is missing", "[cluster][tls]") {
  CHECK(check_tls_files({}).empty());
  CHECK_FALSE(TlsFiles{}.enabled());

  const std::string only_cert = check_tls_files({"a.pem", "", ""});
  CHECK_THAT(only_cert, Catch::StartsWith("--tls-key is missing"));
  CHECK_THAT(only_cert, Catch::Contains("--tls-cert, --tls-key and --tls-ca go together"));
  CHECK_THAT(check_tls_files({"a.pem", "a.key", ""}), Catch::StartsWith("--tls-ca is missing"));
  CHECK_THAT(check_tls_files({"", "a.key", "ca.pem"}), Catch::StartsWith("--tls-cert is missing"));
}

TEST_CASE("TLS flags: an unreadable or wrong file is named with its flag", "[cluster][tls]") {
  TempDir dir;
  REQUIRE(write_cluster_certificates(dir.path, {"a", "client"}, 2).size() == 6);
  const TlsFiles good = files_of(dir.path, "a");
  CHECK(check_tls_files(good).empty());

  TlsFiles missing = good;
  missing.ca = dir.file("nope.pem");
  CHECK(check_tls_files(missing) ==
        "--tls-ca: cannot read " + dir.file("nope.pem") + ": No such file or directory");

  TlsFiles swapped = good;
  swapped.certificate = good.key;
  CHECK_THAT(check_tls_files(swapped),
             Catch::StartsWith("--tls-cert: " + good.key + " is not a PEM certificate"));

  TlsFiles other_key = good;
  other_key.key = dir.file("client.key");
  CHECK(check_tls_files(other_key) == "--tls-key: " + dir.file("client.key") +
                                          " is not the key of the certificate " + good.certificate);
}

TEST_CASE("cluster certs: private keys, and nothing is ever overwritten", "[cluster][tls][certs]") {
  TempDir dir;
  const std::string sub = dir.file("certs");  // created
  const auto written = write_cluster_certificates(sub, {"a", "client"}, 30);
  CHECK(written.size() == 6);
  for (const char* name : {"ca.key", "a.key", "client.key"}) {
    struct stat info {};
    REQUIRE(stat((sub + "/" + name).c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
  }
  CHECK(check_tls_files(files_of(sub, "client")).empty());

  std::ofstream(sub + "/b.key") << "keep me";
  CHECK_THROWS_WITH(write_cluster_certificates(sub, {"b"}, 30),
                    Catch::StartsWith(sub + "/ca.pem exists: refusing to overwrite it"));
  const std::string other = dir.file("other");
  std::system(("mkdir '" + other + "' && echo keep > '" + other + "/b.key'").c_str());
  CHECK_THROWS_WITH(write_cluster_certificates(other, {"b"}, 30),
                    Catch::StartsWith(other + "/b.key exists"));
  CHECK(access((other + "/ca.pem").c_str(), F_OK) != 0);  // refused before writing anything
}
