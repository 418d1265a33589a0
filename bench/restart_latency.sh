#!/usr/bin/env bash
# Time from a node's failure to its restarted, re-wired replacement
# (immediate strategy), median and p99 over ~1,000 restarts per run, for
# several runs. The figure is measured by the supervisor: from the moment it
# gets the failed instance's handover to the moment the replacement is
# spawned and its neighbours are told.
#
#   bench/restart_latency.sh [RUNS]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-5}"
"$repo/scripts/setup.sh"
BUILD_TYPE=Release "$repo/scripts/build.sh" --target streamlab >/dev/null

p50s=()
p99s=()
for ((i = 1; i <= runs; i++)); do
  line=$("$repo/build/streamlab" run "$repo/bench/pipelines/restart_latency.json" --frames 9001 \
    --log-level error | grep '^restarts:')
  # restarts: N, failure to re-wired replacement p50 X us, p99 Y us
  read -r count p50 p99 < <(echo "$line" | awk '{ gsub(",", ""); print $2, $8, $11 }')
  echo "  run $i: $count restarts, p50 $p50 us, p99 $p99 us"
  p50s+=("$p50")
  p99s+=("$p99")
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "restart latency, median over $runs runs: p50 $(printf '%s\n' "${p50s[@]}" | median) us, p99 $(printf '%s\n' "${p99s[@]}" | median) us"
