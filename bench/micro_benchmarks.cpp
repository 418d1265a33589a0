// Micro benchmarks of the per-frame costs the design budgets for: a pool
// round trip, fan-out of one frame to several consumers (reference counts
// only), encode/decode of a frame crossing a process boundary, and the two
// runtime steps every node actor takes per frame: recording its processing
// latency and aligning its inputs.
//
//   streamlab_micro_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "messages/buffer_pool.hpp"
#include "messages/frame.hpp"
#include "messages/frame_codec.hpp"
#include "runtime/input_aligner.hpp"
#include "runtime/latency_histogram.hpp"

namespace {

using namespace streamlab;

Frame make_frame(BufferPool& pool, std::uint32_t channels, std::uint32_t frames) {
  Frame f;
  f.seq = 1;
  f.timestamp_ns = 1'700'000'000'000'000'000;
  f.sample_rate = 48000;
  f.channels = channels;
  f.frames = frames;
  WritableBuffer buf = pool.acquire(f.sample_count());
  for (std::size_t i = 0; i < f.sample_count(); ++i) buf.data()[i] = static_cast<float>(i) * 1e-3f;
  f.samples = std::move(buf).freeze();
  return f;
}

void BM_PoolAcquireRelease(benchmark::State& state) {
  BufferPool pool;
  for (auto _ : state) {
    WritableBuffer w = pool.acquire(1024);
    benchmark::DoNotOptimize(w.data());
    BufferRef r = std::move(w).freeze();
    benchmark::DoNotOptimize(r.data());
  }
  state.counters["misses"] = static_cast<double>(pool.stats().misses);
}
BENCHMARK(BM_PoolAcquireRelease);

void BM_FrameFanOut4(benchmark::State& state) {
  BufferPool pool;
  Frame frame = make_frame(pool, 2, 512);
  std::array<Frame, 4> slots;
  for (auto _ : state) {
    for (Frame& slot : slots) slot = frame;
    benchmark::DoNotOptimize(slots.data());
    benchmark::ClobberMemory();
    for (Frame& slot : slots) slot = Frame{};
  }
}
BENCHMARK(BM_FrameFanOut4);

void BM_EncodeFrame1024(benchmark::State& state) {
  BufferPool pool;
  Frame frame = make_frame(pool, 1, 1024);
  std::vector<std::uint8_t> out;
  for (auto _ : state) {
    encode_frame(frame, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1024 * 4);
}
BENCHMARK(BM_EncodeFrame1024);

void BM_DecodeFrame1024(benchmark::State& state) {
  BufferPool pool;
  const std::vector<std::uint8_t> bytes = encode_frame(make_frame(pool, 1, 1024));
  for (auto _ : state) {
    Frame f = decode_frame(bytes.data(), bytes.size(), pool);
    benchmark::DoNotOptimize(f.samples.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 1024 * 4);
}
BENCHMARK(BM_DecodeFrame1024);

// Latencies spread log-uniformly over 50 ns .. 50 ms, so records land in
// many buckets as real processing times do (a constant value would keep one
// counter hot in cache and flatter the figure).
std::vector<std::int64_t> latency_samples(std::size_t n) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exponent(std::log(50.0), std::log(50e6));
  std::vector<std::int64_t> v(n);
  for (auto& x : v) x = static_cast<std::int64_t>(std::exp(exponent(rng)));
  return v;
}

void BM_HistogramRecord(benchmark::State& state) {
  const std::vector<std::int64_t> values = latency_samples(4096);
  LatencyHistogram histogram;
  std::size_t i = 0;
  for (auto _ : state) {
    histogram.record(values[i]);
    i = (i + 1) & (values.size() - 1);
  }
  benchmark::DoNotOptimize(histogram.count());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramP99(benchmark::State& state) {
  LatencyHistogram histogram;
  for (std::int64_t v : latency_samples(100'000)) histogram.record(v);
  for (auto _ : state) benchmark::DoNotOptimize(histogram.percentile_ns(99.0));
}
BENCHMARK(BM_HistogramP99);

// One aligned set per iteration, as a node actor does per frame: a frame
// arrives on every port (a reference-count increment each), next() offers
// the set, pop() releases it. The queues hold half their capacity
// throughout, as under backpressure. Argument: input ports.
void BM_InputAlignerPushNextPop(benchmark::State& state) {
  const auto ports = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t kCapacity = 32;
  BufferPool pool;
  Frame frame = make_frame(pool, 1, 1024);
  InputAligner aligner(std::vector<std::size_t>(ports, kCapacity));
  std::vector<const Frame*> slots;
  std::uint64_t seq = 0;
  for (; seq < kCapacity / 2; ++seq) {
    frame.seq = seq;
    for (std::size_t p = 0; p < ports; ++p) aligner.push(p, frame);
  }
  for (auto _ : state) {
    frame.seq = seq++;
    for (std::size_t p = 0; p < ports; ++p) aligner.push(p, frame);
    if (!aligner.next(slots)) state.SkipWithError("no aligned set");
    benchmark::DoNotOptimize(slots.data());
    for (std::size_t p = 0; p < ports; ++p)
      if (slots[p]) aligner.pop(p);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_InputAlignerPushNextPop)->Arg(1)->Arg(2)->Arg(4);

// next() and pop() alone, on a queue filled outside the timed region.
void BM_InputAlignerNextPop(benchmark::State& state) {
  constexpr std::size_t kCapacity = 1024;
  BufferPool pool;
  Frame frame = make_frame(pool, 1, 1024);
  InputAligner aligner(std::vector<std::size_t>{kCapacity});
  std::vector<const Frame*> slots;
  std::uint64_t seq = 0;
  for (auto _ : state) {
    if (aligner.queued(0) == 0) {
      state.PauseTiming();
      for (std::size_t i = 0; i < kCapacity; ++i) {
        frame.seq = seq++;
        aligner.push(0, frame);
      }
      state.ResumeTiming();
    }
    aligner.next(slots);
    benchmark::DoNotOptimize(slots.data());
    aligner.pop(0);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_InputAlignerNextPop);

}  // namespace

BENCHMARK_MAIN();
