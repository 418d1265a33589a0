#!/usr/bin/env bash
# Builds with clang under sanitizers and runs the tests there.
#   scripts/sanitize.sh [CTEST ARGS]
#     AddressSanitizer + UndefinedBehaviorSanitizer (build-sanitize/): every
#     test, the integration tests starting the sanitized `streamlab` binary.
#   scripts/sanitize.sh --thread [CTEST ARGS]
#     ThreadSanitizer (build-tsan/): the suites without CAF (messages,
#     runtime, nodes: buffer pool, rings, capture's lock-free hand-off).
#     CAF from Debian is not instrumented, so TSan cannot see the
#     synchronisation inside it and would flag every message between actors.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
kind=address
if [[ "${1:-}" == --thread ]]; then
  kind=thread
  shift
fi
"$repo/scripts/setup.sh" --test --clang
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [[ $kind == address ]]; then
  build="$repo/build-sanitize"
  targets=()
else
  build="$repo/build-tsan"
  targets=(--target test_messages test_runtime test_nodes)
fi
CC=clang CXX=clang++ cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTREAMLAB_SANITIZE=$kind -DSTREAMLAB_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
# A sanitizer report ends the process with an error, so the test that ran it
# fails and prints the report.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$repo/scripts/sanitizers/ubsan.supp}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$repo/scripts/sanitizers/lsan.supp}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
cd "$build"
if [[ $kind == address ]]; then
  ctest --output-on-failure --timeout 600 -j 2 "$@"
else
  status=0
  for suite in messages runtime nodes; do
    "tests/$suite/test_$suite" "$@" || status=1
  done
  exit "$status"
fi
