#!/usr/bin/env bash
# Round-trip latency of live frames through a second process on loopback,
# StreamLab against GStreamer's TCP elements, alternating A B A B (each
# round also runs the StreamLab pipeline in one process, for reference).
#
#   bench/cross_process_latency.sh [REPEATS] [FRAMES]     (defaults 3, 500)
#   STREAMLAB_BUILD_DIR  where `streamlab` is (default build)
#
# Every run is FRAMES live frames of 1024 float32 samples at 48 kHz (one
# every 21.3 ms: 500 frames take 10.7 s) that go from process A to process B
# and back to A, where they end in a sink. Figures: p50 and p99 over every
# frame of a run, in us (the first frames, with connection set-up, included).
#
# StreamLab: two cluster members (`streamlab node`) a and b; a real-time sine
# on a -> gain on b -> null sink on a (deployed with --frames), so each frame
# crosses the processes twice as Cap'n Proto bytes. The figure is the sink's
# end-to-end latency from `monitor --json` once the pipeline has finished:
# from the frame's source timestamp (the time it was due) to its arrival at
# the sink, so it includes how late the source's actor wakes on its timer.
# The source's own end-to-end figure is that lateness; sink p50 - source p50
# is printed as the like-for-like figure against GStreamer's (an estimate: a
# difference of medians, not the median of differences).
# Its percentiles are bucket upper edges of a log-linear histogram (~3%).
# Also, for reference, the same pipeline in one process (`streamlab run`):
# the difference is what the two hops cost.
#
# GStreamer: process A is one gst-launch-1.0 with two chains,
#   audiotestsrc is-live=true (same frames) ! tcpclientsink    and
#   tcpclientsrc ! fakesink,
# and process B relays the bytes: tcpserversrc ! tcpserversink. The way back
# is tcpserversink -> tcpclientsrc because a tcpclientsink connects when it
# starts: two gst-launch processes that each had a tcpclientsink would each
# need the other to listen first. A runs the stats tracer (GST_TRACERS=stats,
# GST_DEBUG=GST_TRACER:7), which logs every buffer push with its time and
# size: a frame leaves when audiotestsrc pushes it (after its clock wait, so
# without wake-up lateness, as case 5's latency tracer) and is back when
# tcpclientsrc pushes the buffer that completes its 4096 bytes (TCP keeps
# them in order), so every frame is timed through B. The tracer writes two
# log lines between audiotestsrc's push and tcpclientsink's send, which adds
# ~15-30 us to GStreamer's figure (~6-12 us a line on a 2-core VM). B only
# forwards bytes; StreamLab's gain on b is ~1 us of work a frame.
#
# Neither side is polled by new processes while frames flow (they cost CPU
# on a small machine): `deploy --wait` asks over its one connection, and the
# script sleeps for GStreamer's stream before it looks at its log.
# Ratio = streamlab / gstreamer medians: lower is better.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${STREAMLAB_BUILD_DIR:-$repo/build}"
bin="$build/streamlab"
repeats="${1:-3}"
frames="${2:-500}"
[[ -x "$bin" ]] || { echo "no $bin: build first (scripts/build.sh)" >&2; exit 1; }
[[ "$repeats" =~ ^[1-9][0-9]*$ && "$frames" =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: bench/cross_process_latency.sh [REPEATS] [FRAMES] (positive numbers)" >&2
  exit 2
}
# GStreamer as the suite installs it (scripts/setup.sh --bench), only if an
# element or the stats tracer is missing.
for feature in audiotestsrc tcpclientsink tcpclientsrc tcpserversrc tcpserversink coretracers; do
  if ! gst-inspect-1.0 "$feature" >/dev/null 2>&1; then
    "$repo/scripts/setup.sh" --bench
    break
  fi
done
# Whether something listens on 127.0.0.1:$1 (a test connection would be the
# one client a tcpserversrc accepts, so /proc/net/tcp is read instead).
listening() { awk -v p="$(printf '0100007F:%04X' "$1")" '$2 == p && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp; }
# Seconds the stream lasts, and a deadline for the rest of a run after it.
stream_s=$(awk -v n="$frames" 'BEGIN { printf "%.2f", n * 1024 / 48000 }')
grace_polls=150 # 0.2 s apart: 30 s

bench_name=cross_process_latency
# shellcheck source=bench/two_members.sh
source "$repo/bench/two_members.sh"

pipeline_json() { # name -> the pipeline file, a -> b -> a
  cat >"$work/$1.json" <<JSON
{"name":"$1","nodes":[
  {"id":"tone","type":"sine","on":"a","config":{"frequency":440,"sample_rate":48000,"frame_size":1024,"realtime":true}},
  {"id":"gain","type":"gain","on":"b","config":{"gain":2.0}},
  {"id":"sink","type":"null_sink","on":"a"}],
 "connections":[{"from":"tone","to":"gain"},{"from":"gain","to":"sink"}]}
JSON
}
# "p50 p99 p50-at-the-source" of pipeline $1's end-to-end latency in the
# metrics JSON on stdin (monitor --json or run --metrics-json), rounded to
# us; at the source it is how late its frames left.
sink_end_to_end() {
  python3 -c "
import json, sys
rows = {n['node']: n for n in json.load(sys.stdin)['nodes'] if n.get('pipeline', '$1') == '$1'}
sink, tone = rows.get('sink'), rows.get('tone')
if not sink or not tone or not sink['frames_in']: sys.exit('no sink row with frames for $1')
if sink['frames_in'] != $frames: print('cross_process_latency: $1: %d of $frames frames reached the sink' % sink['frames_in'], file=sys.stderr)
e = sink['end_to_end_latency_us']
print('%.0f %.0f %.0f' % (e['p50'], e['p99'], tone['end_to_end_latency_us']['p50']))"
}

# The runs set $result to "p50 p99" (us), and streamlab_run also $late,
# its source's p50. They run in this shell, not in
# $(...), so that the processes they start are in $pids for cleanup.
streamlab_run() { # run
  local name="rtt$1"
  pipeline_json "$name"
  "$bin" --log-level warn deploy "$work/$name.json" --wait --frames "$frames" \
    --cluster "127.0.0.1:$port_a" >/dev/null || return 1
  # Deployed through a, which coordinates it and keeps its final figures.
  result=$("$bin" --log-level warn monitor --json --connect "127.0.0.1:$port_a" | sink_end_to_end "$name")
  late=${result##* }
  result=${result% *}
}

inprocess_run() { # run
  local name="one$1"
  pipeline_json "$name"
  "$bin" --log-level warn run "$work/$name.json" --frames "$frames" --quiet --metrics-json "$work/$name.out" || return 1
  result=$(sink_end_to_end "$name" <"$work/$name.out")
  result=${result% *}
}

gstreamer_run() {
  local in_port back_port log="$work/gst.log" i relay sender got=0 want=$((frames * 4096))
  in_port="$(free_port)"; back_port="$(free_port)"
  rm -f "$log"
  gst-launch-1.0 -q tcpserversrc host=127.0.0.1 port="$in_port" \
    ! tcpserversink host=127.0.0.1 port="$back_port" sync=false 2>"$work/relay.err" &
  relay=$!; pids+=("$relay")
  for ((i = 0; i < 150; i++)); do
    listening "$in_port" && listening "$back_port" && break
    sleep 0.02
  done
  GST_TRACERS=stats GST_DEBUG=GST_TRACER:7 GST_DEBUG_NO_COLOR=1 GST_DEBUG_FILE="$log" \
    gst-launch-1.0 -q audiotestsrc name=out is-live=true wave=sine freq=440 samplesperbuffer=1024 \
    num-buffers="$frames" ! audio/x-raw,format=F32LE,rate=48000,channels=1 \
    ! tcpclientsink host=127.0.0.1 port="$in_port" sync=false \
    tcpclientsrc name=back host=127.0.0.1 port="$back_port" ! fakesink sync=false async=false \
    2>"$work/sender.err" &
  sender=$!; pids+=("$sender")
  # A never ends by itself (B keeps the way back open): it is stopped once
  # every byte is back.
  sleep "$stream_s"
  for ((i = 0; i < grace_polls; i++)); do
    got=$(awk '/:: new-element, .* name=\(string\)back,/ { s = $0; sub(/.* ix=\(uint\)/, "", s); sub(/,.*/, "", s); back = s }
      /:: buffer, / && back != "" && index($0, ", element-ix=(uint)" back ",") {
        s = $0; sub(/.*buffer-size=\(uint\)/, "", s); sub(/,.*/, "", s); n += s }
      END { print n + 0 }' "$log" 2>/dev/null || echo 0)
    ((got >= want)) && break
    kill -0 "$sender" 2>/dev/null || break # it failed: its errors are shown below
    sleep 0.2
  done
  { kill "$sender" && wait "$sender"; } 2>/dev/null || true
  { kill "$relay" && wait "$relay"; } 2>/dev/null || true
  if ((got != want)); then
    echo "cross_process_latency: gstreamer returned $got of $want bytes" >&2
    cat "$work/relay.err" "$work/sender.err" >&2
    return 1
  fi
  # Frame k left at out's k-th push and is back at the push of back's that
  # brings the bytes returned to (k + 1) * 4096.
  result=$(awk '/:: new-element, / {
      s = $0; sub(/.* ix=\(uint\)/, "", s); sub(/,.*/, "", s)
      if (index($0, "name=(string)out,")) out = s
      if (index($0, "name=(string)back,")) back = s }
    /:: buffer, / {
      e = $0; sub(/.*, element-ix=\(uint\)/, "", e); sub(/,.*/, "", e)
      t = $0; sub(/.* ts=\(guint64\)/, "", t); sub(/,.*/, "", t)
      z = $0; sub(/.*buffer-size=\(uint\)/, "", z); sub(/,.*/, "", z)
      if (e == out) sent[n++] = t
      else if (e == back) { bytes += z; while (k < n && bytes >= (k + 1) * 4096) print t - sent[k++] }
    }' "$log" | sort -g |
    awk '{ v[NR] = $1 } END { if (!NR) exit 1; i = int(NR * 0.5 + 0.999999); j = int(NR * 0.99 + 0.999999); printf "%.0f %.0f\n", v[i] / 1e3, v[j] / 1e3 }')
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
ours=(); theirs=(); alone=(); departed=()
for ((r = 1; r <= repeats; ++r)); do
  streamlab_run "$r"; ours+=("$result"); departed+=("$((${result% *} - late))")
  gstreamer_run; theirs+=("$result")
  inprocess_run "$r"; alone+=("$result")
  echo "run $r: streamlab p50 ${ours[-1]% *} p99 ${ours[-1]#* } us, gstreamer p50 ${theirs[-1]% *} p99 ${theirs[-1]#* } us" \
    "(streamlab in one process: p50 ${alone[-1]% *} p99 ${alone[-1]#* } us)" >&2
done
python3 - "$frames" "$(nproc)" "$load_start / $(cut -d' ' -f1-3 /proc/loadavg)" "${ours[*]}" "${theirs[*]}" "${alone[*]}" "${departed[*]}" <<'PY'
import statistics, sys
frames, cores, load = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def pairs(s):
    xs = [float(x) for x in s.split()]
    return xs[0::2], xs[1::2]
print(f"round trip A -> B -> A over loopback, {frames} live frames of 1024 float32 samples (48 kHz), "
      f"end-to-end us; {cores} cores, load average at start / end {load}")
med = {}
for name, s in (("streamlab", sys.argv[4]), ("gstreamer", sys.argv[5]), ("in-process", sys.argv[6])):
    p50, p99 = pairs(s)
    med[name] = (statistics.median(p50), statistics.median(p99))
    label = "streamlab, one process" if name == "in-process" else name
    print(f"{label:24s} median p50 {med[name][0]:7.0f}  p99 {med[name][1]:7.0f}"
          f"   (p50 min {min(p50):.0f} max {max(p50):.0f}; p99 min {min(p99):.0f} max {max(p99):.0f})")
(a50, a99), (b50, b99), (c50, c99) = med["streamlab"], med["gstreamer"], med["in-process"]
print(f"ratio (streamlab / gstreamer medians): p50 {a50 / b50:.2f}x  p99 {a99 / b99:.2f}x  (lower is better)")
print(f"streamlab's two hops: p50 +{a50 - c50:.0f} us, p99 +{a99 - c99:.0f} us over one process")
d50 = statistics.median(float(x) for x in sys.argv[7].split())
print(f"streamlab from its source's departure (sink p50 - source p50, like GStreamer's from its push): "
      f"p50 {d50:.0f} us, {d50 / b50:.2f}x")
PY
