#!/usr/bin/env bash
# StreamLab against GStreamer on the same work, run back to back (A B A B ...)
# so both see the same machine state. Prints median, min and max of each and
# the ratio of the medians. Whole-process wall time for both (startup included).
#
#   bench/compare_gstreamer.sh [REPEATS] [FRAMES]
#
# Case: sine -> gain -> null sink, 1024-sample float32 mono frames at 48 kHz
# (GStreamer: audiotestsrc ! volume ! fakesink, as in the team's anchors).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
repeats="${1:-5}"
frames="${2:-300000}"
samples_per_frame=1024

"$repo/scripts/setup.sh" --bench
BUILD_TYPE=Release "$repo/scripts/build.sh" --target streamlab >/dev/null

streamlab() {
  "$repo/build/streamlab" --log-level warn run "$repo/bench/pipelines/sine_gain_null.json" \
    --frames "$frames" --quiet
}
gstreamer() {
  gst-launch-1.0 -q audiotestsrc wave=sine freq=440 samplesperbuffer=$samples_per_frame \
    num-buffers="$frames" ! audio/x-raw,format=F32LE,rate=48000,channels=1 \
    ! volume volume=2.0 ! fakesink sync=false
}

# Prints the rate in M samples/s of one run of the named function.
rate_of() {
  local start end
  start=$(date +%s%N)
  "$1" >/dev/null
  end=$(date +%s%N)
  awk -v s="$start" -v e="$end" -v n="$((frames * samples_per_frame))" \
    'BEGIN { printf "%.1f\n", n / ((e - s) / 1e9) / 1e6 }'
}

# median min max of the numbers on stdin
summary() { sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %s %s\n", m, v[1], v[NR] }'; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "work: $frames frames x $samples_per_frame samples, $repeats alternating runs each"
ours=()
theirs=()
for ((i = 1; i <= repeats; i++)); do
  ours+=("$(rate_of streamlab)")
  theirs+=("$(rate_of gstreamer)")
  echo "  run $i: streamlab ${ours[-1]}  gstreamer ${theirs[-1]}  (M samples/s)"
done
read -r om omin omax < <(printf '%s\n' "${ours[@]}" | summary)
read -r tm tmin tmax < <(printf '%s\n' "${theirs[@]}" | summary)
printf '\n%-34s %10s %10s %10s\n' "sine -> gain -> null (M samples/s)" median min max
printf '%-34s %10s %10s %10s\n' "streamlab" "$om" "$omin" "$omax"
printf '%-34s %10s %10s %10s\n' "gstreamer" "$tm" "$tmin" "$tmax"
awk -v a="$om" -v b="$tm" 'BEGIN { printf "ratio of medians (streamlab / gstreamer): %.2fx\n", a / b }'
