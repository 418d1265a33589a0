# shellcheck shell=bash disable=SC2154  # $bin and $bench_name come from the sourcing script
# Sourced by the cross-process benchmarks (cross_process.sh,
# cross_process_latency.sh): bench/scratch.sh ($work, $pids, free_port), and
# two cluster members a and b on loopback at $port_a and $port_b, both up
# before it returns.
# Needs $bin (the streamlab executable) and $bench_name (for messages).
# shellcheck source=bench/scratch.sh
source "$(dirname "${BASH_SOURCE[0]}")/scratch.sh"

port_a="$(free_port)"
port_b="$(free_port)"
"$bin" --log-level warn node --name a --listen "127.0.0.1:$port_a" 2>"$work/a.err" & pids+=($!)
sleep 0.3
"$bin" --log-level warn node --name b --listen "127.0.0.1:$port_b" --join "127.0.0.1:$port_a" \
  2>"$work/b.err" & pids+=($!)
# Until a lists both members up (at most 30 s: a loaded machine is slow to start them).
members_up() {
  "$bin" --log-level error monitor --json --connect "127.0.0.1:$port_a" 2>/dev/null |
    python3 -c "import json,sys; m=json.load(sys.stdin).get('members',[]); sys.exit(0 if sum(x['state']=='up' for x in m)==2 else 1)"
}
for ((i = 0; i < 150; i++)); do
  members_up && break
  sleep 0.2
done
members_up || { echo "$bench_name: members a and b did not come up:" >&2; cat "$work"/*.err >&2; exit 1; }
