// Micro benchmarks of the per-frame costs the design budgets for: a pool
// round trip, fan-out of one frame to several consumers (reference counts
// only), and encode/decode of a frame crossing a process boundary.
//
//   streamlab_micro_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "messages/buffer_pool.hpp"
#include "messages/frame.hpp"
#include "messages/frame_codec.hpp"

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

// Latency histogram benchmarks (runtime/) go here once it has landed, e.g.
// BM_HistogramRecord; this file must not depend on it before then.

}  // namespace

BENCHMARK_MAIN();
