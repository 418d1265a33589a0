#!/usr/bin/env bash
# Case 6: one edge between two processes on loopback, StreamLab against
# GStreamer's tcpclientsink -> tcpserversrc, alternating A B A B.
#
#   bench/cross_process.sh [REPEATS] [FRAMES]      (defaults 3, 100000)
#   STREAMLAB_BUILD_DIR  where `streamlab` is (default build)
#
# StreamLab: two cluster members (`streamlab node`), a sine on member a and a
# null sink on member b (1024-sample float32 frames, edge capacity 64), so
# every frame crosses the processes as Cap'n Proto bytes under credits.
# Timed from `deploy --wait` starting until it returns with the pipeline
# finished (it asks every 100 ms over its one connection: polling with a
# process per question cost as much CPU as the edge itself). GStreamer:
# audiotestsrc (sine, same frames) ! tcpclientsink into tcpserversrc !
# fakesink, whole-process wall time of the sender.
# Both print MB/s of sample data (4096 bytes a frame) and frames/s.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${STREAMLAB_BUILD_DIR:-$repo/build}"
bin="$build/streamlab"
repeats="${1:-3}"
frames="${2:-100000}"
[[ -x "$bin" ]] || { echo "no $bin: build first (scripts/build.sh)" >&2; exit 1; }
bench_name=cross_process
# shellcheck source=bench/two_members.sh
source "$repo/bench/two_members.sh"

streamlab_run() {  # prints MB/s
  local name="x$1"
  cat >"$work/p.json" <<JSON
{"name":"$name","nodes":[{"id":"src","type":"sine","on":"a"},{"id":"sink","type":"null_sink","on":"b"}],
 "connections":[{"from":"src","to":"sink","capacity":64}]}
JSON
  local t0 t1
  t0=$(date +%s%N)
  "$bin" --log-level warn deploy "$work/p.json" --wait --frames "$frames" \
    --cluster "127.0.0.1:$port_a" >/dev/null
  t1=$(date +%s%N)
  python3 -c "print('%.1f' % ($frames * 4096 / (($t1 - $t0) / 1e9) / 1e6))"
}

gstreamer_run() {  # prints MB/s
  command -v gst-launch-1.0 >/dev/null || { echo "-"; return; }
  local port; port="$(free_port)"
  gst-launch-1.0 -q tcpserversrc host=127.0.0.1 port="$port" ! fakesink sync=false &
  local server=$!
  sleep 0.3
  local t0 t1
  t0=$(date +%s%N)
  gst-launch-1.0 -q audiotestsrc wave=sine samplesperbuffer=1024 num-buffers="$frames" \
    ! audio/x-raw,format=F32LE,rate=48000,channels=1 ! tcpclientsink sync=false host=127.0.0.1 port="$port"
  t1=$(date +%s%N)
  kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
  python3 -c "print('%.1f' % ($frames * 4096 / (($t1 - $t0) / 1e9) / 1e6))"
}

ours=(); theirs=()
for ((r = 1; r <= repeats; ++r)); do
  ours+=("$(streamlab_run "$r")")
  theirs+=("$(gstreamer_run)")
  echo "run $r: streamlab ${ours[-1]} MB/s, gstreamer ${theirs[-1]} MB/s" >&2
done
python3 - "$frames" "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
frames = int(sys.argv[1])
ours = [float(x) for x in sys.argv[2].split()]
theirs = [float(x) for x in sys.argv[3].split() if x != "-"]
def row(name, xs):
    m = statistics.median(xs)
    print(f"{name:10s} median {m:8.1f} MB/s ({m * 1e6 / 4096:9.0f} frames/s)  min {min(xs):8.1f}  max {max(xs):8.1f}")
    return m
print(f"case 6: one cross-process edge, {frames} frames of 1024 float32 samples, loopback")
a = row("streamlab", ours)
if theirs:
    b = row("gstreamer", theirs)
    print(f"ratio (streamlab / gstreamer medians): {a / b:.2f}x")
PY
