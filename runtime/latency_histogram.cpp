#include "runtime/latency_histogram.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace streamlab {

namespace {

constexpr std::int64_t kSubBuckets = std::int64_t{1} << LatencyHistogram::kSubBucketBits;

int floor_log2(std::uint64_t v) { return 63 - __builtin_clzll(v); }

}  // namespace

// Magnitude 0 holds 0..31 exactly. Magnitude m >= 1 covers [2^(m+4), 2^(m+5))
// in 32 equal steps of 2^(m-1): a step is at most 1/32 of any value in it.
int LatencyHistogram::bucket_of(std::int64_t ns) {
  if (ns < kSubBuckets) return static_cast<int>(std::max<std::int64_t>(ns, 0));
  const int magnitude = floor_log2(static_cast<std::uint64_t>(ns)) - (kSubBucketBits - 1);
  if (magnitude >= kMagnitudes) return kBucketCount - 1;
  const int shift = magnitude - 1;
  const int sub = static_cast<int>((ns >> shift) - kSubBuckets);
  return (magnitude << kSubBucketBits) + sub;
}

// The largest value that maps to `bucket`.
std::int64_t LatencyHistogram::upper_edge(int bucket) {
  const int magnitude = bucket >> kSubBucketBits;
  if (magnitude == 0) return bucket;
  const int shift = magnitude - 1;
  const std::int64_t sub = bucket & (kSubBuckets - 1);
  return ((kSubBuckets + sub + 1) << shift) - 1;
}

namespace {
// Both are >= 0. A clock jump can hand in a huge value: the sum saturates
// instead of wrapping (signed overflow is undefined).
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  return b > kMax - a ? kMax : a + b;
}
}  // namespace

void LatencyHistogram::record(std::int64_t ns) {
  ns = std::max<std::int64_t>(ns, 0);
  ++buckets_[bucket_of(ns)];
  min_ = count_ == 0 ? ns : std::min(min_, ns);
  max_ = std::max(max_, ns);
  ++count_;
  sum_ = saturating_add(sum_, ns);
  // Linear from the smallest bound: the usual value (a few us) stops within
  // two comparisons.
  std::size_t i = 0;
  while (i < kExportBoundsNs.size() && ns > kExportBoundsNs[i]) ++i;
  ++export_[i];
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ = saturating_add(sum_, other.sum_);
  for (std::size_t i = 0; i < kExportBuckets; ++i) export_[i] += other.export_[i];
}

void LatencyHistogram::reset() { *this = LatencyHistogram(); }

std::int64_t LatencyHistogram::percentile_ns(double percent) const {
  if (count_ == 0) return 0;
  if (!(percent > 0)) return min_;  // also catches NaN
  if (percent >= 100) return max_;
  // The epsilon keeps p99 of 100000 values at rank 99000, not 99001, when
  // p/100*count lands a rounding error above an integer.
  const double exact_rank = percent / 100.0 * static_cast<double>(count_);
  const auto rank = std::clamp<std::uint64_t>(
      static_cast<std::uint64_t>(std::ceil(exact_rank - 1e-9)), 1, count_);
  std::uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen < rank) continue;
    // Saturated values have no upper edge of their own; the maximum is exact.
    return i == kBucketCount - 1 ? max_ : std::min(upper_edge(i), max_);
  }
  return max_;
}

}  // namespace streamlab
