// A cluster secured with TLS, with real `streamlab` processes on loopback:
// certificates from `cluster certs` let members form a cluster and a
// client deploy and query; a client or member without a certificate of the
// cluster's CA is refused at the handshake, quickly and in words. Every
// process is ended by its PID on every path out of a test.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "../jack_test_server.hpp"
#include "cli_test_support.hpp"
#include "process_test_support.hpp"

using namespace streamlab::test;
using namespace std::chrono_literals;

namespace {

constexpr auto kSettleLimit = 60s;
// A refusal is a failed handshake (~0.1 s measured), not a timeout.
constexpr double kRefusalLimitS = 5;

std::string tls_flags(const std::string& dir, const std::string& name,
                      const std::string& ca_dir = "") {
  return "--tls-cert " + dir + "/" + name + ".pem --tls-key " + dir + "/" + name +
         ".key --tls-ca " + (ca_dir.empty() ? dir : ca_dir) + "/ca.pem";
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

struct Member {
  std::unique_ptr<Child> process;
  std::uint16_t port = 0;
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

Member start_member(const ScratchDir& dir, const std::string& name, const std::string& tls,
                    const Member* seed = nullptr) {
  std::vector<std::string> args{"node", "--name", name, "--listen", "127.0.0.1:0"};
  if (seed) {
    args.push_back("--join");
    args.push_back(seed->address());
  }
  for (auto& w : split(tls)) args.push_back(w);
  Member m;
  m.process = std::make_unique<Child>(dir, args, "member-" + name);
  m.port = m.process->wait_for_port("member \"" + name + R"(" listening on 127\.0\.0\.1:(\d+))");
  return m;
}

void make_certs(const ScratchDir& dir, const std::string& sub, const std::string& members) {
  const Timed t = run_bounded(dir, "cluster certs " + sub + " --members " + members);
  INFO(t.outcome.err);
  REQUIRE(t.outcome.status == 0);
}

std::string state_of(const nlohmann::json& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r["name"] == name) return r["state"];
  return "";
}

}  // namespace

TEST_CASE("cluster certs writes a CA and certificates, and refuses to overwrite them",
          "[integration][cluster][tls][certs]") {
  ScratchDir dir;
  const Timed t = run_bounded(dir, "cluster certs pki --members a,b --days 7");
  INFO(t.outcome.err);
  REQUIRE(t.outcome.status == 0);
  for (const char* f : {"ca", "a", "b", "client"}) {
    CHECK_THAT(t.outcome.out, Catch::Contains("wrote pki/" + std::string(f) + ".pem"));
    CHECK_THAT(t.outcome.out, Catch::Contains("wrote pki/" + std::string(f) + ".key"));
  }
  CHECK(shell_output("cd '" + dir.path + "' && stat -c %a pki/a.key") == "600\n");
  CHECK(shell_output("cd '" + dir.path + "' && stat -c %a pki/ca.key") == "600\n");
  // What any TLS tool makes of them: the member's certificate is the CA's.
  CHECK_THAT(shell_output("cd '" + dir.path + "' && openssl verify -CAfile pki/ca.pem pki/a.pem"),
             Catch::Contains("pki/a.pem: OK"));

  const Timed again = run_bounded(dir, "cluster certs pki --members c");
  CHECK(again.outcome.status == 1);
  CHECK_THAT(again.outcome.err, Catch::Contains("pki/ca.pem exists: refusing to overwrite it"));
}

TEST_CASE("TLS flags come as a set of three, and a missing file is named with its flag",
          "[integration][cluster][tls]") {
  ScratchDir dir;
  const Timed partial =
      run_bounded(dir, "node --name a --listen 127.0.0.1:0 --tls-cert a.pem --tls-ca ca.pem");
  CHECK(partial.outcome.status == 1);
  CHECK_THAT(partial.outcome.err, Catch::Contains("error: --tls-key is missing"));

  const Timed missing =
      run_bounded(dir,
                  "pipelines --cluster 127.0.0.1:9 --tls-cert x.pem --tls-key x.key "
                  "--tls-ca ca.pem");
  CHECK(missing.outcome.status == 1);
  CHECK_THAT(missing.outcome.err,
             Catch::Contains("error: --tls-cert: cannot read x.pem: No such file or directory"));
}

TEST_CASE("a TLS cluster admits only certificates of its CA", "[integration][cluster][tls]") {
  ScratchDir dir;
  make_certs(dir, "pki", "a,b");
  make_certs(dir, "foreign", "x");
  Member a = start_member(dir, "a", tls_flags("pki", "a"));
  Member b = start_member(dir, "b", tls_flags("pki", "b"), &a);
  CHECK_THAT(a.process->err(), Catch::Contains("TLS: only processes with a certificate signed by"));
  const std::string client = tls_flags("pki", "client");
  dir.write("p.json", R"({"name":"p","nodes":[
      {"id":"src","type":"sine","on":"a"},
      {"id":"sink","type":"null_sink","on":"b"}],
    "connections":[{"from":"src","to":"sink"}]})");

  SECTION("members and a client with the cluster's certificates deploy and query") {
    const Timed deployed =
        run_bounded(dir, "deploy p.json --frames 500 --cluster " + b.address() + " " + client);
    INFO(deployed.outcome.err);
    REQUIRE(deployed.outcome.status == 0);
    CHECK_THAT(deployed.outcome.out, Catch::Contains("src@a sink@b"));

    const auto end = Clock::now() + kSettleLimit;
    std::string state;
    while (state != "finished") {
      const Timed listed =
          run_bounded(dir, "pipelines --json --timeout 10 --cluster " + a.address() + " " + client);
      INFO(listed.outcome.err);
      REQUIRE(listed.outcome.status == 0);
      state = state_of(nlohmann::json::parse(listed.outcome.out), "p");
      REQUIRE(Clock::now() < end);
      if (state != "finished") std::this_thread::sleep_for(100ms);
    }
    const Timed snapshot =
        run_bounded(dir, "monitor --json --timeout 10 --connect " + a.address() + " " + client);
    INFO(snapshot.outcome.err);
    REQUIRE(snapshot.outcome.status == 0);
    const auto doc = nlohmann::json::parse(snapshot.outcome.out);
    CHECK(doc["members"].size() == 2);
  }
  SECTION("a client without certificates is refused at once") {
    const Timed t = run_bounded(dir, "pipelines --timeout 10 --cluster " + a.address());
    CHECK(t.outcome.status == 1);
    CHECK_THAT(t.outcome.err,
               Catch::Contains("cannot reach a StreamLab cluster member at " + a.address() +
                               ": the port does not speak CAF's "
                               "protocol in the clear (a member "
                               "that requires TLS"));
    CHECK(t.seconds < kRefusalLimitS);
  }
  SECTION("a client with a certificate of another CA is refused at the handshake") {
    const std::string at = "cannot reach a StreamLab cluster member at " + a.address() + ": ";
    // Trusting its own CA, it refuses the member's certificate first.
    const Timed own = run_bounded(dir, "deploy p.json --timeout 10 --cluster " + a.address() + " " +
                                           tls_flags("foreign", "client"));
    CHECK(own.outcome.status == 1);
    CHECK_THAT(own.outcome.err,
               Catch::Contains(at + "TLS handshake failed: the member's certificate is not "
                                    "trusted"));
    CHECK(own.seconds < kRefusalLimitS);
    // Trusting the cluster's CA, it is refused by the member.
    const Timed theirs = run_bounded(
        dir, "stop p --cluster " + a.address() + " " + tls_flags("foreign", "client", "pki"));
    CHECK(theirs.outcome.status == 1);
    CHECK_THAT(theirs.outcome.err,
               Catch::Contains(at + "TLS handshake failed: the member refused our certificate " +
                               "foreign/client.pem"));
    CHECK(theirs.seconds < kRefusalLimitS);
  }
  SECTION("a stopped TLS member: the client gives up within its timeout and exits") {
    a.process->signal(SIGSTOP);
    const Timed t =
        run_bounded(dir, "pipelines --timeout 2 --cluster " + a.address() + " " + client);
    a.process->signal(SIGCONT);
    CHECK(t.outcome.status == 1);
    CHECK_THAT(t.outcome.err, Catch::Contains("no TLS handshake within 2000 ms"));
    CHECK(t.seconds < 6);
  }
  SECTION("garbage and forged BASP headers end in the TLS handshake") {
    // Without the gate in front, these reach CAF's port: the handshake
    // must refuse them before CAF reads a BASP header (one claiming 4 GB
    // would make CAF allocate it).
    std::mt19937 random(20261123);
    for (int k = 0; k < 300; ++k) {
      std::vector<unsigned char> bytes{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
      for (int i = 0; i < 24 + k * 7; ++i) bytes.push_back(static_cast<unsigned char>(random()));
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      REQUIRE(fd >= 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(a.port);
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
      (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      close(fd);
    }
    REQUIRE_FALSE(a.process->wait_for(0s).has_value());
    const Timed snapshot =
        run_bounded(dir, "monitor --json --timeout 10 --connect " + a.address() + " " + client);
    INFO(snapshot.outcome.err);
    REQUIRE(snapshot.outcome.status == 0);
    // Parsed first: a range-for over a member of a temporary reads freed
    // memory (found by ASan).
    const auto report = nlohmann::json::parse(snapshot.outcome.out);
#ifndef STREAMLAB_SANITIZED  // shadow memory counts in a sanitized member's RSS
    for (const auto& m : report["members"]) CHECK(m["rss_bytes"].get<double>() < 200e6);
#endif
  }
  SECTION("a member with certificates of another CA cannot join") {
    Child stranger(dir,
                   split("node --name x --listen 127.0.0.1:0 --join " + a.address() + " " +
                         tls_flags("foreign", "x")),
                   "stranger");
    const auto status = stranger.wait_for(kExitLimit);
    REQUIRE(status.has_value());
    CHECK(*status == 1);
    CHECK_THAT(stranger.err(), Catch::Contains("member \"x\" cannot join the cluster at " +
                                               a.address() + ": TLS handshake failed"));
    // Nor can one without TLS.
    Child plain(dir, split("node --name y --listen 127.0.0.1:0 --join " + a.address()), "plain");
    const auto plain_status = plain.wait_for(kExitLimit);
    REQUIRE(plain_status.has_value());
    CHECK(*plain_status == 1);
    CHECK_THAT(plain.err(), Catch::Contains("member \"y\" cannot join the cluster at " +
                                            a.address() + ": the port does not speak CAF's"));
    const Timed listed =
        run_bounded(dir, "monitor --json --timeout 10 --connect " + a.address() + " " + client);
    REQUIRE(listed.outcome.status == 0);
    CHECK(nlohmann::json::parse(listed.outcome.out)["members"].size() == 2);
  }
}

TEST_CASE("a run's monitor with TLS answers only certificates of its CA",
          "[integration][monitor][tls]") {
  ScratchDir dir;
  make_certs(dir, "pki", "run");
  make_certs(dir, "foreign", "x");
  dir.write("p.json", R"({"name":"watched","nodes":[
      {"id":"src","type":"sine","config":{"realtime":true}},
      {"id":"sink","type":"null_sink"}],
    "connections":[{"from":"src","to":"sink"}]})");

  const Timed alone = run_bounded(dir, "run p.json --frames 10 " + tls_flags("pki", "run"));
  CHECK(alone.outcome.status == 1);
  CHECK_THAT(alone.outcome.err, Catch::Contains("secure --monitor, which is not given"));

  std::vector<std::string> args{"run",     "p.json",    "--duration", "60",
                                "--quiet", "--monitor", "127.0.0.1:0"};
  for (auto& w : split(tls_flags("pki", "run"))) args.push_back(w);
  Child run(dir, args, "run");
  const auto port = run.wait_for_port(R"(monitor listening on 127\.0\.0\.1:(\d+))");
  const std::string connect =
      "monitor --json --timeout 10 --connect 127.0.0.1:" + std::to_string(port);

  // The port is announced before the pipeline starts: ask until it runs.
  Timed with;
  for (const auto end = Clock::now() + kSettleLimit; Clock::now() < end;) {
    with = run_bounded(dir, connect + " " + tls_flags("pki", "client"));
    if (with.outcome.status == 0 && nlohmann::json::parse(with.outcome.out)["nodes"].size() == 2)
      break;
    std::this_thread::sleep_for(200ms);
  }
  INFO(with.outcome.err);
  REQUIRE(with.outcome.status == 0);
  CHECK(nlohmann::json::parse(with.outcome.out)["pipelines"][0]["name"] == "watched");

  const Timed without = run_bounded(dir, connect);
  CHECK(without.outcome.status == 1);
  CHECK_THAT(without.outcome.err, Catch::Contains("does not speak CAF's protocol in the clear"));
  CHECK(without.seconds < kRefusalLimitS);

  const Timed foreign = run_bounded(dir, connect + " " + tls_flags("foreign", "client", "pki"));
  CHECK(foreign.outcome.status == 1);
  CHECK_THAT(foreign.outcome.err, Catch::Contains("refused our certificate foreign/client.pem"));
  CHECK(foreign.seconds < kRefusalLimitS);
}

TEST_CASE("a capture member joins a TLS cluster with its certificate and feeds a pipeline",
          "[integration][cluster][tls][audio]") {
  JackTestServer jack("tlsc", {"tone"});
  if (!jack.usable()) return;
  ScratchDir dir;
  make_certs(dir, "pki", "a,mic1");
  Member a = start_member(dir, "a", tls_flags("pki", "a"));
  std::vector<std::string> args{"capture",  "--name",    "mic1",     "--join",     a.address(),
                                "--device", jack.tone(), "--listen", "127.0.0.1:0"};
  for (auto& w : split(tls_flags("pki", "mic1"))) args.push_back(w);
  Child mic(dir, args, "mic1");
  mic.wait_for_port(R"(member "mic1" listening on 127\.0\.0\.1:(\d+))");
  dir.write("listen.json", R"({"name":"listen","nodes":[
      {"id":"mic","type":"audio_capture","on":"mic1",
       "config":{"api":"jack","device":")" +
                               jack.tone() + R"(","channels":2}},
      {"id":"out","type":"null_sink","on":"a"}],
    "connections":[{"from":"mic","to":"out"}]})");
  const std::string client = tls_flags("pki", "client");
  const Timed t = run_bounded(
      dir, "deploy listen.json --wait --frames 100 --cluster " + a.address() + " " + client, 60);
  INFO(t.outcome.err);
  REQUIRE(t.outcome.status == 0);
  CHECK_THAT(t.outcome.out, Catch::Contains("mic@mic1 out@a"));
  CHECK_THAT(t.outcome.out, Catch::Contains("pipeline \"listen\" finished"));
  const Timed snapshot =
      run_bounded(dir, "monitor --json --timeout 10 --connect " + a.address() + " " + client);
  INFO(snapshot.outcome.err);
  REQUIRE(snapshot.outcome.status == 0);
  const auto doc = nlohmann::json::parse(snapshot.outcome.out);
  std::uint64_t captured = 0, received = 0, dropped = 0;
  for (const auto& n : doc["nodes"]) {
    if (n["pipeline"] != "listen") continue;
    if (n["node"] == "mic") {
      CHECK(n["process"] == "mic1");
      captured = n["frames_out"].get<std::uint64_t>();
      if (n["dropped"].contains("overflow"))
        dropped = n["dropped"]["overflow"].get<std::uint64_t>();
    }
    if (n["node"] == "out") received = n["frames_in"].get<std::uint64_t>();
  }
  CHECK(received > 0);
  CHECK(received == captured);
  CHECK(captured + dropped == 100);
}
