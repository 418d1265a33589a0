#!/usr/bin/env bash
# Issue 13's figure: a member with --http and a running paced pipeline,
# under 100 idle sockets (held on its member port and on its HTTP port,
# reopened when the gate closes them) plus 200 garbage connections per
# second (noise, BASP headers announcing 4 GB, HTTP noise), for SECONDS
# (default 60), on 127.0.0.1 only. Prints the worst /livez latency, whether
# the pipeline still runs, and the member's RSS idle vs under load.
#   bench/hostile_load.sh [SECONDS]      (needs build/streamlab and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
bin="$PWD/build/streamlab"
[[ -x "$bin" ]] || { echo "hostile_load: build first (scripts/build.sh --target streamlab)" >&2; exit 1; }
# shellcheck source=bench/scratch.sh
source bench/scratch.sh
port="$(free_port)"
http="$(free_port)"
"$bin" node --name a --listen "127.0.0.1:$port" --http "127.0.0.1:$http" 2>"$work/a.err" & pid=$!
pids+=("$pid")
for ((i = 0; i < 100; i++)); do grep -q "HTTP endpoints on" "$work/a.err" && break; sleep 0.2; done
cat >"$work/paced.json" <<'JSON'
{"name":"paced","nodes":[
  {"id":"tone","type":"sine","config":{"frequency":440}},
  {"id":"pace","type":"fault","config":{"delay_ms":20}},
  {"id":"sink","type":"null_sink"}],
 "connections":[{"from":"tone","to":"pace"},{"from":"pace","to":"sink"}]}
JSON
"$bin" --log-level warn deploy "$work/paced.json" --cluster "127.0.0.1:$port" >/dev/null
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
sleep 5
idle_rss="$(rss)"
python3 - "$port" "$http" "$seconds" "$pid" >"$work/load.txt" <<'PY'
import os, random, socket, struct, sys, threading, time
port, http, seconds, pid = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
end = time.monotonic() + seconds
stop = threading.Event()
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])
    return 0
def connect(p):
    s = socket.socket(); s.settimeout(2); s.connect(("127.0.0.1", p)); return s
def idle():
    held = []
    while not stop.is_set():
        held = [s for s in held if s.fileno() >= 0]
        while len(held) < 100:
            try: held.append(connect(port if len(held) % 2 else http))
            except OSError: break
        # Sockets the gate closed read as EOF: reopen them on the next round.
        for s in held:
            s.setblocking(False)
            try:
                if s.recv(1) == b"": s.close()
            except BlockingIOError: pass
            except OSError: s.close()
        time.sleep(0.5)
    for s in held: s.close()
garbage_sent = 0
def garbage():
    global garbage_sent
    rng = random.Random(13); k = 0
    while not stop.is_set():
        t0 = time.monotonic()
        for _ in range(20):  # 20 every 0.1 s: 200 a second
            k += 1
            kind = k % 3
            payload = (struct.pack(">BxxxI24x", 1, 0xFFFFFFF0) if kind == 0 else
                       bytes(rng.getrandbits(8) for _ in range(256)))
            try:
                s = connect(http if kind == 2 else port); s.sendall(payload); s.close()
                garbage_sent += 1
            except OSError: pass
        time.sleep(max(0, 0.1 - (time.monotonic() - t0)))
threads = [threading.Thread(target=idle), threading.Thread(target=garbage)]
for t in threads: t.start()
worst, probes, failed, peak = 0.0, 0, 0, 0
while time.monotonic() < end:
    t0 = time.monotonic()
    try:
        s = connect(http); s.settimeout(5)
        s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk: break
            reply += chunk
        s.close()
        if not reply.startswith(b"HTTP/1.1 200"): failed += 1
    except OSError: failed += 1
    worst = max(worst, time.monotonic() - t0); probes += 1
    peak = max(peak, rss())
    time.sleep(0.2)
stop.set()
for t in threads: t.join()
print(f"{worst:.3f} {probes} {failed} {peak} {garbage_sent}")
PY
read -r worst probes failed peak garbage <"$work/load.txt"
running=no
"$bin" --log-level error pipelines --json --cluster "127.0.0.1:$port" 2>/dev/null |
  python3 -c 'import json,sys; sys.exit(0 if any(p["name"]=="paced" and p["state"]=="running" for p in json.load(sys.stdin)) else 1)' &&
  running=yes
alive=no
kill -0 "$pid" 2>/dev/null && alive=yes
echo "hostile_load: ${seconds}s of 100 idle sockets + 200 garbage connections/s ($garbage sent) on 127.0.0.1"
echo "  /livez: $probes probes, $failed failed, max latency ${worst} s"
echo "  member alive: $alive; pipeline \"paced\" still running: $running"
echo "  RSS idle ${idle_rss} kB, peak under load ${peak} kB ($(python3 -c "print(f'{$peak/$idle_rss:.2f}')")x)"
echo "  gate log lines: $(grep -c 'gate on port' "$work/a.err" || true)"
