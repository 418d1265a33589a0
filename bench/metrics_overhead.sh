#!/usr/bin/env bash
# What per-frame metrics cost: the foundation case (sine -> gain -> null
# sink, bench/pipelines/sine_gain_null.json) run by `streamlab_timing`
# (metrics on, as the product has them) and by `streamlab_nometrics` (the
# node actor's per-frame timing compiled out: STREAMLAB_NO_FRAME_TIMING),
# two twins built the same way from the same sources (bench/CMakeLists.txt:
# against `streamlab` itself, layout alone made ~3%), alternating in one
# run, A B B A A B ... so neither side always runs first. Prints median, min and max of each side and the
# loss of the medians in % against the target (under 2%).
#
#   bench/metrics_overhead.sh [--quick] [--repeats N] [--frames N] [--threads N] [--no-build]
#
#   --quick      50000 frames and 2 repeats (smoke: the figures are noisy)
#   --repeats N  runs per side (default 7, --quick 2)
#   --frames N   frames per run (default 1000000, ~3 s on 2 cores)
#   --threads N  scheduler threads of both (default: streamlab's, one per
#                core); 1 takes the scheduling between cores out of the figures
#   --no-build   skip the build (both binaries must exist)
#   STREAMLAB_BUILD_DIR  build directory (default build, as scripts/build.sh);
#                any other directory is configured here as Release
#
# "Off" means what the node actor times per frame: the two steady-clock
# reads around every generate/process (busy time, processing latency), the
# wall-clock read per received frame (end-to-end latency), the backpressure
# clock reads. Counters stay in both, and so does the source's own timestamp
# of each frame (it is part of the frame). Rates are M samples/s from
# whole-process wall time, start-up included, as in bench/run_suite.sh.
#
# The last line is the one bench/run_suite.sh (case m) reads:
#   metrics overhead: on MEDIAN off MEDIAN loss PERCENT % cpu_loss PERCENT %
# A benchmark, not a test: the exit status is non-zero only when something
# fails to build or run, or the "off" build still times frames.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
quick=0
repeats=""
frames=""
build=1
threads=()
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --repeats)
      repeats="${2:?--repeats needs a number}"
      shift
      ;;
    --frames)
      frames="${2:?--frames needs a number}"
      shift
      ;;
    --threads)
      threads=(--threads "${2:?--threads needs a number}")
      shift
      ;;
    --no-build) build=0 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "metrics_overhead: unknown argument $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done
repeats=${repeats:-$((quick ? 2 : 7))}
frames=${frames:-$((quick ? 50000 : 1000000))}
for n in "$repeats" "$frames"; do
  if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
    echo "metrics_overhead: --repeats and --frames must be positive numbers" >&2
    exit 2
  fi
done

build_dir="${STREAMLAB_BUILD_DIR:-build}"
[[ "$build_dir" = /* ]] || build_dir="$repo/$build_dir"
on_exe="$build_dir/bench/streamlab_timing"
off_exe="$build_dir/bench/streamlab_nometrics"
pipeline="$repo/bench/pipelines/sine_gain_null.json"

if ((build)); then
  targets=(streamlab_timing streamlab_nometrics)
  if [[ "$build_dir" == "$repo/build" ]]; then
    BUILD_TYPE=Release "$repo/scripts/build.sh" --target "${targets[@]}" >/dev/null
  else
    generator=()
    if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
      generator=(-G Ninja)
    fi
    cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}" >/dev/null
  fi
fi
for exe in "$on_exe" "$off_exe"; do
  if [[ ! -x "$exe" ]]; then
    echo "metrics_overhead: $exe is missing (build first, or drop --no-build)" >&2
    exit 1
  fi
done
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
if [[ "$build_type" != "Release" ]]; then
  echo "metrics_overhead: warning: $build_dir is a '${build_type:-unknown}' build, not Release" >&2
fi

# The largest processing-latency p99 (us) over the nodes in the
# --metrics-json of a short run of binary $1: above 0 when it timed frames.
latency_p99() {
  local json status=0 p99
  json=$(mktemp)
  "$1" --log-level warn run "$pipeline" --frames 2000 --quiet --metrics-json "$json" >/dev/null 2>&1 ||
    status=$?
  p99=$(tr -d ' \n' <"$json" | grep -o '"latency_us":{[^}]*}' |
    sed -n 's/.*"p99":\([0-9.eE+-]*\).*/\1/p' | sort -g | tail -n 1)
  rm -f "$json"
  if ((status != 0)) || [[ -z "$p99" ]]; then
    echo "metrics_overhead: $1 failed (exit $status) or wrote no processing latency" >&2
    return 1
  fi
  echo "$p99"
}
# The comparison means something only if the "off" build really does not time.
on_p99=$(latency_p99 "$on_exe")
off_p99=$(latency_p99 "$off_exe")
if awk -v a="$on_p99" -v b="$off_p99" 'BEGIN { exit !(a <= 0 || b > 0) }'; then
  echo "metrics_overhead: expected latency samples from $on_exe only (largest p99 us: on $on_p99, off $off_p99)" >&2
  exit 1
fi

# Runs one side once; prints "WALL CPU": M samples/s of wall time and of
# the process's CPU time (user + sys: the cost per sample, which other load
# on the machine disturbs less than wall time).
run_once() { # exe
  local status=0 log times
  log=$(mktemp)
  times=$({
    TIMEFORMAT='%R %U %S'
    time "$1" --log-level warn run "$pipeline" --frames "$frames" --quiet "${threads[@]}" >"$log" 2>&1
  } 2>&1) || status=$?
  if ((status != 0)); then
    {
      echo "metrics_overhead: failed (exit $status): $1 run $pipeline --frames $frames"
      tail -n 20 "$log"
    } >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  awk -v n="$((frames * 1024))" '{ printf "%.1f %.1f\n", n / $1 / 1e6, n / ($2 + $3) / 1e6 }' <<<"$times"
}

# "median min max" of the numbers on stdin.
summary() { sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'; }

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "metrics overhead: sine -> gain -> null sink, $frames frames per run, $repeats alternating runs per side${threads[1]:+, ${threads[1]} scheduler threads}"
echo "machine: ${cpu_model:-unknown CPU}, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "on:  $on_exe (${build_type:-unknown} build, $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo 'no git')$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo ', with local changes'))"
echo "off: $off_exe (STREAMLAB_NO_FRAME_TIMING)"
declare -A wall=() cpu=() wall_median=() cpu_median=()
# Each repeat also gives one loss of its own (its two runs are neighbours in
# time): their median follows a machine whose load changes during the run.
pair_wall=""
pair_cpu=""
loss() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / b * 100 }'; }
for ((rep = 1; rep <= repeats; rep++)); do
  if ((rep % 2)); then order=(on off); else order=(off on); fi
  line="run $rep:"
  for side in "${order[@]}"; do
    exe=$on_exe
    [[ $side == on ]] || exe=$off_exe
    read -r w c < <(run_once "$exe" || echo fail)
    [[ $w != fail ]] || exit 1
    wall[$side]+="$w "
    cpu[$side]+="$c "
    if [[ $side == on ]]; then on_w=$w on_c=$c; else off_w=$w off_c=$c; fi
    line+="  $side $w ($c per CPU s)"
  done
  echo "$line"
  pair_wall+="$(loss "$on_w" "$off_w") "
  pair_cpu+="$(loss "$on_c" "$off_c") "
done
printf '%-30s %10s %10s %10s   %10s %10s %10s\n' "M samples/s" "median" min max "CPU median" min max
for side in on off; do
  read -r wm wmin wmax < <(tr ' ' '\n' <<<"${wall[$side]}" | grep . | summary)
  read -r cm cmin cmax < <(tr ' ' '\n' <<<"${cpu[$side]}" | grep . | summary)
  label="metrics $side"
  [[ $side == off ]] || label+=" (as shipped)"
  printf '%-30s %10s %10s %10s   %10s %10s %10s\n' "$label" "$wm" "$wmin" "$wmax" "$cm" "$cmin" "$cmax"
  wall_median[$side]=$wm
  cpu_median[$side]=$cm
done
wall_loss=$(loss "${wall_median[on]}" "${wall_median[off]}")
cpu_loss=$(loss "${cpu_median[on]}" "${cpu_median[off]}")
verdict=$(awk -v l="$wall_loss" 'BEGIN { print (l < 2) ? "met" : "missed" }')
echo "loss of the medians: $wall_loss% of wall-time throughput (target under 2%: $verdict), $cpu_loss% per CPU second"
echo "median of the per-repeat losses: $(tr ' ' '\n' <<<"$pair_wall" | grep . | summary | cut -d' ' -f1)% wall, $(tr ' ' '\n' <<<"$pair_cpu" | grep . | summary | cut -d' ' -f1)% per CPU second"
load=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${load%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
  echo "load average now $load, above $(nproc): other work shares the cores, trust the CPU figures more"
else
  echo "load average now $load"
fi
echo "metrics overhead: on ${wall_median[on]} off ${wall_median[off]} loss $wall_loss % cpu_loss $cpu_loss %"
