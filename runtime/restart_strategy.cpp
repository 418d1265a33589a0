#include "runtime/restart_strategy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

namespace streamlab {

namespace {

std::string format_ms(std::int64_t ns) {
  std::ostringstream os;
  os << static_cast<double>(ns) / static_cast<double>(kNsPerMs) << " ms";
  return os.str();
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Uniform in [0, 1) from the top 53 bits: the same on every standard
// library, unlike std::uniform_real_distribution, so a seed reproduces a
// schedule anywhere.
double unit_interval(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

std::string to_string(SupervisedState state) {
  switch (state) {
    case SupervisedState::running:
      return "running";
    case SupervisedState::backing_off:
      return "backing_off";
    case SupervisedState::open:
      return "open";
    case SupervisedState::half_open:
      return "half_open";
    case SupervisedState::failed:
      return "failed";
  }
  return "?";
}

std::string to_string(RestartDecision::Kind kind) {
  switch (kind) {
    case RestartDecision::Kind::restart:
      return "restart";
    case RestartDecision::Kind::open:
      return "open";
    case RestartDecision::Kind::escalate:
      return "escalate";
  }
  return "?";
}

std::uint64_t progress_of(const NodeMetrics& metrics) {
  const std::uint64_t failed = metrics.skipped + metrics.dead_lettered + metrics.dropped_total();
  const std::uint64_t consumed_fine = metrics.frames_in > failed ? metrics.frames_in - failed : 0;
  return metrics.frames_out + consumed_fine;
}

RestartStrategy::RestartStrategy(const RestartConfig& restart, const IntensityConfig& intensity,
                                 std::uint64_t seed)
    : config_(restart), intensity_(intensity), rng_(seed) {}

RestartDecision RestartStrategy::on_failure(std::int64_t now_ns, const std::string& error,
                                            std::optional<std::uint64_t> progress) {
  last_error_ = error;
  if (state_ == SupervisedState::failed)
    return RestartDecision{RestartDecision::Kind::escalate, 0, escalation_reason_};
  if (state_ == SupervisedState::open && now_ns < open_until_ns_)
    return RestartDecision{
        RestartDecision::Kind::open, open_until_ns_ - now_ns,
        "circuit already open; trial restart in " + format_ms(open_until_ns_ - now_ns)};
  if (progress) {
    // Something got through since the last failure: a new series starts here.
    if (*progress != last_progress_ || !series_start_ns_) series_start_ns_ = now_ns;
    last_progress_ = *progress;
  }

  switch (config_.strategy) {
    case RestartKind::never:
      return escalate("restart strategy \"never\": the node stays down");
    case RestartKind::immediate:
      return restart_after(now_ns, 0, "immediate restart");
    case RestartKind::exponential: {
      if (restarted_once_ && now_ns - last_restart_ns_ >= config_.reset_after_ms * kNsPerMs)
        backoff_exponent_ = 0;  // quiet long enough: this failure is a fresh one
      const std::uint32_t step = backoff_exponent_;
      const std::int64_t delay_ns = next_backoff_ns();
      return restart_after(now_ns, delay_ns, "exponential backoff, step " + std::to_string(step));
    }
    case RestartKind::circuit_breaker:
      return on_breaker_failure(now_ns);
  }
  return escalate("unknown restart strategy");
}

void RestartStrategy::on_restarted(std::int64_t now_ns) {
  switch (state_) {
    case SupervisedState::running:
    case SupervisedState::failed:
      return;
    case SupervisedState::backing_off:
      state_ = SupervisedState::running;
      break;
    case SupervisedState::open:
    case SupervisedState::half_open:
      state_ = SupervisedState::half_open;
      trial_running_ = true;
      trial_successes_ = 0;
      break;
  }
  restarted_once_ = true;
  last_restart_ns_ = now_ns;
}

void RestartStrategy::on_frame_ok(std::int64_t /*now_ns: closing depends on a count, not time*/) {
  if (state_ != SupervisedState::half_open || !trial_running_) return;
  if (++trial_successes_ < config_.half_open_trials) return;
  state_ = SupervisedState::running;
  trial_running_ = false;
}

bool RestartStrategy::accepts_frames(std::int64_t now_ns) {
  if (state_ == SupervisedState::open && now_ns >= open_until_ns_) {
    state_ = SupervisedState::half_open;
    trial_running_ = false;
  }
  return state_ != SupervisedState::open && state_ != SupervisedState::failed;
}

bool RestartStrategy::trial_due(std::int64_t now_ns) const {
  return (state_ == SupervisedState::open && now_ns >= open_until_ns_) ||
         (state_ == SupervisedState::half_open && !trial_running_);
}

RestartDecision RestartStrategy::restart_after(std::int64_t now_ns, std::int64_t delay_ns,
                                               std::string reason) {
  RestartDecision escalation;
  if (exceeds_intensity(now_ns, escalation)) return escalation;
  if (gives_up(now_ns, now_ns + delay_ns, escalation)) return escalation;
  restart_times_.push_back(now_ns);
  ++restarts_;
  state_ = SupervisedState::backing_off;
  return RestartDecision{
      RestartDecision::Kind::restart, delay_ns,
      std::move(reason) + ": restart " + std::to_string(restarts_) + " in " + format_ms(delay_ns)};
}

RestartDecision RestartStrategy::open_circuit(std::int64_t now_ns, std::string reason) {
  RestartDecision escalation;
  const std::int64_t open_ns = config_.open_ms * kNsPerMs;
  if (exceeds_intensity(now_ns, escalation)) return escalation;
  if (gives_up(now_ns, now_ns + open_ns, escalation)) return escalation;
  restart_times_.push_back(now_ns);
  ++restarts_;
  state_ = SupervisedState::open;
  open_until_ns_ = now_ns + open_ns;
  trial_running_ = false;
  failure_times_.clear();  // so the circuit closes with a clean window
  return RestartDecision{RestartDecision::Kind::open, open_ns,
                         std::move(reason) + "; trial restart in " + format_ms(open_ns)};
}

RestartDecision RestartStrategy::escalate(std::string reason) {
  state_ = SupervisedState::failed;
  trial_running_ = false;
  escalation_reason_ = std::move(reason);
  return RestartDecision{RestartDecision::Kind::escalate, 0, escalation_reason_};
}

bool RestartStrategy::exceeds_intensity(std::int64_t now_ns, RestartDecision& escalation) {
  const std::int64_t within_ns = intensity_.within_ms * kNsPerMs;
  while (!restart_times_.empty() && restart_times_.front() <= now_ns - within_ns)
    restart_times_.pop_front();
  const std::size_t count = restart_times_.size() + 1;
  if (count <= intensity_.max_restarts) return false;
  escalation =
      escalate(plural(count, "restart") + " within " + std::to_string(intensity_.within_ms) +
               " ms exceeds the limit of " + std::to_string(intensity_.max_restarts));
  return true;
}

bool RestartStrategy::gives_up(std::int64_t now_ns, std::int64_t start_ns,
                               RestartDecision& escalation) {
  if (intensity_.give_up_after_ms <= 0 || !series_start_ns_) return false;
  if (start_ns - *series_start_ns_ <= intensity_.give_up_after_ms * kNsPerMs) return false;
  escalation =
      escalate("failing on every attempt for " + format_ms(now_ns - *series_start_ns_) +
               " with no frame getting through; a restart now would pass give_up_after_ms (" +
               std::to_string(intensity_.give_up_after_ms) + " ms): restarting does not cure it");
  return true;
}

RestartDecision RestartStrategy::on_breaker_failure(std::int64_t now_ns) {
  // Here "open" means open_ms has passed: the trial was due, so the failure
  // is the trial's (its restart may have failed before on_restarted).
  if (state_ == SupervisedState::half_open || state_ == SupervisedState::open)
    return open_circuit(now_ns, "trial failed, circuit re-opened");
  const std::int64_t window_ns = config_.window_ms * kNsPerMs;
  while (!failure_times_.empty() && failure_times_.front() <= now_ns - window_ns)
    failure_times_.pop_front();
  failure_times_.push_back(now_ns);
  if (failure_times_.size() >= config_.failures)
    return open_circuit(now_ns, plural(failure_times_.size(), "failure") + " within " +
                                    std::to_string(config_.window_ms) + " ms opened the circuit");
  return restart_after(now_ns, 0, "circuit closed, immediate restart");
}

std::int64_t RestartStrategy::next_backoff_ns() {
  const double max_ms = static_cast<double>(config_.max_ms);
  const double nominal_ms =
      std::min(max_ms, static_cast<double>(config_.base_ms) *
                           std::pow(config_.multiplier, static_cast<double>(backoff_exponent_)));
  // Stops growing once saturated (or when a zero base cannot grow), so the
  // power never overflows into inf, nor 0 * inf into NaN.
  if (nominal_ms > 0 && nominal_ms < max_ms &&
      backoff_exponent_ < std::numeric_limits<std::uint32_t>::max())
    ++backoff_exponent_;
  // Clamped at 0 for a jitter above 1, which validation rejects but a
  // hand-built RestartConfig could carry.
  const double factor =
      std::max(0.0, 1.0 - config_.jitter + 2.0 * config_.jitter * unit_interval(rng_));
  return std::llround(nominal_ms * factor * static_cast<double>(kNsPerMs));
}

}  // namespace streamlab
