#!/usr/bin/env bash
# A private JACK server for the audio tests (docs/operations.md#testing-audio-without-a-sound-card): the
# dummy backend (no sound card needed), a unique name so test runs never
# collide, and tone clients (jack_simple_client: left 240 Hz, right 720 Hz,
# amplitude 0.2 at 48 kHz). Everything it starts is stopped by PID.
#
#   scripts/jack-test-server.sh start NAME [TONE_CLIENT...]   server + tone clients, ready
#   scripts/jack-test-server.sh kill NAME    the server only, SIGKILLed: it crashes under its clients
#   scripts/jack-test-server.sh stop NAME    everything started under NAME, then its files
#
# The PIDs are kept in $STREAMLAB_JACK_STATE_DIR (default: /tmp) as
# streamlab-jack-NAME.pids. With STREAMLAB_JACK_OWNER=PID, everything is
# also stopped once that process has gone (a test killed on a timeout).
# RATE (48000) and PERIOD (256) in the environment. Exit status 0 when
# done; 1 with the reason on stderr.
#
# `stop` ends jackd with SIGTERM (SIGKILL after 10 s): a server that dies
# without unregistering keeps its slot in JACK's machine-wide server
# registry (/dev/shm/jack-shm-registry, 8 slots, reclaimed only by a server
# of the same name), and 8 such leaks stop every JACK server here. `kill`
# is the exception (see there); `start` also resets a registry full of
# such leaks when no jackd is alive.
set -euo pipefail

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
command=$1
name=$2
shift 2
[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || {
  echo "jack-test-server: bad server name \"$name\"" >&2
  exit 1
}
state_dir=${STREAMLAB_JACK_STATE_DIR:-/tmp}
pids_file="$state_dir/streamlab-jack-$name.pids"
rate=${RATE:-48000}
period=${PERIOD:-256}
export JACK_DEFAULT_SERVER=$name JACK_NO_START_SERVER=1

# Polls jack_lsp (jack_wait polls only once a second) until `what` is
# listed (any port when empty), for at most `tenths` tenths of a second.
wait_for_ports() {
  local what=$1 tenths=$2
  for ((i = 0; i < tenths; i++)); do
    if ports=$(jack_lsp 2>/dev/null) && [[ -n $ports ]] &&
      { [[ -z $what ]] || grep -q "^$what:" <<<"$ports"; }; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# Running, not a zombie (whoever adopted it may reap it late).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

stop_pid() {
  local pid=$1
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# No jackd alive on the machine (zombies aside), yet the registry is full:
# its slots are all leaks of servers that died unregistered. Only then is
# it safe to remove; the next server creates it anew.
heal_registry() {
  grep -q "Too many servers already active" "$1" 2>/dev/null || return 1
  if ps -C jackd -o stat= 2>/dev/null | grep -qv '^Z'; then return 1; fi
  echo "jack-test-server: JACK's server registry is full of dead servers; resetting it" >&2
  rm -f /dev/shm/jack-shm-registry
}

remove_files() {
  rm -f /dev/shm/jack_sem.*_"$name"_* /dev/shm/jack_"$name"_* 2>/dev/null || true
}

case "$command" in
  start)
    for tool in jackd jack_lsp jack_simple_client; do
      command -v "$tool" >/dev/null || {
        echo "jack-test-server: $tool is not installed (scripts/setup.sh --test installs jackd2)" >&2
        exit 1
      }
    done
    log="$state_dir/streamlab-jack-$name.log"
    if [[ -n ${STREAMLAB_JACK_OWNER:-} ]]; then
      owner=$STREAMLAB_JACK_OWNER
      (while alive "$owner"; do sleep 0.5; done; "$0" stop "$name") \
        >/dev/null 2>&1 </dev/null &
      echo "watcher $!" >>"$pids_file"
    fi
    # One server starts at a time on this machine: the first creates JACK's
    # registry in /dev/shm, and two doing so at once lose one's entry.
    exec 9>"$state_dir/streamlab-jack.lock"
    flock -w 30 9 || true
    for attempt in 1 2; do
      # Long options: -p/-r mean other things before and after -d. The
      # default --port-max (2048) needs ~107 MB of /dev/shm. A long client
      # timeout: on a loaded machine, opening a client (RtAudio opens one
      # per device it probes) can take seconds.
      # Under a parent that waits for it: jackd killed (`kill`) is reaped at
      # once, where this machine's init may leave it a zombie, which JACK's
      # registry takes for a live server of that name.
      pid_file="$state_dir/streamlab-jack-$name.jackd"
      rm -f "$pid_file"
      (
        jackd --name "$name" --no-realtime --port-max 256 --timeout 10000 -d dummy --rate "$rate" \
          --period "$period" >"$log" 2>&1 </dev/null &
        echo $! >"$pid_file"
        wait
      ) >/dev/null 2>&1 </dev/null &
      for ((i = 0; i < 50; i++)); do
        [[ -s $pid_file ]] && break
        sleep 0.02
      done
      server=$(cat "$pid_file")
      rm -f "$pid_file"
      echo "server $server" >>"$pids_file"
      if wait_for_ports "" 100 && alive "$server"; then break; fi
      stop_pid "$server"
      if [[ $attempt == 1 ]] && heal_registry "$log"; then continue; fi
      echo "jack-test-server: jackd \"$name\" did not come up within 10 s:" >&2
      tail -n 20 "$log" >&2 || true
      remove_files
      exit 1
    done
    flock -u 9 || true
    exec 9>&-
    for tone in "$@"; do
      jack_simple_client "$tone" >>"$log" 2>&1 </dev/null &
      echo "tone $!" >>"$pids_file"
      if ! wait_for_ports "$tone" 100; then
        echo "jack-test-server: tone client \"$tone\" did not appear on \"$name\":" >&2
        tail -n 20 "$log" >&2 || true
        exit 1
      fi
    done
    ;;
  kill)
    # A crash, with SIGKILL. A SIGTERMed server first tells its clients of
    # every client it removes, and libjack deadlocks (seen 2 times in ~25
    # runs: jack_client_close waiting forever on a lock that a notification
    # thread it cancelled still held) when RtAudio closes its client during
    # those. The registry slot this leaks is taken back by the server of
    # the same name that `start` brings up next.
    [[ -f $pids_file ]] || exit 0
    while read -r role pid; do
      if [[ $role == server ]] && alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
          alive "$pid" || break
          sleep 0.1
        done
      fi
    done <"$pids_file"
    ;;
  stop)
    [[ -f $pids_file ]] || {
      remove_files
      exit 0
    }
    # Clients first: jackd killed with clients attached may exit 141.
    while read -r role pid; do
      [[ $role == tone ]] && stop_pid "$pid"
    done <"$pids_file"
    while read -r role pid; do
      [[ $role == server ]] && stop_pid "$pid"
    done <"$pids_file"
    # The watcher, unless it is the one stopping (bash may exec this
    # script in the watcher's own process, or run it as its child).
    while read -r role pid; do
      [[ $role == watcher && $pid != "$$" && $pid != "$PPID" ]] && { kill "$pid" 2>/dev/null || true; }
    done <"$pids_file"
    rm -f "$pids_file" "$state_dir/streamlab-jack-$name.log"
    remove_files
    ;;
  *) usage ;;
esac
