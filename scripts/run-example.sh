#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and run the default example
# (a sine tone through a gain into sine_gain.wav in the current directory).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
"$repo/scripts/setup.sh"
"$repo/scripts/build.sh" --target streamlab
"$repo/build/streamlab" run "$repo/examples/sine_gain_wav.json" "$@"
