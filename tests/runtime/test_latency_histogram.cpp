#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

#include "runtime/latency_histogram.hpp"

using namespace streamlab;

namespace {

// |actual - expected| <= fraction * expected
bool within(std::int64_t actual, double expected, double fraction) {
  return std::abs(static_cast<double>(actual) - expected) <= fraction * expected;
}

LatencyHistogram uniform(std::int64_t from, std::int64_t to) {
  LatencyHistogram h;
  for (std::int64_t v = from; v <= to; ++v) h.record(v);
  return h;
}

}  // namespace

TEST_CASE("an empty histogram reports zeros", "[histogram]") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.min_ns() == 0);
  CHECK(h.max_ns() == 0);
  CHECK(h.percentile_ns(0) == 0);
  CHECK(h.percentile_ns(50) == 0);
  CHECK(h.percentile_ns(100) == 0);
}

TEST_CASE("values below 32 ns are exact", "[histogram]") {
  auto h = uniform(0, 31);
  CHECK(h.count() == 32);
  CHECK(h.min_ns() == 0);
  CHECK(h.max_ns() == 31);
  // Rank ceil(p/100 * 32) holds value rank-1.
  CHECK(h.percentile_ns(50) == 15);
  CHECK(h.percentile_ns(25) == 7);
  CHECK(h.percentile_ns(100) == 31);
  CHECK(h.percentile_ns(0) == 0);
}

TEST_CASE("a single value is reported exactly at every percentile", "[histogram]") {
  LatencyHistogram h;
  h.record(123456);
  CHECK(h.percentile_ns(0) == 123456);
  CHECK(h.percentile_ns(50) == 123456);
  CHECK(h.percentile_ns(99.9) == 123456);
  CHECK(h.max_ns() == 123456);
}

TEST_CASE("percentiles of a uniform distribution are within bucket resolution", "[histogram]") {
  auto h = uniform(1, 100000);
  CHECK(h.count() == 100000);
  CHECK(h.min_ns() == 1);
  CHECK(h.max_ns() == 100000);
  const auto p50 = h.percentile_ns(50);
  const auto p99 = h.percentile_ns(99);
  CHECK(within(p50, 50000, 0.032));
  CHECK(within(p99, 99000, 0.032));
  // The upper edge of the bucket is reported, so never below the true value.
  CHECK(p50 >= 50000);
  CHECK(p99 >= 99000);
  CHECK(h.percentile_ns(100) == 100000);
  CHECK(h.percentile_ns(0) == 1);
}

TEST_CASE("relative resolution holds across magnitudes", "[histogram]") {
  for (std::int64_t v : {33LL, 1000LL, 999'999LL, 123'456'789LL, 4'000'000'000'000LL}) {
    LatencyHistogram h;
    h.record(v);
    h.record(v + v / 64);  // the second value decides p100, the first p50
    INFO("value " << v);
    CHECK(h.percentile_ns(50) >= v);
    CHECK(within(h.percentile_ns(50), static_cast<double>(v), 1.0 / 32));
  }
}

TEST_CASE("percentiles are capped by the exact maximum", "[histogram]") {
  LatencyHistogram h;
  for (int i = 0; i < 10; ++i) h.record(1000);
  h.record(1001);  // shares the bucket [992, 1007]
  CHECK(h.max_ns() == 1001);
  CHECK(h.percentile_ns(99) == 1001);
  CHECK(h.percentile_ns(50) == 1001);
}

TEST_CASE("negative values count as zero", "[histogram]") {
  LatencyHistogram h;
  h.record(-5);
  CHECK(h.count() == 1);
  CHECK(h.min_ns() == 0);
  CHECK(h.percentile_ns(50) == 0);
}

TEST_CASE("huge values saturate without losing count or max", "[histogram]") {
  LatencyHistogram h;
  const auto huge = std::numeric_limits<std::int64_t>::max();
  h.record(10);
  h.record(huge);
  h.record(std::int64_t{1} << 50);
  CHECK(h.count() == 3);
  CHECK(h.max_ns() == huge);
  CHECK(h.percentile_ns(100) == huge);
  CHECK(h.percentile_ns(99) == huge);
  CHECK(h.percentile_ns(30) == 10);
}

TEST_CASE("merge combines buckets, count, min and max", "[histogram]") {
  auto low = uniform(1, 50000);
  auto high = uniform(50001, 100000);
  LatencyHistogram merged;
  merged.merge(low);
  merged.merge(high);
  CHECK(merged.count() == 100000);
  CHECK(merged.min_ns() == 1);
  CHECK(merged.max_ns() == 100000);
  auto whole = uniform(1, 100000);
  for (double p : {1.0, 25.0, 50.0, 90.0, 99.0, 99.9})
    CHECK(merged.percentile_ns(p) == whole.percentile_ns(p));

  LatencyHistogram empty;
  high.merge(empty);
  CHECK(high.count() == 50000);
  CHECK(high.min_ns() == 50001);
  empty.merge(high);
  CHECK(empty.min_ns() == 50001);
}

TEST_CASE("reset empties the histogram", "[histogram]") {
  auto h = uniform(100, 200);
  h.reset();
  CHECK(h.count() == 0);
  CHECK(h.max_ns() == 0);
  CHECK(h.percentile_ns(50) == 0);
  h.record(7);
  CHECK(h.min_ns() == 7);
  CHECK(h.percentile_ns(50) == 7);
}

TEST_CASE("export buckets count each value once, at the first bound at or above it",
          "[histogram]") {
  LatencyHistogram h;
  const auto& bounds = LatencyHistogram::kExportBoundsNs;
  // On a bound: that bucket (Prometheus' le is "less or equal"); one above: the next.
  h.record(bounds[0]);
  h.record(bounds[0] + 1);
  h.record(0);
  h.record(-5);  // counts as 0
  h.record(bounds.back());
  h.record(bounds.back() + 1);                             // above every bound: +Inf
  h.record(std::numeric_limits<std::int64_t>::max() / 4);  // also +Inf
  CHECK(h.export_count(0) == 3);
  CHECK(h.export_count(1) == 1);
  CHECK(h.export_count(bounds.size() - 1) == 1);
  CHECK(h.export_count(bounds.size()) == 2);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kExportBuckets; ++i) total += h.export_count(i);
  CHECK(total == h.count());
}

TEST_CASE("export bounds rise from 1 us to 10 s", "[histogram]") {
  const auto& bounds = LatencyHistogram::kExportBoundsNs;
  CHECK(bounds.front() == 1'000);
  CHECK(bounds.back() == 10'000'000'000);
  for (std::size_t i = 1; i < bounds.size(); ++i) CHECK(bounds[i] > bounds[i - 1]);
}

TEST_CASE("the sum and export buckets merge and reset with the rest", "[histogram]") {
  LatencyHistogram a, b;
  a.record(3'000);
  a.record(7'000'000);
  b.record(3'000);
  CHECK(a.sum_ns() == 7'003'000);
  a.merge(b);
  CHECK(a.sum_ns() == 7'006'000);
  CHECK(a.export_count(2) == 2);   // 3 us: above 2.5 us, at most 5 us
  CHECK(a.export_count(12) == 1);  // 7 ms: above 5 ms, at most 10 ms
  a.reset();
  CHECK(a.sum_ns() == 0);
  CHECK(a.export_count(2) == 0);
}
