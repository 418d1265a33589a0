#!/usr/bin/env bash
# Capture-to-sink latency and xruns of audio_capture at 48 kHz with
# 256-frame periods, against a private JACK server (dummy backend) playing
# jack_simple_client's tone: first on a quiet machine, then while another
# pipeline (sine -> gain -> null sink, flat out) keeps every core busy.
#
# Latency is the sink's end_to_end figure from `streamlab run
# --metrics-json`: from a frame's capture time (its first sample, derived
# from the audio callback's time) to its arrival at the sink, so it includes
# the frame's own length (256 / 48000 s = 5.3 ms). xruns are the device's
# overruns (RTAUDIO_INPUT_OVERFLOW); ring overflows are blocks the node's
# ring had no room for; dropped are frames the actor's backlog dropped.
#
#   bench/capture_latency.sh [--seconds N] [--idle-seconds N] [--binary PATH]
#
# Without --binary it installs what is missing and builds build/streamlab.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
seconds=60
idle_seconds=20
binary=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --idle-seconds) idle_seconds=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "capture_latency: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ -z $binary ]]; then
  "$repo/scripts/setup.sh" --test
  BUILD_TYPE=Release "$repo/scripts/build.sh" --target streamlab >/dev/null
  binary="$repo/build/streamlab"
fi
command -v python3 >/dev/null || { echo "capture_latency: needs python3 to read the metrics" >&2; exit 1; }

server="slbench_$$"
tone="${server}_tone"
work=$(mktemp -d)
load_pid=""
cleanup() {
  [[ -n $load_pid ]] && kill "$load_pid" 2>/dev/null || true
  "$repo/scripts/jack-test-server.sh" stop "$server" || true
  rm -rf "$work"
}
trap cleanup EXIT
export JACK_DEFAULT_SERVER=$server JACK_NO_START_SERVER=1 STREAMLAB_JACK_OWNER=$$
RATE=48000 PERIOD=256 "$repo/scripts/jack-test-server.sh" start "$server" "$tone"

cat >"$work/capture.json" <<EOF
{"name": "capture_latency",
 "nodes": [
   {"id": "mic", "type": "audio_capture",
    "config": {"api": "jack", "device": "$tone", "channels": 2, "sample_rate": 48000, "frame_size": 256}},
   {"id": "sink", "type": "null_sink"}],
 "connections": [{"from": "mic", "to": "sink"}]}
EOF

report() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
label, path = sys.argv[1], sys.argv[2]
nodes = {n["node"]: n for n in json.load(open(path))["nodes"]}
mic, sink = nodes["mic"], nodes["sink"]
f = mic.get("figures", {})
e2e = sink["end_to_end_latency_us"]
print(f"{label}: {mic['frames_out']} frames; capture->sink latency p50 {e2e['p50']/1e3:.2f} ms, "
      f"p99 {e2e['p99']/1e3:.2f} ms, max {e2e['max']/1e3:.2f} ms")
print(f"  xruns {f.get('xruns', 0):.0f} ({f.get('xrun_frames_filled', 0):.0f} frames lost, filled), ring overflows {f.get('ring_overflows', 0):.0f} "
      f"({f.get('ring_overflow_frames', 0):.0f} frames), dropped {sum(mic['dropped'].values())}, "
      f"restarts {mic['restarts']}, state {mic['state']}")
print(f"  callback period p50 {f.get('callback_period_p50_us', 0)/1e3:.2f} ms, "
      f"p99 {f.get('callback_period_p99_us', 0)/1e3:.2f} ms; ring fill max "
      f"{100*f.get('ring_fill_max_ratio', 0):.1f}%; clock drift {f.get('clock_drift_ppm', 0):.1f} ppm")
EOF
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "JACK dummy backend, 48000 Hz, period 256; capture frames of 256"

"$binary" --log-level warn run "$work/capture.json" --duration "$idle_seconds" --quiet \
  --metrics-json "$work/idle.json" >/dev/null
report "quiet, ${idle_seconds} s" "$work/idle.json"

# Another pipeline flat out on every core while capturing.
"$binary" --log-level error run "$repo/bench/pipelines/sine_gain_null.json" \
  --duration $((seconds + 10)) --quiet >/dev/null 2>&1 &
load_pid=$!
sleep 2
"$binary" --log-level warn run "$work/capture.json" --duration "$seconds" --quiet \
  --metrics-json "$work/busy.json" >/dev/null
echo "load while capturing: $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$load_pid" 2>/dev/null || true
wait "$load_pid" 2>/dev/null || true
load_pid=""
report "busy (sine -> gain -> null sink flat out), ${seconds} s" "$work/busy.json"
