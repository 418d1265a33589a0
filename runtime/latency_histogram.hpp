#pragma once
// Log-linear latency histogram (HdrHistogram-like): fixed buckets, so
// recording is a few integer operations with no allocation and no lock.
// Resolution is relative (about 3%) from 1 ns up to 2^42 ns (~73 min), which gives
// sub-microsecond resolution for sub-millisecond latencies.
// Single writer; copy it to read it from elsewhere.

#include <array>
#include <cstddef>
#include <cstdint>

namespace streamlab {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 5;  // 32 sub-buckets per power of two
  static constexpr int kMagnitudes = 38;    // 0..31 exact, then 37 powers of two up to 2^42 ns;
                                            // larger values saturate into the last bucket
  static constexpr int kBucketCount = kMagnitudes << kSubBucketBits;

  // Upper bounds (ns) of the buckets /metrics exposes as a Prometheus
  // histogram, from 1 us (a cheap DSP step) to 10 s (a stalled stream), 1-2.5-5
  // per decade. Counted exactly beside the log-linear buckets, whose edges
  // fall on no decimal bound; fixed, so every member's series add up.
  static constexpr std::array<std::int64_t, 22> kExportBoundsNs = {
      1'000,         2'500,         5'000,         10'000,        25'000,      50'000,
      100'000,       250'000,       500'000,       1'000'000,     2'500'000,   5'000'000,
      10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000, 500'000'000,
      1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
  // The last one counts what lies above every bound (Prometheus' +Inf).
  static constexpr std::size_t kExportBuckets = kExportBoundsNs.size() + 1;

  void record(std::int64_t ns);
  void merge(const LatencyHistogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::int64_t max_ns() const { return max_; }
  std::int64_t min_ns() const { return count_ ? min_ : 0; }
  std::int64_t sum_ns() const { return sum_; }
  // Values in export bucket `i`: above bound i-1, at most bound i (not cumulative).
  std::uint64_t export_count(std::size_t i) const { return export_[i]; }
  // Value at or below which `percent` (0..100) of the recorded values lie;
  // reported as the upper edge of its bucket, capped by the exact maximum.
  // 0 when empty.
  std::int64_t percentile_ns(double percent) const;

  // Serialization (CAF's inspect, in the actors layer) sees every field;
  // a histogram crosses processes with a failed node's handover.
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, LatencyHistogram& x) {
    return f(x.buckets_, x.count_, x.max_, x.min_, x.sum_, x.export_);
  }

 private:
  static int bucket_of(std::int64_t ns);
  static std::int64_t upper_edge(int bucket);

  std::array<std::uint64_t, kBucketCount> buckets_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
  std::int64_t min_ = 0;
  std::int64_t sum_ = 0;  // overflows after ~292 years of recorded time
  std::array<std::uint64_t, kExportBuckets> export_{};
};

}  // namespace streamlab
