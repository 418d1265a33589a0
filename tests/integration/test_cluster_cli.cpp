// A cluster of real `streamlab node` processes on loopback: deploying over
// three members, losing one with kill -9 mid-stream, a stopped member
// declared down and rejoining, the clear errors (unknown member, duplicate
// names, admission control), and garbage thrown at a member's port. Every
// process is ended by its PID on every path out of a test.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
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

// Generous where the test is not about time: builds on a loaded 2-core
// machine start and answer slowly.
constexpr auto kSettleLimit = 60s;

struct Member {
  std::unique_ptr<Child> process;
  std::uint16_t port = 0;
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

Member start_member(const ScratchDir& dir, const std::string& name, const Member* seed = nullptr,
                    std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"node", "--name", name, "--listen", "127.0.0.1:0"};
  if (seed) {
    args.push_back("--join");
    args.push_back(seed->address());
  }
  args.insert(args.end(), extra.begin(), extra.end());
  Member m;
  m.process = std::make_unique<Child>(dir, args, "member-" + name);
  m.port = m.process->wait_for_port("member \"" + name + R"(" listening on 127\.0\.0\.1:(\d+))");
  return m;
}

nlohmann::json snapshot(const ScratchDir& dir, const Member& at) {
  const Timed t = run_bounded(dir, "monitor --json --timeout 10 --connect " + at.address());
  INFO(t.outcome.err);
  REQUIRE(t.outcome.status == 0);
  return nlohmann::json::parse(t.outcome.out);
}

nlohmann::json pipelines(const ScratchDir& dir, const Member& at) {
  const Timed t = run_bounded(dir, "pipelines --json --timeout 10 --cluster " + at.address());
  INFO(t.outcome.err);
  REQUIRE(t.outcome.status == 0);
  return nlohmann::json::parse(t.outcome.out);
}

// Polls until `ready` holds (or fails the test after `limit`).
void wait_until(const std::function<bool()>& ready, std::chrono::seconds limit = kSettleLimit) {
  const auto end = Clock::now() + limit;
  while (!ready()) {
    REQUIRE(Clock::now() < end);
    std::this_thread::sleep_for(100ms);
  }
}

std::string state_of(const nlohmann::json& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r["name"] == name) return r["state"];
  return "";
}

const nlohmann::json* node_row(const nlohmann::json& doc, const std::string& pipeline,
                               const std::string& node) {
  for (const auto& n : doc["nodes"])
    if (n["pipeline"] == pipeline && n["node"] == node) return &n;
  return nullptr;
}

std::string member_state(const nlohmann::json& doc, const std::string& name) {
  for (const auto& m : doc["members"])
    if (m["name"] == name) return m["state"];
  return "";
}

std::uint64_t dropped(const nlohmann::json& node, const std::string& reason) {
  return node["dropped"].contains(reason) ? node["dropped"][reason].get<std::uint64_t>() : 0;
}

std::string chain(const std::string& name, const std::string& src_on, const std::string& dsp_on,
                  const std::string& sink_on) {
  return R"({"name":")" + name + R"(","nodes":[
      {"id":"src","type":"sine","on":")" +
         src_on + R"("},
      {"id":"dsp","type":"gain","config":{"gain":0.5},"on":")" +
         dsp_on + R"("},
      {"id":"sink","type":"null_sink","on":")" +
         sink_on + R"("}],
    "connections":[{"from":"src","to":"dsp"},{"from":"dsp","to":"sink"}]})";
}

}  // namespace

TEST_CASE("a pipeline deployed over three members delivers every frame", "[integration][cluster]") {
  ScratchDir dir;
  Member a = start_member(dir, "a");
  Member b = start_member(dir, "b", &a);
  Member c = start_member(dir, "c", &b);  // joined through another member than the seed
  // The README's example, as it is.
  const std::string example = kExamples + "/cluster_chain.json";

  const Timed deployed = run_bounded(dir, "deploy " + example + " --cluster " + c.address());
  INFO(deployed.outcome.err);
  REQUIRE(deployed.outcome.status == 0);
  CHECK_THAT(deployed.outcome.out, Catch::Contains("src@a dsp@b sink@c"));

  wait_until([&] { return state_of(pipelines(dir, b), "chain") == "finished"; });
  const nlohmann::json doc = snapshot(dir, b);  // any member answers for the cluster
  INFO(doc.dump(1));
  for (const char* m : {"a", "b", "c"}) CHECK(member_state(doc, m) == "up");
  const auto* src = node_row(doc, "chain", "src");
  const auto* dsp = node_row(doc, "chain", "dsp");
  const auto* sink = node_row(doc, "chain", "sink");
  REQUIRE(src);
  REQUIRE(dsp);
  REQUIRE(sink);
  // The example ends by itself after one minute of audio: 2813 frames.
  CHECK((*src)["frames_out"] == 2813);
  CHECK((*dsp)["frames_in"] == 2813);
  CHECK((*dsp)["frames_out"] == 2813);
  CHECK((*sink)["frames_in"] == 2813);
  CHECK((*src)["process"] == "a");
  CHECK((*dsp)["process"] == "b");
  CHECK((*sink)["process"] == "c");
}

TEST_CASE("deploy --wait returns when the pipeline ends, with how it ended",
          "[integration][cluster]") {
  ScratchDir dir;
  Member a = start_member(dir, "a");
  Member b = start_member(dir, "b", &a);
  dir.write("fine.json", R"({"name":"fine","nodes":[
      {"id":"src","type":"sine","on":"a"},{"id":"sink","type":"null_sink","on":"b"}],
    "connections":[{"from":"src","to":"sink"}]})");
  const Timed fine =
      run_bounded(dir, "deploy fine.json --wait --frames 20000 --cluster " + a.address(), 60);
  INFO(fine.outcome.err);
  CHECK(fine.outcome.status == 0);
  CHECK_THAT(fine.outcome.out, Catch::Contains("pipeline \"fine\" finished"));
  // Over when it returned: nothing left to wait for.
  CHECK(state_of(pipelines(dir, b), "fine") == "finished");
  const nlohmann::json doc = snapshot(dir, b);
  const auto* sink = node_row(doc, "fine", "sink");
  REQUIRE(sink);
  CHECK((*sink)["frames_in"] == 20000);

  // A node that fails for good fails its pipeline: exit status 2.
  dir.write("doomed.json", R"({"name":"doomed","nodes":[
      {"id":"src","type":"sine","on":"a"},
      {"id":"bad","type":"fault","on":"b","config":{"fail_every":5,"action":"throw"},
       "supervision":{"restart":{"strategy":"never"}}},
      {"id":"sink","type":"null_sink","on":"a"}],
    "connections":[{"from":"src","to":"bad"},{"from":"bad","to":"sink"}]})");
  const Timed doomed =
      run_bounded(dir, "deploy doomed.json --wait --frames 1000 --cluster " + b.address(), 60);
  INFO(doomed.outcome.out);
  CHECK(doomed.outcome.status == 2);
  CHECK_THAT(doomed.outcome.out, Catch::Contains("pipeline \"doomed\" failed"));
}

TEST_CASE("a member lost with kill -9 mid-stream: its node is placed again, every frame counted",
          "[integration][cluster]") {
  ScratchDir dir;
  Member a = start_member(dir, "a");
  Member b = start_member(dir, "b", &a);
  Member c = start_member(dir, "c", &a);
  dir.write("spread.json", chain("lossy", "a", "b", "c"));
  constexpr std::uint64_t kFrames = 100000;
  const Timed deployed = run_bounded(
      dir, "deploy spread.json --frames " + std::to_string(kFrames) + " --cluster " + a.address());
  INFO(deployed.outcome.err);
  REQUIRE(deployed.outcome.status == 0);

  // Mid-stream: frames have gone through b, and many are still to come.
  wait_until([&] {
    const auto doc = snapshot(dir, a);
    const auto* dsp = node_row(doc, "lossy", "dsp");
    return dsp && (*dsp)["frames_out"].get<std::uint64_t>() > 500;
  });
  b.process->signal(SIGKILL);
  b.process.reset();

  wait_until([&] {
    const std::string state = state_of(pipelines(dir, a), "lossy");
    return state == "finished" || state == "failed" || state == "degraded";
  });
  const nlohmann::json doc = snapshot(dir, c);
  INFO(doc.dump(1));
  CHECK(state_of(pipelines(dir, c), "lossy") == "finished");
  CHECK(member_state(doc, "b") == "down");
  const auto* src = node_row(doc, "lossy", "src");
  const auto* dsp = node_row(doc, "lossy", "dsp");
  const auto* sink = node_row(doc, "lossy", "sink");
  REQUIRE(src);
  REQUIRE(dsp);
  REQUIRE(sink);
  CHECK((*dsp)["restarts"].get<int>() >= 1);
  CHECK((*dsp)["process"] != "b");
  // Why, in words: CAF's exit_reason(remote_link_unreachable) was shown.
  for (const auto& m : doc["members"])
    if (m["name"] == "b")
      CHECK(m["reason"].get<std::string>().find("exit_reason") == std::string::npos);
  CHECK((*dsp)["last_error"].get<std::string>().find("exit_reason") == std::string::npos);
  // Every frame the source sent reached the sink or is counted as lost
  // with the member.
  const std::uint64_t lost = dropped(*src, "member_down") + dropped(*dsp, "member_down") +
                             dropped(*dsp, "node_failed") + dropped(*sink, "member_down");
  CHECK((*src)["frames_out"] == kFrames);
  CHECK((*sink)["frames_in"].get<std::uint64_t>() + lost == kFrames);
  CHECK((*sink)["frames_in"].get<std::uint64_t>() < kFrames + 1);
}

TEST_CASE("a stopped member is declared down within a second and rejoins when resumed",
          "[integration][cluster]") {
  ScratchDir dir;
  Member a = start_member(dir, "a");
  Member b = start_member(dir, "b", &a);
  wait_until([&] { return member_state(snapshot(dir, a), "b") == "up"; });

  b.process->signal(SIGSTOP);
  const auto stopped_at = Clock::now();
  wait_until([&] { return member_state(snapshot(dir, a), "b") == "down"; }, 10s);
  const double detect_s = std::chrono::duration<double>(Clock::now() - stopped_at).count();
  WARN("stopped member declared down after " << detect_s << " s (including query time)");

  b.process->signal(SIGCONT);
  wait_until([&] { return member_state(snapshot(dir, a), "b") == "up"; }, 20s);
  wait_until([&] { return member_state(snapshot(dir, b), "a") == "up"; }, 20s);
}

TEST_CASE("cluster mistakes get clear errors", "[integration][cluster]") {
  ScratchDir dir;
  Member a = start_member(dir, "a", nullptr, {"--max-pipelines", "1"});
  Member b = start_member(dir, "b", &a, {"--max-pipelines", "1"});

  SECTION("a node pinned to an unknown member") {
    dir.write("p.json", chain("p", "a", "zz", "b"));
    const Timed t = run_bounded(dir, "deploy p.json --cluster " + a.address());
    CHECK(t.outcome.status == 1);
    CHECK_THAT(t.outcome.err, Catch::Contains("/nodes/1/on (node \"dsp\"): unknown member \"zz\""));
    CHECK_THAT(t.outcome.err, Catch::Contains("nothing was started"));
    CHECK(pipelines(dir, b).empty());
  }
  SECTION("a second member with a name already taken") {
    Child twin(dir, {"node", "--name", "b", "--listen", "127.0.0.1:0", "--join", a.address()},
               "twin");
    const auto status = twin.wait_for(kExitLimit);
    REQUIRE(status.has_value());
    CHECK(*status == 1);
    CHECK_THAT(twin.err(), Catch::Contains("cannot join the cluster at " + a.address() +
                                           ": a member named \"b\" is already in the cluster"));
  }
  SECTION("admission control, a duplicate pipeline, an unknown one") {
    dir.write("long.json", chain("long", "a", "a", "b"));
    const Timed first = run_bounded(dir, "deploy long.json --cluster " + a.address());
    INFO(first.outcome.err);
    REQUIRE(first.outcome.status == 0);

    const Timed again = run_bounded(dir, "deploy long.json --cluster " + b.address());
    CHECK(again.outcome.status == 1);
    CHECK_THAT(again.outcome.err,
               Catch::Contains("a pipeline named \"long\" is already running on the cluster"));

    dir.write("more.json", chain("more", "b", "b", "b"));
    const Timed full = run_bounded(dir, "deploy more.json --cluster " + b.address());
    CHECK(full.outcome.status == 1);
    CHECK_THAT(full.outcome.err, Catch::Contains("member \"b\" already runs 1 pipelines, its limit "
                                                 "(--max-pipelines 1)"));

    const Timed unknown = run_bounded(dir, "stop nope --cluster " + a.address());
    CHECK(unknown.outcome.status == 1);
    CHECK_THAT(unknown.outcome.err, Catch::Contains("no pipeline named \"nope\" on the cluster"));

    const Timed stopped = run_bounded(dir, "stop long --timeout 5 --cluster " + b.address());
    INFO(stopped.outcome.err);
    CHECK(stopped.outcome.status == 0);
    CHECK_THAT(stopped.outcome.out, Catch::Contains("pipeline \"long\" finished"));
    // The slot is free again.
    wait_until([&] {
      return run_bounded(dir, "deploy more.json --frames 10 --cluster " + b.address())
                 .outcome.status == 0;
    });
  }
}

TEST_CASE("garbage sent to a member's port never brings it down", "[integration][cluster]") {
  ScratchDir dir;
  Member a = start_member(dir, "a");
  std::mt19937 random(20261123);
  std::uniform_int_distribution<int> length(0, 4096);
  std::uniform_int_distribution<int> byte(0, 255);
  const auto noise = [&](std::vector<unsigned char>& out, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<unsigned char>(byte(random)));
  };
  // A BASP header: operation, padding, flags, payload length (big
  // endian), then 24 bytes of operation data and actor ids.
  const auto header = [&](std::vector<unsigned char>& out, int operation, std::uint32_t payload) {
    out.push_back(static_cast<unsigned char>(operation));
    noise(out, 3);
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<unsigned char>(payload >> shift));
    noise(out, 24);
  };
  constexpr int kCases = 3000;
  for (int k = 0; k < kCases; ++k) {
    std::vector<unsigned char> bytes;
    switch (k % 3) {
      case 0:  // noise
        noise(bytes, 1 + length(random));
        break;
      case 1:  // a client handshake announcing up to 4 GB
        header(bytes, 1, static_cast<std::uint32_t>(random()));
        noise(bytes, length(random));
        break;
      default:  // well-framed messages with garbage inside, for CAF to refuse
        const int n = length(random);
        header(bytes, 1, static_cast<std::uint32_t>(n));
        noise(bytes, n);
        header(bytes, k % 7, static_cast<std::uint32_t>(n));
        noise(bytes, n);
    }
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
  CHECK_THAT(a.process->err(), Catch::Contains("closed the connection from"));
  // Still a working member, with its memory intact.
  dir.write("after.json", chain("after", "a", "a", "a"));
  const Timed t = run_bounded(dir, "deploy after.json --frames 100 --cluster " + a.address());
  INFO(t.outcome.err);
  CHECK(t.outcome.status == 0);
  wait_until([&] { return state_of(pipelines(dir, a), "after") == "finished"; });
  const auto doc = snapshot(dir, a);
  CHECK(member_state(doc, "a") == "up");
  for (const auto& m : doc["members"])
    if (m["name"] == "a") CHECK(m["rss_bytes"].get<double>() < 200e6);
}

TEST_CASE("a capture member joins the cluster and its device feeds a deployed pipeline",
          "[integration][cluster][audio]") {
  JackTestServer jack("clu", {"tone"});
  if (!jack.usable()) return;
  ScratchDir dir;
  Member a = start_member(dir, "a");

  SECTION("a device that is not there is refused before joining") {
    Child wrong(dir, {"capture", "--name", "mic1", "--join", a.address(), "--device", "nope"},
                "wrong");
    const auto status = wrong.wait_for(kExitLimit);
    REQUIRE(status.has_value());
    CHECK(*status == 1);
    CHECK_THAT(wrong.err(), Catch::Contains("nope"));
    CHECK_THAT(wrong.err(), Catch::Contains(jack.tone()));  // the list of what there is
  }
  SECTION("the capture runs on its member, the sink elsewhere") {
    Child mic(dir,
              {"capture", "--name", "mic1", "--join", a.address(), "--device", jack.tone(),
               "--listen", "127.0.0.1:0"},
              "mic1");
    mic.wait_for_port(R"(member "mic1" listening on 127\.0\.0\.1:(\d+))");
    dir.write("listen.json", R"({"name":"listen","nodes":[
        {"id":"mic","type":"audio_capture","on":"mic1",
         "config":{"api":"jack","device":")" +
                                 jack.tone() + R"(","channels":2}},
        {"id":"out","type":"wav_sink","on":"a","config":{"path":"captured.wav"}}],
      "connections":[{"from":"mic","to":"out"}]})");
    const Timed t = run_bounded(dir, "deploy listen.json --frames 200 --cluster " + a.address());
    INFO(t.outcome.err);
    REQUIRE(t.outcome.status == 0);
    CHECK_THAT(t.outcome.out, Catch::Contains("mic@mic1 out@a"));
    wait_until([&] { return state_of(pipelines(dir, a), "listen") == "finished"; });
    const auto doc = snapshot(dir, a);
    INFO(doc.dump(1));
    const auto* mic_row = node_row(doc, "listen", "mic");
    const auto* out_row = node_row(doc, "listen", "out");
    REQUIRE(mic_row);
    REQUIRE(out_row);
    CHECK((*mic_row)["process"] == "mic1");
    CHECK((*out_row)["frames_in"].get<std::uint64_t>() + dropped(*mic_row, "overflow") == 200);
    // The file on member a holds every frame that reached it (256 samples each).
    const auto frames_in = (*out_row)["frames_in"].get<std::uint64_t>();
    CHECK(frames_in > 0);
    CHECK(shell_output("soxi -s '" + dir.file("streamlab-data/captured.wav") + "'") ==
          std::to_string(frames_in * 256) + "\n");
  }
}

// Issue 13, item 11. Before the edge's bytes in flight were bounded, 16
// frames of 16 MiB queued on the BASP connection ahead of the heartbeats:
// both members declared each other down and deploy --wait got no answer
// within 30 s. The largest frame validation allows must cost nothing but
// bandwidth.
TEST_CASE("the largest valid frames cross members without costing membership",
          "[integration][cluster]") {
  ScratchDir dir;
  Member a = start_member(dir, "a");
  Member b = start_member(dir, "b", &a);
  dir.write("big.json", R"({"name":"big","nodes":[
      {"id":"src","type":"sine","on":"a","config":{"frame_size":65536,"channels":64}},
      {"id":"sink","type":"null_sink","on":"b"}],
    "connections":[{"from":"src","to":"sink"}]})");
  const Timed t =
      run_bounded(dir, "deploy big.json --wait --frames 60 --cluster " + a.address(), 90);
  INFO(t.outcome.out << t.outcome.err);
  CHECK(t.outcome.status == 0);
  CHECK_THAT(t.outcome.out, Catch::Contains("pipeline \"big\" finished"));
  CHECK_THAT(a.process->err() + a.process->out(), !Catch::Contains("is down"));
  CHECK_THAT(b.process->err() + b.process->out(), !Catch::Contains("is down"));
  const nlohmann::json doc = snapshot(dir, b);
  const auto* sink = node_row(doc, "big", "sink");
  REQUIRE(sink);
  CHECK((*sink)["frames_in"] == 60);
}

// Issue 13, item 2. A 256-channel file used to validate, and its frames
// vanished between members ("unexpected message" on the receiver, no count).
// Now the limit that the receiver's decoder enforces is the one validation
// names, before anything is started.
TEST_CASE("a file with more channels than a frame may carry is refused at deploy, naming the limit",
          "[integration][cluster]") {
  ScratchDir dir;
  Member a = start_member(dir, "a");
  Member b = start_member(dir, "b", &a);
  REQUIRE(std::system(("sox -n -r 8000 -c 256 '" + dir.file("wide.wav") + "' synth 0.05 sine 440")
                          .c_str()) == 0);
  dir.write("wide.json", R"({"name":"wide","nodes":[
      {"id":"src","type":"wav_source","on":"a","config":{"path":"wide.wav"}},
      {"id":"dsp","type":"gain","on":"b"},
      {"id":"sink","type":"null_sink","on":"b"}],
    "connections":[{"from":"src","to":"dsp"},{"from":"dsp","to":"sink"}]})");
  const Timed t = run_bounded(dir, "deploy wide.json --wait --cluster " + a.address(), 60);
  INFO(t.outcome.out << t.outcome.err);
  CHECK(t.outcome.status != 0);
  CHECK_THAT(t.outcome.err, Catch::Contains("256 channels") && Catch::Contains("limit of 64"));
  CHECK(state_of(pipelines(dir, a), "wide").empty());
}

// Issue 13, item 3. A deployed pipeline could write anywhere on a member (a
// dead-letter file appended a line to a keys file). Members read and write
// only under their --data-dir: relative paths land there, absolute paths,
// ".." and symlinks out are refused at deploy, naming node, field and value;
// a member hosting a node checks its own file system too.
TEST_CASE("deployed pipelines read and write only under each member's data directory",
          "[integration][cluster]") {
  ScratchDir dir;
  Member a = start_member(dir, "a");
  Member b = start_member(dir, "b", &a, {"--data-dir", "bdata"});
  REQUIRE(std::filesystem::is_directory(dir.file("streamlab-data")));
  REQUIRE(std::filesystem::is_directory(dir.file("bdata")));

  SECTION("relative paths resolve inside the data directory of the member that writes") {
    dir.write("ok.json", R"({"name":"ok","nodes":[
        {"id":"src","type":"sine","on":"a"},
        {"id":"sink","type":"wav_sink","on":"b","config":{"path":"ok.wav"}}],
      "connections":[{"from":"src","to":"sink"}]})");
    const Timed t = run_bounded(dir, "deploy ok.json --wait --frames 10 --cluster " + a.address());
    INFO(t.outcome.out << t.outcome.err);
    CHECK(t.outcome.status == 0);
    CHECK(std::filesystem::exists(dir.file("bdata/ok.wav")));
    CHECK_FALSE(std::filesystem::exists(dir.file("ok.wav")));
  }
  SECTION("absolute paths and .. are refused at deploy with node, field and value") {
    dir.write("keys", "ssh-ed25519 AAAA owner\n");
    dir.write("bad.json", R"({"name":"bad","pipeline_config":{"dead_letter_path":")" +
                              dir.file("keys") + R"("},"nodes":[
        {"id":"src","type":"sine","on":"a"},
        {"id":"sink","type":"wav_sink","on":"b","config":{"path":"../up.wav"}}],
      "connections":[{"from":"src","to":"sink"}]})");
    const Timed t = run_bounded(dir, "deploy bad.json --wait --frames 10 --cluster " + a.address());
    INFO(t.outcome.out << t.outcome.err);
    CHECK(t.outcome.status != 0);
    CHECK_THAT(t.outcome.err,
               Catch::Contains("node \"sink\": field \"path\": \"../up.wav\"") &&
                   Catch::Contains("dead_letter_path \"" + dir.file("keys") + "\"") &&
                   Catch::Contains("absolute"));
    CHECK(slurp(dir.file("keys")) == "ssh-ed25519 AAAA owner\n");
    CHECK_FALSE(std::filesystem::exists(dir.file("up.wav")));
    CHECK(state_of(pipelines(dir, a), "bad").empty());
  }
  SECTION("a symlink leading out, on the member that hosts the node, is refused") {
    // A plain directory where the deploying CLI and the coordinator (a) look...
    std::filesystem::create_directory(dir.file("escape"));
    std::filesystem::create_directory(dir.file("streamlab-data/escape"));
    // ...and on b, which writes the file, a link out of its data directory.
    std::filesystem::create_directory(dir.file("outside"));
    std::filesystem::create_directory_symlink(dir.file("outside"), dir.file("bdata/escape"));
    dir.write("link.json", R"({"name":"link","nodes":[
        {"id":"src","type":"sine","on":"a"},
        {"id":"sink","type":"wav_sink","on":"b","config":{"path":"escape/x.wav"}}],
      "connections":[{"from":"src","to":"sink"}]})");
    const Timed t =
        run_bounded(dir, "deploy link.json --wait --frames 10 --cluster " + a.address());
    INFO(t.outcome.out << t.outcome.err);
    CHECK(t.outcome.status != 0);
    // (CAF quotes the host's error text: node \"sink\")
    CHECK_THAT(t.outcome.err, Catch::Contains("on member \"b\"") && Catch::Contains("sink") &&
                                  Catch::Contains("outside the data directory"));
    CHECK_FALSE(std::filesystem::exists(dir.file("outside/x.wav")));
  }
}
