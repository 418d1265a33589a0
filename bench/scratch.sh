# shellcheck shell=bash
# Sourced by benchmarks that start processes: a scratch directory $work,
# every process in $pids killed by PID (and reaped) on exit, and free_port
# (a port free on 127.0.0.1 at the time of asking).
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
