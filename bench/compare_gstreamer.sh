#!/usr/bin/env bash
# Kept for old habits: case 1 of the benchmark suite (sine -> gain -> null
# sink, StreamLab vs GStreamer, alternating runs). Everything lives in
# bench/run_suite.sh, which runs all the cases; see its header.
#
#   bench/compare_gstreamer.sh [REPEATS]     same as: bench/run_suite.sh --cases 1 --repeats REPEATS
set -euo pipefail
if (($# > 1)); then
  echo "compare_gstreamer.sh: the frame count is now set per case in bench/run_suite.sh" >&2
fi
exec "$(dirname "$0")/run_suite.sh" --cases 1 ${1:+--repeats "$1"}
