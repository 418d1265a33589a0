#pragma once
// The restart state machine of one supervised node, as plain state: the
// supervisor feeds it events with the current time and acts on its answers.
// Time is always passed in (nanoseconds on any monotonic clock) and jitter
// comes from a seeded generator, so every schedule is reproducible in tests.
//
// How a supervisor drives it:
//   node failed          -> d = on_failure(now, error)
//       restart / open   -> restart the node after d.delay_ns, then on_restarted(now)
//                           (after an `open`, that restart is the breaker's trial)
//       escalate         -> stop restarting; escalate to the parent / stop the pipeline
//   a frame arrives      -> accepts_frames(now) ? hold or process it : dead-letter it
//   a frame succeeded    -> on_frame_ok(now)
//
// Strategies (RestartConfig::strategy):
//   never           the first failure escalates.
//   immediate       restart with no delay.
//   exponential     delay_n = min(max_ms, base_ms * multiplier^n) times a
//                   jitter factor drawn uniformly from [1 - jitter, 1 + jitter),
//                   so a delay is in [0, max_ms * (1 + jitter)]. Symmetric
//                   jitter (unlike Akka's upward-only) keeps the mean delay at
//                   the nominal one while still spreading out nodes that
//                   failed together. n counts restarts and returns to 0 when
//                   a failure comes at least reset_after_ms after the last
//                   restart.
//   circuit_breaker while closed (state running), a failure restarts at once;
//                   `failures` failures within window_ms (sliding) open the
//                   circuit: no restart, frames are refused, and after
//                   open_ms a trial restart is due (half_open). During the
//                   trial, half_open_trials good frames in a row close the
//                   circuit; a failure opens it again.
// Restart intensity (every strategy, as Erlang/OTP's MaxR within MaxT): a
// restart that would make more than max_restarts restarts within within_ms
// escalates instead. A restart counts when it is decided; an `open` decision
// counts as the trial restart it schedules. Once failed, always failed.
// Giving up (every strategy, IntensityConfig::give_up_after_ms): failures
// that each come before the node got any frame through since the one
// before (its progress, passed in, did not move) form a series; a restart
// that would start more than give_up_after_ms after the series' first
// failure escalates instead. Backoff that outgrows the intensity window
// cannot then restart a node forever on an error that no restart cures.

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>

#include "runtime/node_metrics.hpp"
#include "runtime/supervision_config.hpp"

namespace streamlab {

enum class SupervisedState {
  running,      // the node is up (for a breaker: the circuit is closed or a trial is running)
  backing_off,  // a restart is decided and its delay has not ended yet
  open,         // breaker open: no restart, frames are refused until open_ms has passed
  half_open,    // breaker: a trial restart is due or running
  failed        // escalated; the node stays down
};
std::string to_string(SupervisedState state);

struct RestartDecision {
  enum class Kind { restart, open, escalate };
  Kind kind = Kind::restart;
  std::int64_t delay_ns = 0;  // restart (or, for open, the trial restart) after this long
  std::string reason;         // for logs: which rule decided, with its figures
};
std::string to_string(RestartDecision::Kind kind);

// What a node has got through, for giving up: frames it emitted plus frames
// it consumed that were neither skipped, dead-lettered nor dropped. Grows
// when anything succeeded, and only then.
std::uint64_t progress_of(const NodeMetrics& metrics);

class RestartStrategy {
 public:
  RestartStrategy(const RestartConfig& restart, const IntensityConfig& intensity,
                  std::uint64_t seed);

  // The node failed (or its restart did). `progress` is a count of what the
  // node has got through over all its instances (progress_of(metrics));
  // without it, giving up is not applied. Before open_ms has passed, an
  // open circuit has nothing running, so a failure then is a late report
  // from the instance that already failed: it changes nothing and the answer
  // is the pending open decision with its remaining delay. After that, it is
  // the trial's failure, even if on_restarted was never called.
  RestartDecision on_failure(std::int64_t now_ns, const std::string& error,
                             std::optional<std::uint64_t> progress = std::nullopt);

  // The replacement is running. After an open decision this starts the
  // breaker's trial (state half_open), even if the supervisor restarted a
  // little before open_ms had passed: the state must follow what runs.
  // Ignored when running or failed.
  void on_restarted(std::int64_t now_ns);

  // A frame was processed fine. Counts towards closing a half-open breaker.
  void on_frame_ok(std::int64_t now_ns);

  // False while the breaker is open (frames get dead-lettered) or the node
  // has failed. Moves open -> half_open once open_ms has passed, when the
  // trial restart is due. While backing off or before a trial, frames are
  // accepted: the supervisor holds them (bounded by credits) for the
  // replacement.
  bool accepts_frames(std::int64_t now_ns);

  // The breaker's trial restart is due and has not started.
  bool trial_due(std::int64_t now_ns) const;

  SupervisedState state() const { return state_; }
  // Restarts decided so far, trial restarts included.
  std::uint32_t restarts() const { return restarts_; }
  const std::string& last_error() const { return last_error_; }

 private:
  RestartDecision restart_after(std::int64_t now_ns, std::int64_t delay_ns, std::string reason);
  RestartDecision open_circuit(std::int64_t now_ns, std::string reason);
  RestartDecision escalate(std::string reason);
  // Escalates (returning true) when one more restart now would exceed the limit.
  bool exceeds_intensity(std::int64_t now_ns, RestartDecision& escalation);
  RestartDecision on_breaker_failure(std::int64_t now_ns);
  std::int64_t next_backoff_ns();  // the delay for step n (with jitter), then n + 1

  RestartConfig config_;
  IntensityConfig intensity_;
  std::mt19937_64 rng_;
  SupervisedState state_ = SupervisedState::running;
  std::uint32_t restarts_ = 0;
  std::string last_error_;
  std::string escalation_reason_;

  // Escalates (returning true) when a restart starting at `start_ns` would
  // come too late in a series of failures without progress.
  bool gives_up(std::int64_t now_ns, std::int64_t start_ns, RestartDecision& escalation);

  std::deque<std::int64_t> restart_times_;  // decided restarts within the intensity period
  std::uint64_t last_progress_ = 0;
  std::optional<std::int64_t> series_start_ns_;  // first failure with no progress since
  std::uint32_t backoff_exponent_ = 0;           // n of exponential backoff
  bool restarted_once_ = false;
  std::int64_t last_restart_ns_ = 0;  // when the last replacement started running

  std::deque<std::int64_t> failure_times_;  // breaker: failures within window_ms, while closed
  std::int64_t open_until_ns_ = 0;
  bool trial_running_ = false;
  std::uint32_t trial_successes_ = 0;
};

}  // namespace streamlab
