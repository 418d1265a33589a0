#!/usr/bin/env bash
# StreamLab against GStreamer, side by side, on the same work: the one
# command of the benchmark suite. It installs what is missing (GStreamer
# included), builds Release, then runs every case for StreamLab and for its
# GStreamer equivalent back to back, alternating (A B A B ...) so both see
# the same machine state, and prints per case the median, min and max of
# each side and the ratio of the medians, then a summary with the targets.
#
#   bench/run_suite.sh [--quick] [--repeats N] [--cases 1,2,3,4,5,6,7] [--no-build]
#
#   --quick      small sizes and 2 repeats (CI smoke: the figures are noisy)
#   --repeats N  alternating runs per side (default 5, --quick 2)
#   --cases L    comma-separated subset of the cases below
#   --no-build   skip scripts/setup.sh and the build (binaries must exist)
#   STREAMLAB_BUILD_DIR  build directory (default build, as scripts/build.sh);
#                any other directory is configured here as Release
#
# Whole-process wall time (date +%s%N) for both sides, start-up included.
# Rates are M samples/s (1024-sample float32 mono frames at 48 kHz; fan-out
# counted at the source). Each side gets its own frame count, sized so one
# run takes ~1-3 s in full mode (GStreamer is 5-20x slower on some cases;
# the same count would make its runs minutes long); start-up is ~25-50 ms
# for either, so it weighs a few percent at most.
#
# Cases (the GStreamer side is the equivalent gst-launch-1.0 pipeline):
#   1  sine -> gain -> null sink          | audiotestsrc ! volume ! fakesink (one thread)
#   2  framework cost only: source -> null | audiotestsrc wave=silence ! fakesink
#      StreamLab: the `constant` source (silence), a fill per frame
#   3  four gains in series, each a node  | a queue before each gain and the sink
#                                          (6 streaming threads), and the
#                                          one-thread chain; both printed
#   4  fan-out 1 -> 4 null sinks          | tee to 4 queued fakesinks
#   5  live-paced latency, 5 nodes: real-time sine -> 3 gains -> null sink,
#      10 s (--quick 2 s) at 48 kHz, 1024-sample frames | audiotestsrc
#      is-live=true ! queue ! volume ! queue ! volume ! queue ! volume !
#      queue ! fakesink. Not a rate: end-to-end latency p50/p99 in us.
#      StreamLab: the sink's end_to_end from `run --metrics-json` (frame due
#      -> arrival at the sink, so it includes how late the source's actor
#      wakes, on a timer set for the frame's due time); GStreamer: the
#      latency tracer's src -> sink times (GST_TRACERS=latency, from the
#      push at the source pad, so without the source's clock wait).
#      Ratio = streamlab p50 / gstreamer p50: lower is better.
#   7  steady-state heap allocations per frame, peak RSS, RSS flatness over
#      20 s (--quick) or 60 s: build/bench/streamlab_alloc_bench (in-process,
#      no GStreamer side); then allocations per frame of case 5's live chain
#      (500 frames, --quick 350: ~10-13 s; 1 allocation in 300 frames reads 0.003)
#   m  what per-frame metrics cost: case 1 by build/bench/streamlab_timing
#      and by build/bench/streamlab_nometrics (twins built the same way,
#      without per-frame timing), alternating; bench/metrics_overhead.sh.
#      Not in the default list (it builds two more executables): --cases m
#   6  one edge between two processes on loopback (two `streamlab node`
#      members, sine on one, null sink on the other, 1024-sample frames):
#      MB/s of sample data from deploy to finished | audiotestsrc !
#      tcpclientsink into tcpserversrc ! fakesink; bench/cross_process.sh
#      (200000 frames, --quick 30000). Then the round trip of live frames
#      a -> b -> a, p50/p99 us | the same through a relaying gst-launch;
#      bench/cross_process_latency.sh (300 frames, --quick 150)
#
# Benchmarks print figures; nothing here is a test. The exit status is
# non-zero only when something fails to build or run, or a figure is
# missing (CI runs --quick as a smoke test of the suite itself).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
quick=0
repeats=""
cases="1,2,3,4,5,6,7"
build=1
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --repeats)
      repeats="${2:?--repeats needs a number}"
      shift
      ;;
    --cases)
      cases="${2:?--cases needs a list}"
      shift
      ;;
    --no-build) build=0 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "run_suite: unknown argument $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done
if [[ -z "$repeats" ]]; then repeats=$((quick ? 2 : 5)); fi
if ! [[ "$repeats" =~ ^[1-9][0-9]*$ ]]; then
  echo "run_suite: --repeats must be a positive number" >&2
  exit 2
fi

build_dir="${STREAMLAB_BUILD_DIR:-build}"
[[ "$build_dir" = /* ]] || build_dir="$repo/$build_dir"
streamlab="$build_dir/streamlab"
alloc_bench="$build_dir/bench/streamlab_alloc_bench"

if ((build)); then
  "$repo/scripts/setup.sh" --bench
  targets=(streamlab streamlab_alloc_bench)
  if [[ ",$cases," == *,m,* ]]; then targets+=(streamlab_timing streamlab_nometrics); fi
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
for exe in "$streamlab" "$alloc_bench"; do
  if [[ ! -x "$exe" ]]; then
    echo "run_suite: $exe is missing (build first, or drop --no-build)" >&2
    exit 1
  fi
done
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
if [[ "$build_type" != "Release" ]]; then
  echo "run_suite: warning: $build_dir is a '${build_type:-unknown}' build, not Release" >&2
fi

# ----------------------------------------------------------------------------
# The case table. One row per side of a case, in the order they alternate:
#   case | label | frames (full) | frames (--quick) | what to run
# A streamlab row names a file in bench/pipelines/; a gstreamer row is a
# gst-launch-1.0 description where @SINE@ / @SILENCE@ stand for the source
# and @N@ for the frame count. The ratio to the first GStreamer row of a
# case is the one the target applies to.
sine='audiotestsrc wave=sine freq=440 samplesperbuffer=1024 num-buffers=@N@ ! audio/x-raw,format=F32LE,rate=48000,channels=1'
silence='audiotestsrc wave=silence samplesperbuffer=1024 num-buffers=@N@ ! audio/x-raw,format=F32LE,rate=48000,channels=1'
sink='fakesink sync=false'
queued_sink="t. ! queue ! $sink"
table="
1|streamlab|1000000|50000|sine_gain_null.json
1|gstreamer, one thread|250000|12000|@SINE@ ! volume volume=2.0 ! $sink
2|streamlab (constant source)|3000000|150000|silence_null.json
2|gstreamer, silence|3000000|150000|@SILENCE@ ! $sink
3|streamlab|500000|25000|sine_gain4_null.json
3|gstreamer, queued|120000|6000|@SINE@ ! queue ! volume volume=2.0 ! queue ! volume volume=0.5 ! queue ! volume volume=2.0 ! queue ! volume volume=0.5 ! queue ! $sink
3|gstreamer, one thread|200000|10000|@SINE@ ! volume volume=2.0 ! volume volume=0.5 ! volume volume=2.0 ! volume volume=0.5 ! $sink
4|streamlab|1000000|50000|sine_fanout4_null.json
4|gstreamer, tee + 4 queues|50000|2500|@SINE@ ! tee name=t $queued_sink $queued_sink $queued_sink $queued_sink
"
declare -A title short target note
title[1]="sine -> gain -> null sink"
title[2]="source -> null sink (framework cost)"
title[3]="sine -> 4 gains in series -> null sink"
title[4]="sine -> fan-out to 4 null sinks (rate at the source)"
title[7]="heap allocations per frame and RSS (sine -> gain -> null, in-process)"
short[1]="sine -> gain -> null"
short[2]="source -> null (framework)"
short[3]="sine -> 4 gains -> null"
short[4]="sine -> 4 null sinks (fan-out)"
target[1]=5
target[2]=1
target[3]=2
target[4]=5
note[2]="both sides fill each buffer with silence: StreamLab's constant source, GStreamer's audiotestsrc wave=silence."
note[3]="queued: a queue before each gain and before the sink (6 streaming threads, as in anchors.md); StreamLab: 6 actors."
note[4]="GStreamer: tee, then a queue before each of the 4 fakesinks; StreamLab: one shared buffer per frame, 4 null_sink actors."
# ----------------------------------------------------------------------------

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
machine_line() { echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

# Runs one side once; prints its rate in M samples/s. A run that fails is
# a real failure: its output is shown and the suite stops.
run_once() { # frames kind what
  local frames=$1 kind=$2 what=$3 start end log status=0
  local -a cmd
  if [[ "$kind" == streamlab* ]]; then
    cmd=("$streamlab" --log-level warn run "$repo/bench/pipelines/$what" --frames "$frames" --quiet)
  else
    what=${what//@SINE@/$sine}
    what=${what//@SILENCE@/$silence}
    what=${what//@N@/$frames}
    read -r -a words <<<"$what"
    cmd=(gst-launch-1.0 -q "${words[@]}")
  fi
  log=$(mktemp)
  start=$(date +%s%N)
  "${cmd[@]}" >"$log" 2>&1 || status=$?
  end=$(date +%s%N)
  if ((status != 0)); then
    {
      echo "run_suite: failed (exit $status): ${cmd[*]}"
      tail -n 20 "$log"
    } >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  awk -v s="$start" -v e="$end" -v n="$((frames * 1024))" 'BEGIN { printf "%.1f\n", n / ((e - s) / 1e9) / 1e6 }'
}

# "median min max" of the numbers on stdin.
summary() { sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

summary_rows=()
add_summary() { summary_rows+=("$(printf '%-4s %-32s %11s %10s  %-26s %7s  %s' "$@")"); }

run_case() { # case id
  local id=$1 labels=() frames=() whats=() c label full small what i r
  while IFS='|' read -r c label full small what; do
    [[ "$c" == "$id" ]] || continue
    labels+=("$label")
    frames+=("$((quick ? small : full))")
    whats+=("$what")
  done <<<"$table"
  local sides=${#labels[@]}
  echo
  echo "== case $id: ${title[$id]}"
  if [[ -n "${note[$id]:-}" ]]; then echo "   ${note[$id]}"; fi
  echo "   $(machine_line)"
  for ((i = 0; i < sides; i++)); do echo "   ${labels[i]}: ${frames[i]} frames per run"; done
  local -a results
  for ((i = 0; i < sides; i++)); do results[i]=""; done
  local rep line
  for ((rep = 1; rep <= repeats; rep++)); do
    line="   run $rep:"
    for ((i = 0; i < sides; i++)); do
      r=$(run_once "${frames[i]}" "${labels[i]}" "${whats[i]}") || exit 1
      results[i]+="$r "
      line+="  ${labels[i]} $r"
    done
    echo "$line"
  done
  printf '   %-30s %10s %10s %10s %10s\n' "M samples/s" median min max ratio
  local ours med mn mx
  read -r ours mn mx < <(tr ' ' '\n' <<<"${results[0]}" | grep . | summary)
  printf '   %-30s %10s %10s %10s\n' "${labels[0]}" "$ours" "$mn" "$mx"
  for ((i = 1; i < sides; i++)); do
    read -r med mn mx < <(tr ' ' '\n' <<<"${results[i]}" | grep . | summary)
    local x
    x=$(ratio "$ours" "$med")
    printf '   %-30s %10s %10s %10s %9sx\n' "${labels[i]}" "$med" "$mn" "$mx" "$x"
    local goal="" verdict=""
    if ((i == 1)) && [[ -n "${target[$id]:-}" ]]; then
      goal=">= ${target[$id]}x:"
      verdict=$(awk -v x="$x" -v t="${target[$id]}" 'BEGIN { print (x >= t) ? "met" : "missed" }')
    fi
    if ((i == 1)); then
      add_summary "$id" "${short[$id]}" "$ours" "$med" "${labels[i]}" "${x}x" "$goal $verdict"
    else
      add_summary "" "" "" "$med" "${labels[i]}" "${x}x" ""
    fi
  done
}

# Case 5: live-paced latency. Each run lasts the same wall time on both
# sides; the figures are latency percentiles (us) over every frame of a run.
live_seconds() { echo $((quick ? 2 : 10)); }
live_gst='audiotestsrc is-live=true wave=sine freq=440 samplesperbuffer=1024 num-buffers=@N@ ! audio/x-raw,format=F32LE,rate=48000,channels=1 ! queue ! volume volume=2.0 ! queue ! volume volume=0.5 ! queue ! volume volume=2.0 ! queue ! fakesink'

# "p50 p99" in us of the numbers (ns) on stdin, nearest rank.
percentiles_us() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) exit 1; i = int(NR * 0.5 + 0.999999); j = int(NR * 0.99 + 0.999999); printf "%.0f %.0f\n", v[i] / 1e3, v[j] / 1e3 }'; }

# "p50 p99" of node $2's end-to-end latency in the --metrics-json file $1.
node_end_to_end() {
  awk -v want="$2" '
    /"nodes": \[/ { on = 1; depth = 0; next }
    on {
      opens = gsub(/\{/, "&"); closes = gsub(/\}/, "&")
      if ($0 ~ /"node": "/) { s = $0; sub(/.*"node": "/, "", s); sub(/".*/, "", s); name = s }
      if ($0 ~ /"end_to_end_latency_us"/) e2e = 1
      if (e2e && $0 ~ /"p50":/) { s = $0; sub(/.*"p50": */, "", s); sub(/,.*/, "", s); p50 = s }
      if (e2e && $0 ~ /"p99":/) { s = $0; sub(/.*"p99": */, "", s); sub(/,.*/, "", s); p99 = s }
      depth += opens - closes
      if (closes && depth == 1) e2e = 0
      if (closes && depth == 0) {
        if (name == want) { printf "%.0f %.0f\n", p50, p99; found = 1; exit }
        name = ""; p50 = ""; p99 = ""
      }
    }
    END { if (!found) exit 1 }' "$1"
}

run_live_once() { # kind -> "p50 p99", and for streamlab "p50 p99 source-p50"
  local kind=$1 secs log status=0 out
  secs=$(live_seconds)
  log=$(mktemp)
  if [[ "$kind" == streamlab ]]; then
    out=$(mktemp)
    "$streamlab" --log-level warn run "$repo/bench/pipelines/live_sine_gain3_null.json" \
      --duration "$secs" --quiet --metrics-json "$out" >"$log" 2>&1 || status=$?
    local sink tone
    if ((status == 0)) && sink=$(node_end_to_end "$out" sink) && tone=$(node_end_to_end "$out" tone); then
      echo "$sink ${tone% *}"
    else
      status=1
    fi
    rm -f "$out"
  else
    local what words
    what=${live_gst//@N@/$((secs * 48000 / 1024))}
    read -r -a words <<<"$what"
    GST_TRACERS=latency GST_DEBUG=GST_TRACER:7 GST_DEBUG_NO_COLOR=1 \
      gst-launch-1.0 -q "${words[@]}" >"$log" 2>&1 || status=$?
    if ((status == 0)) &&
      ! sed -n '/latency, src-element-id=.*src-element=(string)audiotestsrc.*sink-element=(string)fakesink/s/.*[ ,]time=(guint64)\([0-9]*\).*/\1/p' "$log" | percentiles_us; then
      status=1
    fi
  fi
  if ((status != 0)); then
    {
      echo "run_suite: case 5 ($kind) failed (exit $status)"
      tail -n 20 "$log"
    } >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

run_live_case() {
  local labels=("streamlab" "gstreamer, 4 queues") kinds=(streamlab gstreamer) i rep line r
  local -a p50s p99s
  echo
  echo "== case 5: live-paced latency, 5 nodes: real-time sine -> 3 gains -> null sink"
  echo "   48 kHz, 1024-sample frames (21.3 ms apart), $(live_seconds) s per run; end-to-end latency in us, ratio = streamlab p50 / gstreamer p50 (lower is better)"
  echo "   streamlab: sink end_to_end from --metrics-json (frame due -> sink, the source's wake-up lateness included);"
  echo "   gstreamer: latency tracer, from the source's push (after its clock wait) to the sink, so without it;"
  echo "   like for like, streamlab from its source's departure: sink p50 - source p50 (the source's own end_to_end)"
  echo "   $(machine_line)"
  local departed="" p50 p99 src
  for ((i = 0; i < 2; i++)); do p50s[i]=""; p99s[i]=""; done
  for ((rep = 1; rep <= repeats; rep++)); do
    line="   run $rep:"
    for ((i = 0; i < 2; i++)); do
      r=$(run_live_once "${kinds[i]}") || exit 1
      read -r p50 p99 src <<<"$r"
      p50s[i]+="$p50 "
      p99s[i]+="$p99 "
      line+="  ${labels[i]} p50 $p50 p99 $p99"
      if [[ -n "$src" ]]; then
        departed+="$((p50 - src)) "
        line+=" (source $src)"
      fi
    done
    echo "$line"
  done
  printf '   %-30s %10s %10s %10s %10s %10s\n' "end-to-end us" "p50 median" "p50 min" "p50 max" "p99 median" ratio
  local ours ours99 med med99 mn mx x
  read -r ours mn mx < <(tr ' ' '\n' <<<"${p50s[0]}" | grep . | summary)
  read -r ours99 _ _ < <(tr ' ' '\n' <<<"${p99s[0]}" | grep . | summary)
  printf '   %-30s %10s %10s %10s %10s\n' "${labels[0]}" "$ours" "$mn" "$mx" "$ours99"
  read -r med mn mx < <(tr ' ' '\n' <<<"${p50s[1]}" | grep . | summary)
  read -r med99 _ _ < <(tr ' ' '\n' <<<"${p99s[1]}" | grep . | summary)
  x=$(ratio "$ours" "$med")
  printf '   %-30s %10s %10s %10s %10s %9sx\n' "${labels[1]}" "$med" "$mn" "$mx" "$med99" "$x"
  local dep
  read -r dep mn mx < <(tr ' ' '\n' <<<"$departed" | grep . | summary)
  printf '   %-30s %10s %10s %10s %10s %9sx\n' "streamlab from departure" "$dep" "$mn" "$mx" "" "$(ratio "$dep" "$med")"
  add_summary 5 "live 5-node chain, p50 us, due" "$ours" "$med" "${labels[1]}" "${x}x" "(lower is better)"
  add_summary "" "  p50 us, from departure" "$dep" "$med" "${labels[1]}" "$(ratio "$dep" "$med")x" \
    "<= 0.5x: $(awk -v r="$(ratio "$dep" "$med")" 'BEGIN { print (r <= 0.5 ? "met" : "missed") }')"
  add_summary "" "  p99 us, due" "$ours99" "$med99" "${labels[1]}" "$(ratio "$ours99" "$med99")x" \
    "< 1000 us: $(awk -v v="$ours99" 'BEGIN { print (v < 1000 ? "met" : "missed") }')"
}

# Runs bench/$1 with the build and the remaining arguments into file $log,
# shown indented; a failure ends the suite.
run_bench_script() {
  local script=$1
  shift
  log=$(mktemp)
  if ! STREAMLAB_BUILD_DIR="$build_dir" "$repo/bench/$script" "$@" >"$log" 2>&1; then
    sed 's/^/   /' "$log"
    rm -f "$log"
    echo "run_suite: bench/$script failed" >&2
    exit 1
  fi
  sed 's/^/   /' "$log"
}

# The ratio of two figures, or ? when one is missing.
ratio_or_unknown() { if [[ -n "$1" && -n "$2" ]]; then ratio "$1" "$2"; else echo '?'; fi; }

run_cross_case() {
  local log ours theirs p50 p99 g50 g99 d50
  echo
  echo "== case 6: one cross-process edge over loopback, MB/s of samples (bench/cross_process.sh)"
  run_bench_script cross_process.sh "$repeats" "$((quick ? 30000 : 200000))"
  ours=$(sed -n 's/^streamlab *median *\([0-9.]*\) MB\/s.*/\1/p' "$log")
  theirs=$(sed -n 's/^gstreamer *median *\([0-9.]*\) MB\/s.*/\1/p' "$log")
  rm -f "$log"
  add_summary 6 "cross-process edge, MB/s" "${ours:-?}" "${theirs:-?}" "tcpclientsink->tcpserversrc" \
    "$(ratio_or_unknown "$ours" "$theirs")x" ">= 1x (266 MB/s)"

  echo
  echo "== case 6: round trip of live frames a -> b -> a (bench/cross_process_latency.sh)"
  run_bench_script cross_process_latency.sh "$repeats" "$((quick ? 150 : 300))"
  read -r p50 p99 < <(sed -n 's/^streamlab  *median p50 *\([0-9]*\)  *p99 *\([0-9]*\).*/\1 \2/p' "$log")
  read -r g50 g99 < <(sed -n 's/^gstreamer  *median p50 *\([0-9]*\)  *p99 *\([0-9]*\).*/\1 \2/p' "$log")
  d50=$(sed -n 's/^streamlab from its source.s departure.*: p50 \([0-9]*\) us.*/\1/p' "$log")
  rm -f "$log"
  local side="tcp, relayed by a 2nd gst"
  add_summary "" "  round trip p50 us, due" "${p50:-?}" "${g50:-?}" "$side" "$(ratio_or_unknown "$p50" "$g50")x" \
    "(lower is better)"
  add_summary "" "  round trip p50 us, departure" "${d50:-?}" "${g50:-?}" "$side" "$(ratio_or_unknown "$d50" "$g50")x" ""
  add_summary "" "  round trip p99 us, due" "${p99:-?}" "${g99:-?}" "$side" "$(ratio_or_unknown "$p99" "$g99")x" ""
}

# "met" for a per-frame figure that rounds to 0 allocations, else "missed".
met_if_zero() { awk -v a="${1:-1}" 'BEGIN { print (a + 0 < 0.005) ? "met" : "missed" }'; }

run_alloc_case() {
  echo
  echo "== case 7: ${title[7]}"
  echo "   $(machine_line)"
  local out log first last max
  local -a args=()
  if ((quick)); then args+=(--quick); fi
  log=$(mktemp)
  if ! "$alloc_bench" "${args[@]}" 2>&1 | tee "$log" | sed 's/^/   /'; then
    rm -f "$log"
    echo "run_suite: streamlab_alloc_bench failed" >&2
    exit 1
  fi
  out=$(cat "$log")
  rm -f "$log"
  local per_frame rss_line peak
  per_frame=$(sed -n 's/^steady-state heap allocations per frame: \(-\{0,1\}[0-9.]*\).*/\1/p' <<<"$out")
  rss_line=$(sed -n 's/^ *VmRSS at 1 s \([0-9.]*\) MiB, last \([0-9.]*\) MiB, max \([0-9.]*\) MiB.*/\1 \2 \3/p' <<<"$out")
  peak=$(sed -n 's/^peak RSS of the process: \([0-9.]*\) MiB/\1/p' <<<"$out")
  add_summary 7 "heap allocations per frame" "${per_frame:-?}" "" "" "" \
    "0: $(met_if_zero "$per_frame")"
  read -r first last max <<<"${rss_line:-? ? ?}"
  # Flat: no more than 1 MiB between the sample at 1 s and the last one.
  add_summary "" "VmRSS MiB at 1 s/last/max" "$first/$last/$max" "" "" "" \
    "flat: $(awk -v a="$first" -v b="$last" 'BEGIN { d = b - a; printf "%s (%+.1f MiB)", (d <= 1 && a != "?") ? "met" : "missed", d }')"
  add_summary "" "peak RSS MiB" "${peak:-?}" "" "" "" ""

  # The live chain of case 5 too: its source is woken by a timer per frame.
  local live_frames=$((quick ? 350 : 500))
  echo
  echo "   live: case 5's chain, its source woken by a timer per frame (48 kHz, $live_frames frames)"
  log=$(mktemp)
  if ! "$alloc_bench" --pipeline "$repo/bench/pipelines/live_sine_gain3_null.json" --frames1 50 \
    --frames2 "$live_frames" --repeats 1 --rss-seconds 0 2>&1 | tee "$log" | sed 's/^/   /'; then
    rm -f "$log"
    echo "run_suite: streamlab_alloc_bench failed on the live chain" >&2
    exit 1
  fi
  per_frame=$(sed -n 's/^steady-state heap allocations per frame: \(-\{0,1\}[0-9.]*\).*/\1/p' "$log")
  rm -f "$log"
  add_summary "" "  live chain (case 5), per frame" "${per_frame:-?}" "" "" "" \
    "0: $(met_if_zero "$per_frame")"
}

# Case m: bench/metrics_overhead.sh on the same build, its output indented.
run_metrics_case() {
  echo
  echo "== case m: per-frame metrics on vs off (sine -> gain -> null sink)"
  local log on off loss cpu_loss
  local -a args=(--no-build --repeats "$repeats")
  if ((quick)); then args+=(--quick); fi
  log=$(mktemp)
  if ! STREAMLAB_BUILD_DIR="$build_dir" "$repo/bench/metrics_overhead.sh" "${args[@]}" 2>&1 |
    tee "$log" | sed 's/^/   /'; then
    rm -f "$log"
    echo "run_suite: bench/metrics_overhead.sh failed" >&2
    exit 1
  fi
  read -r on off loss cpu_loss < <(sed -n 's/^metrics overhead: on \([0-9.]*\) off \([0-9.]*\) loss \([-0-9.]*\) % cpu_loss \([-0-9.]*\) %$/\1 \2 \3 \4/p' "$log")
  rm -f "$log"
  add_summary m "metrics on (vs off: 2nd column)" "${on:-?}" "${off:-?}" "streamlab, metrics off" \
    "$([[ -n "$on" ]] && ratio "$on" "$off" || echo '?')x" \
    "loss < 2%: $(awk -v l="${loss:-99}" 'BEGIN { print (l < 2) ? "met" : "missed" }') (${loss:-?}%, ${cpu_loss:-?}% per CPU s)"
}

echo "StreamLab vs GStreamer benchmark suite ($([[ $quick == 1 ]] && echo quick || echo full) mode, $repeats alternating runs per side)"
machine_line
echo "streamlab: $streamlab (${build_type:-unknown} build, $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo 'no git')$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo ', with local changes'))"
echo "gstreamer: $(gst-launch-1.0 --version | sed -n 's/.*version //p' | head -n1)"
load_start=$(cut -d' ' -f1 /proc/loadavg)

IFS=',' read -r -a wanted <<<"$cases"
for id in "${wanted[@]}"; do
  case "$id" in
    1 | 2 | 3 | 4) run_case "$id" ;;
    5) run_live_case ;;
    7) run_alloc_case ;;
    m) run_metrics_case ;;
    6) run_cross_case ;;
    *)
      echo "run_suite: unknown case $id" >&2
      exit 2
      ;;
  esac
done

echo
echo "== summary: medians of $repeats alternating runs, M samples/s (ratio = streamlab / gstreamer)"
echo "   load average at start $load_start; $(machine_line)"
printf '%-4s %-32s %11s %10s  %-26s %7s  %s\n' case work streamlab gstreamer "(gstreamer side)" ratio target
for row in "${summary_rows[@]}"; do echo "$row"; done
# A figure that could not be read means the suite itself is broken.
if printf '%s\n' "${summary_rows[@]}" | grep -q '?'; then
  echo "run_suite: figures are missing (? in the summary above)" >&2
  exit 1
fi
