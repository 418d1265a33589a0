#pragma once
// Log-linear latency histogram (HdrHistogram-like): fixed buckets, so
// recording is a few integer operations with no allocation and no lock.
// Resolution is relative (about 3%) from 1 ns up to 2^42 ns (~73 min), which gives
// sub-microsecond resolution for sub-millisecond latencies.
// Single writer; copy it to read it from elsewhere.

#include <array>
#include <cstdint>

namespace streamlab {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 5;  // 32 sub-buckets per power of two
  static constexpr int kMagnitudes = 38;    // 0..31 exact, then 37 powers of two up to 2^42 ns;
                                            // larger values saturate into the last bucket
  static constexpr int kBucketCount = kMagnitudes << kSubBucketBits;

  void record(std::int64_t ns);
  void merge(const LatencyHistogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::int64_t max_ns() const { return max_; }
  std::int64_t min_ns() const { return count_ ? min_ : 0; }
  // Value at or below which `percent` (0..100) of the recorded values lie;
  // reported as the upper edge of its bucket, capped by the exact maximum.
  // 0 when empty.
  std::int64_t percentile_ns(double percent) const;

  // Serialization (CAF's inspect, in the actors layer) sees every field;
  // a histogram crosses processes with a failed node's handover.
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, LatencyHistogram& x) {
    return f(x.buckets_, x.count_, x.max_, x.min_);
  }

 private:
  static int bucket_of(std::int64_t ns);
  static std::int64_t upper_edge(int bucket);

  std::array<std::uint64_t, kBucketCount> buckets_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
  std::int64_t min_ = 0;
};

}  // namespace streamlab
