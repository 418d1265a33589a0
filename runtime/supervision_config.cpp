#include "runtime/supervision_config.hpp"

#include "runtime/json_text.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>
#include <vector>

namespace streamlab {

namespace {

constexpr double kDayMs = 8.64e7;

const std::vector<std::string> kSupervisionKeys = {"restart", "intensity", "on_error", "retry",
                                                   "default_frame"};
const std::vector<std::string> kRestartKeys = {
    "strategy",       "base_ms",  "max_ms",    "multiplier", "jitter",
    "reset_after_ms", "failures", "window_ms", "open_ms",    "half_open_trials"};
const std::vector<std::string> kIntensityKeys = {"max_restarts", "within_ms", "give_up_after_ms"};
const std::vector<std::string> kRetryKeys = {"attempts", "backoff_ms"};
const std::vector<std::string> kDefaultFrameKeys = {"value"};

const std::vector<RestartKind> kRestartKinds = {RestartKind::never, RestartKind::immediate,
                                                RestartKind::exponential,
                                                RestartKind::circuit_breaker};
const std::vector<ErrorPolicy> kErrorPolicies = {ErrorPolicy::propagate, ErrorPolicy::skip,
                                                 ErrorPolicy::default_frame, ErrorPolicy::retry};

// Allowed values of one numeric field. Every bound is finite except where
// `finite_only` says any finite number will do.
struct Bounds {
  bool integer;
  double min;
  bool min_exclusive;
  double max;
  bool finite_only;
};

constexpr Bounds integer_in(double min, double max) { return Bounds{true, min, false, max, false}; }
constexpr Bounds positive_integer_up_to(double max) { return Bounds{true, 0, true, max, false}; }
constexpr Bounds number_in(double min, double max) { return Bounds{false, min, false, max, false}; }
constexpr Bounds any_finite_number() { return Bounds{false, 0, false, 0, true}; }

std::string format_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string describe(const Bounds& b) {
  if (b.finite_only) return "a finite number";
  return std::string(b.integer ? "an integer" : "a number") + " in " +
         (b.min_exclusive ? "(" : "[") + format_number(b.min) + ", " + format_number(b.max) + "]";
}

bool satisfies(const json& value, const Bounds& b) {
  if (!value.is_number()) return false;
  double v = value.get<double>();
  if (!std::isfinite(v)) return false;
  if (b.finite_only) return true;
  if (b.integer && std::floor(v) != v) return false;
  return (b.min_exclusive ? v > b.min : v >= b.min) && v <= b.max;
}

template <typename Enum>
std::string one_of(const std::vector<Enum>& values) {
  std::string out;
  for (auto v : values) out += (out.empty() ? "" : ", ") + in_quotes(to_string(v));
  return out;
}

template <typename Enum>
std::optional<Enum> from_name(const std::vector<Enum>& values, const std::string& name) {
  for (auto v : values)
    if (to_string(v) == name) return v;
  return std::nullopt;
}

// Reads one level of "supervision" JSON, reporting below `where`.
class LevelReader {
 public:
  LevelReader(const Problem& where, Problems& problems) : where_(where), problems_(problems) {}

  void read(const json& level, SupervisionConfig& out) {
    if (!is_object(level, "", "supervision")) return;
    check_keys(level, "", kSupervisionKeys, "supervision");
    if (auto it = level.find("restart"); it != level.end()) read_restart(*it, out.restart);
    if (auto it = level.find("intensity"); it != level.end()) read_intensity(*it, out.intensity);
    if (auto it = level.find("on_error"); it != level.end()) {
      if (auto policy = choice(*it, "/on_error", "on_error", kErrorPolicies))
        out.on_error = *policy;
    }
    if (auto it = level.find("retry"); it != level.end()) read_retry(*it, out.retry);
    if (auto it = level.find("default_frame"); it != level.end())
      read_default_frame(*it, out.default_value);
  }

 private:
  void report(const std::string& suffix, std::string message) {
    Problem p = where_;
    p.path += suffix;
    p.message = std::move(message);
    problems_.push_back(std::move(p));
  }

  bool is_object(const json& value, const std::string& suffix, const std::string& name) {
    if (value.is_object()) return true;
    report(suffix, in_quotes(name) + " must be an object, got " + shown(value));
    return false;
  }

  void check_keys(const json& object, const std::string& suffix,
                  const std::vector<std::string>& allowed, const std::string& name) {
    for (const auto& item : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end()) continue;
      std::string list;
      for (const auto& key : allowed) list += (list.empty() ? "" : ", ") + key;
      report(suffix + "/" + pointer_token(item.key()), "unknown key " + in_quotes(item.key()) +
                                                           " in " + in_quotes(name) +
                                                           " (allowed: " + list + ")");
    }
  }

  template <typename Enum>
  std::optional<Enum> choice(const json& value, const std::string& suffix, const std::string& name,
                             const std::vector<Enum>& values) {
    if (value.is_string())
      if (auto found = from_name(values, value.get<std::string>())) return found;
    report(suffix, in_quotes(name) + " must be one of " + one_of(values) + ", got " + shown(value));
    return std::nullopt;
  }

  // object[key] when it is present and within `bounds`; reports it otherwise.
  std::optional<double> number(const json& object, const std::string& suffix, const char* key,
                               const Bounds& bounds) {
    auto it = object.find(key);
    if (it == object.end()) return std::nullopt;
    if (satisfies(*it, bounds)) return it->get<double>();
    report(suffix + "/" + key,
           in_quotes(key) + " must be " + describe(bounds) + ", got " + shown(*it));
    return std::nullopt;
  }

  template <typename T>
  void read_into(const json& object, const std::string& suffix, const char* key,
                 const Bounds& bounds, T& target) {
    if (auto v = number(object, suffix, key, bounds)) target = static_cast<T>(*v);
  }

  void read_restart(const json& value, RestartConfig& out) {
    const std::string suffix = "/restart";
    if (value.is_string()) {  // "restart": "immediate" is short for {"strategy": "immediate"}
      if (auto kind = from_name(kRestartKinds, value.get<std::string>()))
        out.strategy = *kind;
      else
        report(suffix, "unknown restart strategy " + shown(value) + " (one of " +
                           one_of(kRestartKinds) + ")");
      return;
    }
    if (!value.is_object()) {
      report(suffix, "\"restart\" must be an object or a strategy name (one of " +
                         one_of(kRestartKinds) + "), got " + shown(value));
      return;
    }
    check_keys(value, suffix, kRestartKeys, "restart");
    if (auto it = value.find("strategy"); it != value.end()) {
      if (auto kind = choice(*it, suffix + "/strategy", "strategy", kRestartKinds))
        out.strategy = *kind;
    }
    read_backoff_range(value, suffix, out);
    read_into(value, suffix, "multiplier", number_in(1, 100), out.multiplier);
    read_into(value, suffix, "jitter", number_in(0, 1), out.jitter);
    read_into(value, suffix, "reset_after_ms", integer_in(0, kDayMs), out.reset_after_ms);
    read_into(value, suffix, "failures", integer_in(1, 1e6), out.failures);
    read_into(value, suffix, "window_ms", positive_integer_up_to(kDayMs), out.window_ms);
    read_into(value, suffix, "open_ms", integer_in(0, kDayMs), out.open_ms);
    read_into(value, suffix, "half_open_trials", integer_in(1, 1e6), out.half_open_trials);
  }

  // base_ms and max_ms are judged together, against the inherited value of
  // whichever one this level leaves out.
  void read_backoff_range(const json& value, const std::string& suffix, RestartConfig& out) {
    const bool base_given = value.contains("base_ms");
    const bool max_given = value.contains("max_ms");
    auto base = number(value, suffix, "base_ms", integer_in(0, 3.6e6));
    auto max = number(value, suffix, "max_ms", integer_in(0, kDayMs));
    auto b = static_cast<std::int64_t>(base.value_or(static_cast<double>(out.base_ms)));
    auto m = static_cast<std::int64_t>(max.value_or(static_cast<double>(out.max_ms)));
    if (m >= b) {
      out.base_ms = b;
      out.max_ms = m;
      return;
    }
    // With one of them already rejected, the pair stays inherited (and
    // consistent) and a second report about it would only be noise.
    if ((base_given && !base) || (max_given && !max)) return;
    if (max_given)
      report(suffix + "/max_ms", "\"max_ms\" must be >= base_ms (" + std::to_string(b) +
                                     (base_given ? "" : ", inherited") + "), got " +
                                     std::to_string(m));
    else
      report(suffix + "/base_ms", "\"base_ms\" must be <= max_ms (" + std::to_string(m) +
                                      ", inherited), got " + std::to_string(b));
  }

  void read_intensity(const json& value, IntensityConfig& out) {
    const std::string suffix = "/intensity";
    if (!is_object(value, suffix, "intensity")) return;
    check_keys(value, suffix, kIntensityKeys, "intensity");
    read_into(value, suffix, "max_restarts", integer_in(0, 1e6), out.max_restarts);
    read_into(value, suffix, "within_ms", positive_integer_up_to(kDayMs), out.within_ms);
    read_into(value, suffix, "give_up_after_ms", integer_in(0, kDayMs), out.give_up_after_ms);
  }

  void read_retry(const json& value, RetryConfig& out) {
    const std::string suffix = "/retry";
    if (!is_object(value, suffix, "retry")) return;
    check_keys(value, suffix, kRetryKeys, "retry");
    read_into(value, suffix, "attempts", integer_in(0, 100), out.attempts);
    read_into(value, suffix, "backoff_ms", integer_in(0, RetryConfig::kMaxDelayMs), out.backoff_ms);
  }

  void read_default_frame(const json& value, double& out) {
    const std::string suffix = "/default_frame";
    if (!is_object(value, suffix, "default_frame")) return;
    check_keys(value, suffix, kDefaultFrameKeys, "default_frame");
    read_into(value, suffix, "value", any_finite_number(), out);
  }

  const Problem& where_;
  Problems& problems_;
};

}  // namespace

std::string to_string(RestartKind kind) {
  switch (kind) {
    case RestartKind::never:
      return "never";
    case RestartKind::immediate:
      return "immediate";
    case RestartKind::exponential:
      return "exponential";
    case RestartKind::circuit_breaker:
      return "circuit_breaker";
  }
  return "?";
}

std::string to_string(ErrorPolicy policy) {
  switch (policy) {
    case ErrorPolicy::propagate:
      return "propagate";
    case ErrorPolicy::skip:
      return "skip";
    case ErrorPolicy::default_frame:
      return "default";
    case ErrorPolicy::retry:
      return "retry";
  }
  return "?";
}

std::optional<std::int64_t> RetryConfig::next_retry_delay_ns(std::uint32_t attempts_so_far) const {
  if (attempts_so_far >= attempts) return std::nullopt;
  std::int64_t ms = backoff_ms;
  for (std::uint32_t i = 0; i < attempts_so_far && ms < kMaxDelayMs; ++i) ms *= 2;
  return std::min(ms, kMaxDelayMs) * kNsPerMs;
}

SupervisionConfig merge_supervision(const json& level, const SupervisionConfig& inherited,
                                    const Problem& where, Problems& problems) {
  SupervisionConfig out = inherited;
  if (!level.is_null()) LevelReader(where, problems).read(level, out);
  return out;
}

SupervisionConfig resolve_supervision(const json& node_level, const json& pipeline_level,
                                      const Problem& node_where, const Problem& pipeline_where,
                                      Problems& problems) {
  SupervisionConfig pipeline =
      merge_supervision(pipeline_level, SupervisionConfig{}, pipeline_where, problems);
  return merge_supervision(node_level, pipeline, node_where, problems);
}

json to_json(const SupervisionConfig& c) {
  const RestartConfig& r = c.restart;
  return json{{"restart",
               {{"strategy", to_string(r.strategy)},
                {"base_ms", r.base_ms},
                {"max_ms", r.max_ms},
                {"multiplier", r.multiplier},
                {"jitter", r.jitter},
                {"reset_after_ms", r.reset_after_ms},
                {"failures", r.failures},
                {"window_ms", r.window_ms},
                {"open_ms", r.open_ms},
                {"half_open_trials", r.half_open_trials}}},
              {"intensity",
               {{"max_restarts", c.intensity.max_restarts},
                {"within_ms", c.intensity.within_ms},
                {"give_up_after_ms", c.intensity.give_up_after_ms}}},
              {"on_error", to_string(c.on_error)},
              {"retry", {{"attempts", c.retry.attempts}, {"backoff_ms", c.retry.backoff_ms}}},
              {"default_frame", {{"value", c.default_value}}}};
}

}  // namespace streamlab
