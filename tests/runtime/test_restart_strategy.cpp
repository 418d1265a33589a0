#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "runtime/restart_strategy.hpp"

using namespace streamlab;

namespace {

using Kind = RestartDecision::Kind;

constexpr std::int64_t ms(std::int64_t v) { return v * kNsPerMs; }

RestartConfig with_strategy(RestartKind kind) {
  RestartConfig c;
  c.strategy = kind;
  return c;
}

IntensityConfig intensity(std::uint32_t max_restarts, std::int64_t within_ms) {
  IntensityConfig i;
  i.max_restarts = max_restarts;
  i.within_ms = within_ms;
  return i;
}

// Never reached by these tests: isolates a strategy from the intensity limit.
IntensityConfig unlimited() { return intensity(1000000, 1); }

// Fails, is restarted after the decided delay, and runs `run_ns` before the
// next failure; `count` times. Returns the delays.
std::vector<std::int64_t> fail_repeatedly(RestartStrategy& s, std::int64_t& now, int count,
                                          std::int64_t run_ns) {
  std::vector<std::int64_t> delays;
  for (int i = 0; i < count; ++i) {
    now += run_ns;
    auto d = s.on_failure(now, "boom");
    REQUIRE(d.kind == Kind::restart);
    delays.push_back(d.delay_ns);
    now += d.delay_ns;
    s.on_restarted(now);
  }
  return delays;
}

struct Simulation {
  std::vector<std::int64_t> restarted_at;  // when each replacement started
  int opens = 0;
  int trials = 0;
  bool escalated = false;
  std::int64_t escalated_at = -1;
  std::string reason;
};

// A node that always fails 1 ms after it starts, supervised for `horizon_ns`
// the way an actor would: each restart happens when its delay has passed;
// while the circuit is open, frames are refused.
Simulation always_failing(RestartStrategy& s, std::int64_t horizon_ns) {
  Simulation sim;
  std::int64_t now = 0;
  while (true) {
    now += ms(1);
    if (now > horizon_ns) break;
    auto d = s.on_failure(now, "always fails");
    REQUIRE(d.delay_ns >= 0);
    if (d.kind == Kind::escalate) {
      sim.escalated = true;
      sim.escalated_at = now;
      sim.reason = d.reason;
      break;
    }
    if (d.kind == Kind::open) {
      ++sim.opens;
      CHECK(s.state() == SupervisedState::open);
      CHECK_FALSE(s.accepts_frames(now + d.delay_ns / 2));
      CHECK_FALSE(s.trial_due(now + d.delay_ns / 2));
    }
    now += d.delay_ns;
    if (now > horizon_ns) break;
    if (d.kind == Kind::open) {
      CHECK(s.trial_due(now));
      CHECK(s.accepts_frames(now));
      ++sim.trials;
    }
    s.on_restarted(now);
    sim.restarted_at.push_back(now);
  }
  return sim;
}

// The most restarts within any period of `within_ns` (half-open, as the limit counts).
std::size_t densest(const std::vector<std::int64_t>& times, std::int64_t within_ns) {
  std::size_t best = 0;
  for (std::size_t i = 0, j = 0; j < times.size(); ++j) {
    while (times[i] <= times[j] - within_ns) ++i;
    best = std::max(best, j - i + 1);
  }
  return best;
}

}  // namespace

TEST_CASE("never: the first failure escalates and the node stays down", "[restart_strategy]") {
  RestartStrategy s(with_strategy(RestartKind::never), IntensityConfig{}, 1);
  CHECK(s.state() == SupervisedState::running);
  CHECK(s.accepts_frames(0));
  auto d = s.on_failure(ms(3), "disk full");
  CHECK(d.kind == Kind::escalate);
  CHECK(d.reason == "restart strategy \"never\": the node stays down");
  CHECK(s.state() == SupervisedState::failed);
  CHECK(s.restarts() == 0);
  CHECK(s.last_error() == "disk full");
  CHECK_FALSE(s.accepts_frames(ms(4)));
}

TEST_CASE("immediate: every failure restarts with no delay", "[restart_strategy]") {
  RestartStrategy s(with_strategy(RestartKind::immediate), unlimited(), 1);
  for (std::uint32_t i = 1; i <= 3; ++i) {
    auto d = s.on_failure(ms(10 * i), "boom " + std::to_string(i));
    CHECK(d.kind == Kind::restart);
    CHECK(d.delay_ns == 0);
    CHECK(s.state() == SupervisedState::backing_off);
    CHECK(s.accepts_frames(ms(10 * i)));  // held for the replacement, not dead-lettered
    s.on_restarted(ms(10 * i));
    CHECK(s.state() == SupervisedState::running);
    CHECK(s.restarts() == i);
  }
  CHECK(s.last_error() == "boom 3");
}

TEST_CASE("exponential: delays double up to the maximum, exactly without jitter",
          "[restart_strategy]") {
  SECTION("base 10 ms, doubling, at most 5 s") {
    RestartConfig c = with_strategy(RestartKind::exponential);
    c.jitter = 0;
    RestartStrategy s(c, unlimited(), 1);
    std::int64_t now = 0;
    auto delays = fail_repeatedly(s, now, 12, ms(1));
    const std::vector<std::int64_t> expected = {ms(10),   ms(20),   ms(40),   ms(80),
                                                ms(160),  ms(320),  ms(640),  ms(1280),
                                                ms(2560), ms(5000), ms(5000), ms(5000)};
    CHECK(delays == expected);
    CHECK(s.restarts() == 12);
  }
  SECTION("any multiplier") {
    RestartConfig c = with_strategy(RestartKind::exponential);
    c.jitter = 0;
    c.base_ms = 4;
    c.multiplier = 1.5;
    c.max_ms = 100;
    RestartStrategy s(c, unlimited(), 1);
    std::int64_t now = 0;
    auto delays = fail_repeatedly(s, now, 10, ms(1));
    const std::vector<std::int64_t> expected = {4000000,  6000000,  9000000,  13500000, 20250000,
                                                30375000, 45562500, 68343750, ms(100),  ms(100)};
    CHECK(delays == expected);
  }
  SECTION("a zero base never grows (and never becomes NaN)") {
    RestartConfig c = with_strategy(RestartKind::exponential);
    c.base_ms = 0;
    c.multiplier = 100;
    RestartStrategy s(c, unlimited(), 1);
    std::int64_t now = 0;
    // 100^154 overflows a double: far enough to catch 0 * inf.
    for (auto delay : fail_repeatedly(s, now, 200, ms(1))) REQUIRE(delay == 0);
  }
}

TEST_CASE("exponential: jitter stays within its bounds and is really random",
          "[restart_strategy]") {
  RestartConfig c = with_strategy(RestartKind::exponential);  // 10 ms .. 5 s, jitter 0.2
  RestartStrategy s(c, unlimited(), 42);
  std::int64_t now = 0;
  const int kSamples = 10000;
  auto delays = fail_repeatedly(s, now, kSamples, ms(1));

  std::set<std::int64_t> distinct;
  double factor_sum = 0;
  double min_factor = 2, max_factor = 0;
  int below = 0;
  for (int i = 0; i < kSamples; ++i) {
    const double nominal = std::min(5000.0, 10.0 * std::pow(2.0, i)) * kNsPerMs;
    const double delay = static_cast<double>(delays[i]);
    INFO("sample " << i << ": " << delay << " ns, nominal " << nominal);
    REQUIRE(delay >= 0.8 * nominal - 1);
    REQUIRE(delay <= 1.2 * nominal + 1);
    REQUIRE(delays[i] <= static_cast<std::int64_t>(5000 * 1.2 * kNsPerMs));
    const double factor = delay / nominal;
    factor_sum += factor;
    min_factor = std::min(min_factor, factor);
    max_factor = std::max(max_factor, factor);
    below += factor < 1.0;
    distinct.insert(delays[i]);
  }
  CHECK(distinct.size() > 9900);
  CHECK(min_factor < 0.801);  // the whole range is used...
  CHECK(max_factor > 1.199);
  CHECK(std::fabs(factor_sum / kSamples - 1.0) < 0.01);  // ...evenly around the nominal delay
  CHECK(below > 4500);
  CHECK(below < 5500);
}

TEST_CASE("exponential: the seed alone decides the jitter", "[restart_strategy]") {
  auto run = [](std::uint64_t seed) {
    RestartStrategy s(RestartConfig{}, unlimited(), seed);
    std::int64_t now = 0;
    return fail_repeatedly(s, now, 20, ms(1));
  };
  CHECK(run(7) == run(7));
  CHECK(run(7) != run(8));
}

TEST_CASE("exponential: the backoff starts over after a quiet period", "[restart_strategy]") {
  RestartConfig c = with_strategy(RestartKind::exponential);
  c.jitter = 0;
  c.reset_after_ms = 30000;
  RestartStrategy s(c, unlimited(), 1);
  std::int64_t now = 0;
  CHECK(fail_repeatedly(s, now, 3, ms(1)) == std::vector<std::int64_t>{ms(10), ms(20), ms(40)});

  SECTION("a failure just short of the quiet period continues the sequence") {
    auto d = s.on_failure(now + ms(30000) - 1, "again");
    CHECK(d.delay_ns == ms(80));
  }
  SECTION("a failure after the quiet period starts from the base again") {
    auto d = s.on_failure(now + ms(30000), "again");
    CHECK(d.delay_ns == ms(10));
    s.on_restarted(now + ms(30010));
    CHECK(s.on_failure(now + ms(30011), "and again").delay_ns == ms(20));
  }
}

TEST_CASE("circuit breaker: closed -> open -> half_open -> closed", "[restart_strategy]") {
  RestartConfig c = with_strategy(RestartKind::circuit_breaker);
  c.failures = 3;
  c.window_ms = 1000;
  c.open_ms = 500;
  c.half_open_trials = 2;
  RestartStrategy s(c, unlimited(), 1);

  // Closed: failures restart at once until the third within the window.
  for (std::int64_t t : {0, 10}) {
    auto d = s.on_failure(ms(t), "boom");
    CHECK(d.kind == Kind::restart);
    CHECK(d.delay_ns == 0);
    s.on_restarted(ms(t));
    CHECK(s.state() == SupervisedState::running);
  }
  auto d = s.on_failure(ms(20), "boom");
  CHECK(d.kind == Kind::open);
  CHECK(d.delay_ns == ms(500));
  CHECK(d.reason == "3 failures within 1000 ms opened the circuit; trial restart in 500 ms");
  CHECK(s.state() == SupervisedState::open);

  // Open: frames are refused until open_ms has passed.
  CHECK_FALSE(s.trial_due(ms(519)));
  CHECK_FALSE(s.accepts_frames(ms(519)));
  CHECK(s.state() == SupervisedState::open);
  CHECK(s.trial_due(ms(520)));
  CHECK(s.accepts_frames(ms(520)));
  CHECK(s.state() == SupervisedState::half_open);
  CHECK(s.trial_due(ms(520)));

  // Half open: the trial runs; two good frames in a row close the circuit.
  s.on_restarted(ms(521));
  CHECK_FALSE(s.trial_due(ms(521)));
  CHECK(s.state() == SupervisedState::half_open);
  s.on_frame_ok(ms(522));
  CHECK(s.state() == SupervisedState::half_open);
  s.on_frame_ok(ms(523));
  CHECK(s.state() == SupervisedState::running);
  CHECK(s.restarts() == 3);  // two immediate ones and the trial

  // Closed again, with a clean window: one failure restarts.
  d = s.on_failure(ms(600), "boom");
  CHECK(d.kind == Kind::restart);
  CHECK(d.delay_ns == 0);
}

TEST_CASE("circuit breaker: a failed trial opens the circuit again", "[restart_strategy]") {
  RestartConfig c = with_strategy(RestartKind::circuit_breaker);
  c.failures = 1;
  c.open_ms = 100;
  c.half_open_trials = 3;
  RestartStrategy s(c, unlimited(), 1);
  REQUIRE(s.on_failure(0, "boom").kind == Kind::open);

  SECTION("after some good frames: they must be consecutive") {
    s.on_restarted(ms(100));
    s.on_frame_ok(ms(101));
    s.on_frame_ok(ms(102));
    auto d = s.on_failure(ms(103), "trial failed");
    CHECK(d.kind == Kind::open);
    CHECK(d.delay_ns == ms(100));
    CHECK(d.reason == "trial failed, circuit re-opened; trial restart in 100 ms");
    CHECK(s.state() == SupervisedState::open);
    CHECK_FALSE(s.accepts_frames(ms(150)));
    // The next trial starts counting from zero.
    s.on_restarted(ms(203));
    s.on_frame_ok(ms(204));
    s.on_frame_ok(ms(205));
    CHECK(s.state() == SupervisedState::half_open);
    s.on_frame_ok(ms(206));
    CHECK(s.state() == SupervisedState::running);
  }
  SECTION("when the trial restart itself fails") {
    CHECK(s.accepts_frames(ms(100)));
    CHECK(s.state() == SupervisedState::half_open);
    auto d = s.on_failure(ms(100), "cannot start");
    CHECK(d.kind == Kind::open);
    CHECK(d.delay_ns == ms(100));
    CHECK(s.restarts() == 2);  // counted, so the intensity limit sees it
  }
  SECTION("a failure reported while open changes nothing") {
    auto d = s.on_failure(ms(40), "late report");
    CHECK(d.kind == Kind::open);
    CHECK(d.delay_ns == ms(60));
    CHECK(s.state() == SupervisedState::open);
    CHECK(s.restarts() == 1);
    CHECK(s.last_error() == "late report");
  }
}

TEST_CASE("circuit breaker: failures spread wider than the window never open it",
          "[restart_strategy]") {
  RestartConfig c = with_strategy(RestartKind::circuit_breaker);
  c.failures = 3;
  c.window_ms = 1000;
  RestartStrategy s(c, unlimited(), 1);
  // At 501 ms apart, a window holds at most two.
  for (std::int64_t t = 0; t < 100 * 501; t += 501) {
    auto d = s.on_failure(ms(t), "boom");
    REQUIRE(d.kind == Kind::restart);
    s.on_restarted(ms(t));
  }
  // The window is (now - 1000 ms, now]: a failure 1000 ms back has left it.
  auto third_failure_at = [&](std::int64_t t) {
    RestartStrategy tight(c, unlimited(), 1);
    for (std::int64_t earlier : {0, 500}) {
      REQUIRE(tight.on_failure(ms(earlier), "boom").kind == Kind::restart);
      tight.on_restarted(ms(earlier));
    }
    return tight.on_failure(ms(t), "boom").kind;
  };
  CHECK(third_failure_at(999) == Kind::open);
  CHECK(third_failure_at(1000) == Kind::restart);
}

TEST_CASE("every strategy escalates past the restart intensity limit", "[restart_strategy]") {
  RestartConfig exponential = with_strategy(RestartKind::exponential);
  exponential.base_ms = 1;
  exponential.jitter = 0;
  RestartConfig breaker = with_strategy(RestartKind::circuit_breaker);
  breaker.failures = 1000000;  // never opens: only the intensity limit can stop it
  for (const RestartConfig& c : {with_strategy(RestartKind::immediate), exponential, breaker}) {
    INFO(to_string(c.strategy));
    RestartStrategy s(c, intensity(3, 1000), 1);
    std::int64_t now = 0;
    fail_repeatedly(s, now, 3, ms(10));
    auto d = s.on_failure(now + ms(10), "boom");
    CHECK(d.kind == Kind::escalate);
    CHECK(d.reason == "4 restarts within 1000 ms exceeds the limit of 3");
    CHECK(s.state() == SupervisedState::failed);
    CHECK(s.restarts() == 3);

    // Failed stays failed, whatever happens next.
    s.on_restarted(now + ms(20));
    s.on_frame_ok(now + ms(21));
    CHECK(s.state() == SupervisedState::failed);
    CHECK_FALSE(s.accepts_frames(now + ms(1000000)));
    auto again = s.on_failure(now + ms(1000000), "later");
    CHECK(again.kind == Kind::escalate);
    CHECK(again.reason == d.reason);
    CHECK(s.restarts() == 3);
  }
}

TEST_CASE("the intensity period slides", "[restart_strategy]") {
  auto restarts_until_escalation = [](std::int64_t spacing_ms) {
    RestartStrategy s(with_strategy(RestartKind::immediate), intensity(2, 100), 1);
    for (int i = 1; i <= 1000; ++i) {
      if (s.on_failure(ms(spacing_ms * i), "boom").kind == Kind::escalate) return i - 1;
      s.on_restarted(ms(spacing_ms * i));
    }
    return 1000;
  };
  CHECK(restarts_until_escalation(60) == 1000);  // at most 2 within any 100 ms
  CHECK(restarts_until_escalation(50) == 1000);  // the one 100 ms back has left the period
  CHECK(restarts_until_escalation(40) == 2);     // 3 within 100 ms

  RestartStrategy none(with_strategy(RestartKind::immediate), intensity(0, 5000), 1);
  auto d = none.on_failure(0, "boom");
  CHECK(d.kind == Kind::escalate);
  CHECK(d.reason == "1 restart within 5000 ms exceeds the limit of 0");
}

TEST_CASE("a breaker's trial restarts count towards the intensity limit", "[restart_strategy]") {
  RestartConfig c = with_strategy(RestartKind::circuit_breaker);
  c.failures = 1;
  c.open_ms = 10;
  RestartStrategy s(c, intensity(2, 1000), 1);
  CHECK(s.on_failure(0, "boom").kind == Kind::open);
  s.on_restarted(ms(10));
  CHECK(s.on_failure(ms(11), "boom").kind == Kind::open);
  s.on_restarted(ms(21));
  auto d = s.on_failure(ms(22), "boom");
  CHECK(d.kind == Kind::escalate);
  CHECK(d.reason == "3 restarts within 1000 ms exceeds the limit of 2");
}

TEST_CASE("a node that always fails: 2 s under each strategy", "[restart_strategy]") {
  const std::int64_t horizon = ms(2000);

  SECTION("never: down at the first failure") {
    RestartStrategy s(with_strategy(RestartKind::never), IntensityConfig{}, 1);
    auto sim = always_failing(s, horizon);
    CHECK(sim.restarted_at.empty());
    CHECK(sim.escalated_at == ms(1));
    CHECK(s.state() == SupervisedState::failed);
  }
  SECTION("immediate: exactly the intensity limit, then down") {
    // One failure per ms: the 11th restart would fall within 5 s of the first.
    RestartStrategy s(with_strategy(RestartKind::immediate), IntensityConfig{}, 1);
    auto sim = always_failing(s, horizon);
    CHECK(sim.restarted_at.size() == 10);
    CHECK(sim.escalated_at == ms(11));
    CHECK(sim.reason == "11 restarts within 5000 ms exceeds the limit of 10");
    CHECK(s.state() == SupervisedState::failed);
  }
  SECTION("exponential: the limit is reached before the backoff slows it enough") {
    // Failure k (from 0) comes at (k + 1) ms plus the delays before it; with
    // base 10 ms doubling and jitter 0.2, the 6th comes between
    // 6 + 0.8 * 310 = 254 ms and 6 + 1.2 * 310 = 378 ms: 6 restarts within
    // 1000 ms exceed the limit of 5, whatever the seed.
    RestartConfig c = with_strategy(RestartKind::exponential);
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      INFO("seed " << seed);
      RestartStrategy s(c, intensity(5, 1000), seed);
      auto sim = always_failing(s, horizon);
      CHECK(sim.restarted_at.size() == 5);
      CHECK(sim.escalated_at >= ms(254));
      CHECK(sim.escalated_at <= ms(378));
      CHECK(sim.reason == "6 restarts within 1000 ms exceeds the limit of 5");
      CHECK(s.state() == SupervisedState::failed);
    }
  }
  SECTION("circuit breaker: cycles open / half open, never storming") {
    // 4 immediate restarts, then the 5th failure (at 5 ms) opens the
    // circuit; after that one trial per open_ms + 1 ms:
    // restarts <= 4 + 1 + floor((2000 - 5) / 501) = 8, all within one 5 s
    // period and below the limit of 10.
    RestartConfig c = with_strategy(RestartKind::circuit_breaker);
    c.open_ms = 500;
    RestartStrategy s(c, IntensityConfig{}, 1);
    auto sim = always_failing(s, horizon);
    CHECK_FALSE(sim.escalated);
    CHECK(s.restarts() <= 8);
    CHECK(sim.opens == 4);
    CHECK(sim.trials == 3);
    CHECK((s.state() == SupervisedState::open || s.state() == SupervisedState::half_open));
  }
}

TEST_CASE("the built-in defaults never storm and never give up on a slow failure",
          "[restart_strategy]") {
  const std::int64_t horizon = ms(10 * 60 * 1000);  // 10 minutes
  const IntensityConfig limit;                      // 10 within 5 s
  SECTION("exponential") {
    // Below the maximum: 9 delays (10 .. 2560 ms). Then every cycle takes
    // 1 ms plus 5 s +- 20%: between 4001 and 6001 ms.
    RestartStrategy s(RestartConfig{}, limit, 3);
    auto sim = always_failing(s, horizon);
    CHECK_FALSE(sim.escalated);
    CHECK(sim.restarted_at.size() <= 9 + 600000 / 4001 + 1);
    CHECK(sim.restarted_at.size() >= 600000 / 6001);
    CHECK(densest(sim.restarted_at, ms(limit.within_ms)) <= limit.max_restarts);
  }
  SECTION("circuit breaker") {
    // 4 immediate restarts, then one trial per 2001 ms.
    RestartConfig c = with_strategy(RestartKind::circuit_breaker);
    RestartStrategy s(c, limit, 3);
    auto sim = always_failing(s, horizon);
    CHECK_FALSE(sim.escalated);
    CHECK(sim.restarted_at.size() <= 4 + (600000 - 5) / 2001 + 1);
    CHECK(sim.restarted_at.size() >= (600000 - 5) / 2001);
    CHECK(densest(sim.restarted_at, ms(limit.within_ms)) <= limit.max_restarts);
  }
}

TEST_CASE("states and decisions have readable names", "[restart_strategy]") {
  CHECK(to_string(SupervisedState::running) == "running");
  CHECK(to_string(SupervisedState::backing_off) == "backing_off");
  CHECK(to_string(SupervisedState::open) == "open");
  CHECK(to_string(SupervisedState::half_open) == "half_open");
  CHECK(to_string(SupervisedState::failed) == "failed");
  CHECK(to_string(Kind::restart) == "restart");
  CHECK(to_string(Kind::open) == "open");
  CHECK(to_string(Kind::escalate) == "escalate");
}

namespace {

struct GiveUp {
  bool escalated = false;
  std::int64_t escalated_at = -1;
  std::int64_t last_restart_at = -1;
  std::uint32_t restarts = 0;
  std::string reason;
};

// A node whose every attempt fails `attempt_ns` after it starts, before a
// frame gets through (its progress stays at `progress`), supervised as the
// actor does, until it escalates or `horizon_ns` has passed.
GiveUp fails_every_attempt(RestartStrategy& s, std::int64_t horizon_ns, std::int64_t attempt_ns,
                           std::optional<std::uint64_t> progress, std::int64_t now = 0) {
  GiveUp g;
  for (;;) {
    now += attempt_ns;
    if (now > horizon_ns) return g;
    auto d = s.on_failure(now, "mix: input 1 is 44100 Hz but input 0 is 48000 Hz", progress);
    if (d.kind == Kind::escalate) {
      g.escalated = true;
      g.escalated_at = now;
      g.reason = d.reason;
      return g;
    }
    now += d.delay_ns;
    s.on_restarted(now);
    g.last_restart_at = now;
    ++g.restarts;
  }
}

}  // namespace

TEST_CASE("defaults: backoff alone outgrows the intensity window and restarts forever",
          "[restart_strategy][give_up]") {
  // The defect, kept as the reason for giving up: without progress figures
  // (as before), ten minutes of a node that can never work never escalate.
  RestartStrategy s(RestartConfig{}, IntensityConfig{}, 7);
  GiveUp g = fails_every_attempt(s, ms(600000), ms(1), std::nullopt);
  CHECK_FALSE(g.escalated);
  CHECK(g.restarts > 100);
}

TEST_CASE("defaults: an error on every attempt fails the node for good within give_up_after_ms",
          "[restart_strategy][give_up]") {
  const IntensityConfig defaults;
  REQUIRE(defaults.give_up_after_ms == 10000);
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    for (std::int64_t attempt_ms : {0, 1, 50, 900}) {
      RestartStrategy s(RestartConfig{}, defaults, seed);
      GiveUp g = fails_every_attempt(s, ms(600000), ms(attempt_ms), 0);
      INFO("seed " << seed << ", attempt " << attempt_ms << " ms");
      REQUIRE(g.escalated);
      CHECK(s.state() == SupervisedState::failed);
      // No restart starts later than the limit after the first failure; the
      // last attempt then takes its own time to fail.
      CHECK(g.last_restart_at - ms(attempt_ms) <= ms(10000));
      CHECK(g.escalated_at <= ms(10000) + ms(attempt_ms) * 2);
      CHECK_THAT(g.reason, Catch::Contains("with no frame getting through") &&
                               Catch::Contains("give_up_after_ms (10000 ms)"));
      CHECK_FALSE(s.accepts_frames(g.escalated_at));
    }
  }
}

TEST_CASE("giving up: progress between failures starts a new series",
          "[restart_strategy][give_up]") {
  RestartConfig c;
  c.jitter = 0;
  RestartStrategy s(c, IntensityConfig{}, 1);
  // Frames get through between failures, 6 s apart: a flaky node, not a
  // hopeless one. It is restarted for as long as that goes on.
  std::int64_t now = 0, last_failure = 0;
  for (std::uint64_t progress = 1; progress <= 100; ++progress) {
    now += ms(6000);
    last_failure = now;
    auto d = s.on_failure(now, "flaky", progress * 10);
    REQUIRE(d.kind == Kind::restart);
    now += d.delay_ns;
    s.on_restarted(now);
  }
  // Then nothing more gets through: the series counts from the last
  // failure that followed progress. The backoff is at its 5 s maximum: the
  // restart decided then fits in the 10 s, the next one (at 10.001 s) not.
  GiveUp g = fails_every_attempt(s, now + ms(600000), ms(1), 1000, now);
  REQUIRE(g.escalated);
  CHECK(g.restarts == 0);
  CHECK(g.escalated_at - last_failure == ms(5000) + ms(1));
}

TEST_CASE("giving up: the limit is configurable, and 0 never gives up",
          "[restart_strategy][give_up]") {
  RestartConfig c;
  c.jitter = 0;  // delays 10, 20, 40, 80, 160 ms ...
  IntensityConfig i;
  i.give_up_after_ms = 100;
  RestartStrategy s(c, i, 1);
  GiveUp g = fails_every_attempt(s, ms(600000), 0, 0);
  REQUIRE(g.escalated);
  // Restarts at 10, 30, 70 ms; the next (70 + 80 = 150 ms) would pass 100 ms.
  CHECK(g.restarts == 3);
  CHECK(g.escalated_at == ms(70));

  i.give_up_after_ms = 0;
  RestartStrategy patient(c, i, 1);
  CHECK_FALSE(fails_every_attempt(patient, ms(600000), ms(1), 0).escalated);
}

TEST_CASE("giving up applies to a circuit breaker whose trials always fail",
          "[restart_strategy][give_up]") {
  RestartConfig c = with_strategy(RestartKind::circuit_breaker);
  IntensityConfig i = unlimited();
  i.give_up_after_ms = 10000;
  RestartStrategy s(c, i, 1);
  std::int64_t now = 0;
  bool escalated = false;
  while (now < ms(600000) && !escalated) {
    now += ms(1);
    auto d = s.on_failure(now, "cannot open", 0);
    escalated = d.kind == Kind::escalate;
    now += d.delay_ns;
    s.on_restarted(now);
  }
  CHECK(escalated);
  CHECK(now <= ms(10000) + ms(2));
}

TEST_CASE("progress_of counts what got through, not what failed", "[restart_strategy][give_up]") {
  NodeMetrics m;
  CHECK(progress_of(m) == 0);
  m.frames_in = 10;  // a sink that consumed 10
  CHECK(progress_of(m) == 10);
  m.dead_lettered = 4;
  m.skipped = 2;
  m.drop(DropReason::node_failed, 1);
  CHECK(progress_of(m) == 3);
  m.dead_lettered = 20;  // never below zero
  CHECK(progress_of(m) == 0);
  NodeMetrics source;
  source.frames_out = 7;
  source.drop(DropReason::overflow, 3);
  CHECK(progress_of(source) == 7);
}
