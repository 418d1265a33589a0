// Benchmark case 7: heap allocations per frame in steady state, peak RSS,
// and whether RSS stays flat over a long run. Prints figures; it is not a
// test and exits non-zero only when a pipeline cannot be run.
//
//   streamlab_alloc_bench [--quick] [--pipeline FILE] [--frames1 N] [--frames2 N]
//                         [--repeats R] [--rss-seconds S]
//
// Allocations: malloc, calloc, realloc and the aligned variants are replaced
// in this executable (glibc's documented way to replace malloc; operator new
// in libstdc++ calls malloc, so C++ allocations by CAF, spdlog and StreamLab
// are all seen; only glibc's calls to itself, as in fopen, are not).
// Counting is on only while run_pipeline runs. Start-up and shutdown
// allocate the same whatever the length, so two runs of N1 and N2 frames
// give the steady-state figure as
//   (allocations(N2) - allocations(N1)) / (N2 - N1)   per frame.
// The most frequent request sizes in that difference are printed too: they
// tell which object is allocated per frame (find its call stack with
// heaptrack, see README "Performance").
//
// RSS: VmRSS sampled every 100 ms (from /proc/self/statm, without
// allocating) during a run limited by time instead of frames.

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/pipeline_runner.hpp"
#include "nodes/registry.hpp"
#include "runtime/pipeline_spec.hpp"

// ---------------------------------------------------------------------------
// Counting allocator. glibc exports its own implementation under __libc_*.

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t n, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* p);
}

namespace {

constexpr std::size_t kExactSizes = 4096;  // requests of this size or more share one slot

struct AllocCounters {
  std::atomic<bool> on{false};
  std::atomic<std::uint64_t> allocs{0};
  std::atomic<std::uint64_t> frees{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> by_size[kExactSizes + 1];
};

// Zero-initialised static storage, usable before any constructor has run
// (the loader and libstdc++ allocate before main).
AllocCounters g_counters;

inline void count_alloc(std::size_t size) {
  if (!g_counters.on.load(std::memory_order_relaxed)) return;
  g_counters.allocs.fetch_add(1, std::memory_order_relaxed);
  g_counters.bytes.fetch_add(size, std::memory_order_relaxed);
  g_counters.by_size[std::min(size, kExactSizes)].fetch_add(1, std::memory_order_relaxed);
}

inline void count_free(void* p) {
  if (p && g_counters.on.load(std::memory_order_relaxed))
    g_counters.frees.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

extern "C" {

void* malloc(std::size_t size) {
  count_alloc(size);
  return __libc_malloc(size);
}

void* calloc(std::size_t n, std::size_t size) {
  count_alloc(n * size);
  return __libc_calloc(n, size);
}

void* realloc(void* p, std::size_t size) {
  count_alloc(size);
  return __libc_realloc(p, size);
}

void free(void* p) {
  count_free(p);
  __libc_free(p);
}

void* memalign(std::size_t alignment, std::size_t size) {
  count_alloc(size);
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(std::size_t alignment, std::size_t size) {
  count_alloc(size);
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  count_alloc(size);
  void* p = __libc_memalign(alignment, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

}  // extern "C"

// ---------------------------------------------------------------------------

namespace {

using namespace streamlab;
using steady = std::chrono::steady_clock;

struct Options {
  std::string pipeline = STREAMLAB_BENCH_PIPELINES "/sine_gain_null.json";
  std::uint64_t frames1 = 20'000;
  std::uint64_t frames2 = 220'000;
  int repeats = 3;
  double rss_seconds = 60;
};

struct Counted {
  std::uint64_t allocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t bytes = 0;
  std::vector<std::uint64_t> by_size;
  double seconds = 0;
  std::uint64_t pool_misses = 0;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "streamlab_alloc_bench: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: streamlab_alloc_bench [--quick] [--pipeline FILE] [--frames1 N] "
               "[--frames2 N] [--repeats R] [--rss-seconds S]\n");
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--quick") {
        o.frames1 = 2'000;
        o.frames2 = 22'000;
        o.repeats = 2;
        o.rss_seconds = 20;
      } else if (arg == "--pipeline") {
        o.pipeline = value();
      } else if (arg == "--frames1") {
        o.frames1 = std::stoull(value());
      } else if (arg == "--frames2") {
        o.frames2 = std::stoull(value());
      } else if (arg == "--repeats") {
        o.repeats = std::stoi(value());
      } else if (arg == "--rss-seconds") {
        o.rss_seconds = std::stod(value());
      } else {
        usage_error("unknown argument " + arg);
      }
    } catch (const std::logic_error&) {
      usage_error("bad value for " + arg);
    }
  }
  if (o.frames1 == 0 || o.frames2 <= o.frames1) usage_error("need 0 < --frames1 < --frames2");
  if (o.repeats < 1) usage_error("--repeats must be at least 1");
  return o;
}

// Fails the whole benchmark: a pipeline that does not run is a real failure.
void check(const RunResult& r, const std::string& what) {
  if (!r.started || !r.succeeded() || r.forced) {
    std::fprintf(stderr, "streamlab_alloc_bench: %s: %s %s\n", what.c_str(),
                 r.error.empty() ? r.state.c_str() : r.error.c_str(), r.state_reason.c_str());
    std::exit(1);
  }
}

Counted counted_run(const PipelineSpec& spec, std::uint64_t frames) {
  RunOptions options;
  options.max_frames = frames;
  Counted c;
  for (auto& n : g_counters.by_size) n.store(0);
  g_counters.allocs = 0;
  g_counters.frees = 0;
  g_counters.bytes = 0;
  const auto t0 = steady::now();
  g_counters.on = true;
  RunResult r = run_pipeline(spec, NodeRegistry::builtin(), options);
  g_counters.on = false;
  c.seconds = std::chrono::duration<double>(steady::now() - t0).count();
  check(r, "run of " + std::to_string(frames) + " frames");
  c.allocs = g_counters.allocs;
  c.frees = g_counters.frees;
  c.bytes = g_counters.bytes;
  c.by_size.resize(kExactSizes + 1);
  for (std::size_t i = 0; i <= kExactSizes; ++i) c.by_size[i] = g_counters.by_size[i];
  c.pool_misses = r.pool.misses;
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}

// Resident set size in KiB, read without allocating (the second field of
// /proc/self/statm, in pages).
long current_rss_kib() {
  int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[128];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char* rest = nullptr;
  std::strtol(buf, &rest, 10);  // total program size
  long resident = std::strtol(rest, nullptr, 10);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

void allocations(const PipelineSpec& spec, const Options& o) {
  std::printf("allocations: %s, runs of %llu and %llu frames, %d repeats (after one warm-up run)\n",
              o.pipeline.c_str(), static_cast<unsigned long long>(o.frames1),
              static_cast<unsigned long long>(o.frames2), o.repeats);
  counted_run(spec, o.frames1);  // warm-up: pool, CAF caches, lazily built tables
  const double extra_frames = static_cast<double>(o.frames2 - o.frames1);
  std::vector<double> per_frame, bytes_per_frame, net_per_frame;
  std::vector<double> size_diff(kExactSizes + 1, 0.0);
  for (int rep = 0; rep < o.repeats; ++rep) {
    Counted a = counted_run(spec, o.frames1);
    Counted b = counted_run(spec, o.frames2);
    const double d_allocs = static_cast<double>(b.allocs) - static_cast<double>(a.allocs);
    const double d_bytes = static_cast<double>(b.bytes) - static_cast<double>(a.bytes);
    const double d_net = (static_cast<double>(b.allocs) - static_cast<double>(b.frees)) -
                         (static_cast<double>(a.allocs) - static_cast<double>(a.frees));
    per_frame.push_back(d_allocs / extra_frames);
    bytes_per_frame.push_back(d_bytes / extra_frames);
    net_per_frame.push_back(d_net / extra_frames);
    for (std::size_t i = 0; i <= kExactSizes; ++i)
      size_diff[i] += (static_cast<double>(b.by_size[i]) - static_cast<double>(a.by_size[i])) /
                      extra_frames / o.repeats;
    std::printf(
        "  repeat %d: N1 %llu allocs (%.2f s, %llu pool misses), N2 %llu allocs (%.2f s, %llu "
        "pool misses) -> %.3f allocs/frame, %.1f bytes/frame\n",
        rep + 1, static_cast<unsigned long long>(a.allocs), a.seconds,
        static_cast<unsigned long long>(a.pool_misses), static_cast<unsigned long long>(b.allocs),
        b.seconds, static_cast<unsigned long long>(b.pool_misses), per_frame.back(),
        bytes_per_frame.back());
  }
  std::printf(
      "steady-state heap allocations per frame: %.3f (median; %.1f bytes/frame; "
      "allocated minus freed: %.4f/frame)\n",
      median(per_frame), median(bytes_per_frame), median(net_per_frame));

  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i <= kExactSizes; ++i)
    if (size_diff[i] >= 0.01) sizes.push_back(i);
  std::sort(sizes.begin(), sizes.end(),
            [&](std::size_t x, std::size_t y) { return size_diff[x] > size_diff[y]; });
  if (sizes.size() > 8) sizes.resize(8);
  if (!sizes.empty()) {
    std::printf("  most frequent request sizes per frame:");
    for (std::size_t s : sizes)
      std::printf(" %s%zu B x %.2f;", s == kExactSizes ? ">=" : "", s, size_diff[s]);
    std::printf("\n");
  }
  std::printf("peak RSS after the allocation runs: %.1f MiB\n", peak_rss_kib() / 1024.0);
}

void rss_flatness(const PipelineSpec& spec, const Options& o) {
  std::printf("RSS flatness: %s for %.0f s, VmRSS sampled every 100 ms\n", o.pipeline.c_str(),
              o.rss_seconds);
  std::vector<long> samples;
  samples.reserve(static_cast<std::size_t>(o.rss_seconds * 10) + 100);
  std::atomic<bool> running{true};
  std::thread sampler([&] {
    while (running.load()) {
      samples.push_back(current_rss_kib());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  RunOptions options;
  options.duration_s = o.rss_seconds;
  RunResult r = run_pipeline(spec, NodeRegistry::builtin(), options);
  running = false;
  sampler.join();
  check(r, "RSS run");
  std::uint64_t frames = 0;
  for (const auto& n : r.nodes) frames = std::max(frames, n.frames_out);
  // The first samples show the actor system starting: "first" is taken
  // one second in, once the pipeline is running.
  const std::size_t skip = std::min<std::size_t>(10, samples.size() ? samples.size() - 1 : 0);
  if (samples.empty()) return;
  const long first = samples[skip];
  const long last = samples.back();
  const long max =
      *std::max_element(samples.begin() + static_cast<std::ptrdiff_t>(skip), samples.end());
  std::printf("  %zu samples, %llu frames at the source (%.1f k frames/s)\n", samples.size(),
              static_cast<unsigned long long>(frames),
              static_cast<double>(frames) / r.elapsed_s / 1e3);
  std::printf("  VmRSS at 1 s %.1f MiB, last %.1f MiB, max %.1f MiB (last - first %+.1f MiB)\n",
              first / 1024.0, last / 1024.0, max / 1024.0, (last - first) / 1024.0);
  std::printf("  every ~10%%:");
  for (int i = 0; i <= 10; ++i) {
    std::size_t at = skip + (samples.size() - 1 - skip) * static_cast<std::size_t>(i) / 10;
    std::printf(" %.1f", samples[at] / 1024.0);
  }
  std::printf(" MiB\n");
  // ru_maxrss lags the sampled VmRSS by a few pages (the kernel syncs its
  // per-thread RSS counters lazily): the larger of the two is the peak.
  std::printf("peak RSS of the process: %.1f MiB\n", std::max(peak_rss_kib(), max) / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  ParseResult parsed = load_pipeline_file(o.pipeline, NodeRegistry::builtin().schemas());
  if (!parsed.spec) {
    std::fprintf(stderr, "streamlab_alloc_bench: cannot use %s\n", o.pipeline.c_str());
    for (const auto& p : parsed.problems)
      std::fprintf(stderr, "streamlab_alloc_bench: %s\n", p.to_string().c_str());
    return 1;
  }
  allocations(*parsed.spec, o);
  if (o.rss_seconds > 0) rss_flatness(*parsed.spec, o);
  return 0;
}
