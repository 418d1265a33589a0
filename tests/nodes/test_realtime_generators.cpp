// Real-time generators (`"realtime": true` on sine and constant): live
// sources that emit a frame only once it is due, stamped with the time it
// became due. Only lower bounds on elapsed time are checked (a frame never
// comes early); how late it comes depends on the machine.

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "node_test_support.hpp"

using namespace streamlab;
using namespace streamlab::test;

namespace {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Polls the node until it has emitted `count` frames; for each frame, the
// steady time right after the call that returned it.
FrameList poll_frames(Node& node, std::size_t count, std::vector<std::int64_t>& emitted_at) {
  FrameList out;
  bool eos = false;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (out.size() < count && !eos && std::chrono::steady_clock::now() < give_up) {
    const std::size_t before = out.size();
    Status s = node.generate(out, eos);
    REQUIRE(s.is_ok());
    const std::int64_t now = steady_now_ns();
    for (std::size_t i = before; i < out.size(); ++i) emitted_at.push_back(now);
    if (out.size() == before) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  REQUIRE(out.size() == count);
  return out;
}

}  // namespace

TEST_CASE("generators are live only with realtime set, paced at their frame period",
          "[nodes][realtime]") {
  for (const char* type : {"sine", "constant"}) {
    INFO(type);
    CHECK_FALSE(make_node(type, json::object())->live());
    CHECK_FALSE(make_node(type, {{"realtime", false}})->live());
    auto pacing = make_node(type, {{"realtime", true}, {"frame_size", 480}})->live();
    REQUIRE(pacing);
    // 480 / 48 kHz = 10 ms: the longest wait; next_due_ns() says when, exactly.
    CHECK(pacing->poll_interval_ns == 10'000'000);
    CHECK(pacing->overflow == Overflow::drop_oldest);
    CHECK(pacing->backlog > 0);
    CHECK(validate(type, {{"realtime", "yes"}}).size() == 1);
  }
  const NodeType* sine = NodeRegistry::builtin().find("sine");
  REQUIRE(sine);
  bool listed = false;
  for (const auto& f : sine->schema.fields)
    if (f.name == "realtime") listed = f.type == FieldType::boolean && f.default_value == false;
  CHECK(listed);
}

TEST_CASE("a real-time sine stamps frames frame_size / sample_rate apart and never early",
          "[nodes][realtime][sine]") {
  // 48 samples at 48 kHz: exactly 1 ms per frame.
  auto node = make_node("sine", {{"realtime", true}, {"frame_size", 48}});
  const std::int64_t t0 = steady_now_ns();
  std::vector<std::int64_t> emitted_at;
  FrameList frames = poll_frames(*node, 20, emitted_at);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    INFO("frame " << i);
    CHECK(frames[i].seq == i);
    CHECK(frames[i].timestamp_ns - frames[0].timestamp_ns ==
          static_cast<std::int64_t>(i) * 1'000'000);
    // Due at start + i ms, and the start is after t0.
    CHECK(emitted_at[i] - t0 >= static_cast<std::int64_t>(i) * 1'000'000);
  }
  // The first frame is due at once: its stamp is when it was asked for.
  const std::int64_t wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  CHECK(frames[0].timestamp_ns <= wall);
  CHECK(wall - frames[0].timestamp_ns < 60'000'000'000LL);  // sanity only
}

TEST_CASE("real-time stamps stay exact when a frame is not a whole number of ns",
          "[nodes][realtime][constant]") {
  // 100 samples at 44.1 kHz is 2267573.69... ns.
  auto node =
      make_node("constant", {{"realtime", true}, {"frame_size", 100}, {"sample_rate", 44100}});
  std::vector<std::int64_t> emitted_at;
  FrameList frames = poll_frames(*node, 5, emitted_at);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    // floor(i * 100 * 1e9 / 44100): no drift from rounding a period once.
    const std::int64_t expected = static_cast<std::int64_t>(i) * 100 * 1'000'000'000LL / 44100;
    CHECK(frames[i].timestamp_ns - frames[0].timestamp_ns == expected);
  }
}

TEST_CASE("a real-time generator says when its next frame is due, one period apart",
          "[nodes][realtime]") {
  for (const char* type : {"sine", "constant"}) {
    INFO(type);
    CHECK_FALSE(make_node(type, {{"frame_size", 48}})->next_due_ns());  // not live
    // 48 samples at 48 kHz: exactly 1 ms per frame; 4 frames, then the end.
    auto node = make_node(type, {{"realtime", true}, {"frame_size", 48}, {"num_frames", 4}});
    CHECK_FALSE(node->next_due_ns());  // its clock starts with the first frame
    std::vector<std::int64_t> emitted_at;
    std::vector<std::int64_t> due;  // due[i]: announced after frame i, for frame i + 1
    for (std::size_t i = 0; i < 4; ++i) {
      INFO("frame " << i);
      FrameList frames = poll_frames(*node, 1, emitted_at);
      CHECK(frames[0].seq == i);
      // Never before the time announced for it.
      if (i > 0) CHECK(emitted_at[i] >= due[i - 1]);
      const auto next = node->next_due_ns();
      if (i == 3) {
        CHECK_FALSE(next);  // the stream has ended: nothing more is due
        break;
      }
      REQUIRE(next);
      // Asking again, or polling before it is due, does not move it.
      CHECK(node->next_due_ns() == next);
      due.push_back(*next);
    }
    REQUIRE(due.size() == 3);
    for (std::size_t i = 1; i < due.size(); ++i) CHECK(due[i] - due[i - 1] == 1'000'000);
  }
}

TEST_CASE("a real-time sine has the same samples as one that is not", "[nodes][realtime][sine]") {
  json config = {{"frequency", 1000.0}, {"frame_size", 48}, {"channels", 2}};
  auto plain = make_node("sine", config);
  config["realtime"] = true;
  auto live = make_node("sine", config);
  std::vector<std::int64_t> emitted_at;
  FrameList a = drain(*plain, 6);
  FrameList b = poll_frames(*live, 6, emitted_at);
  CHECK(concat_channel(a, 0) == concat_channel(b, 0));
  CHECK(concat_channel(a, 1) == concat_channel(b, 1));
}

TEST_CASE("a real-time generator still ends after num_frames", "[nodes][realtime]") {
  auto node = make_node("constant", {{"realtime", true}, {"frame_size", 48}, {"num_frames", 3}});
  std::vector<std::int64_t> emitted_at;
  FrameList frames = poll_frames(*node, 3, emitted_at);
  FrameList more;
  bool eos = false;
  REQUIRE(node->generate(more, eos).is_ok());
  CHECK(eos);
  CHECK(more.empty());
}
