#!/usr/bin/env bash
# Builds one libFuzzer target (clang, ASan + UBSan, in build-fuzz/) and fuzzes
# it for SECONDS, starting from the committed seeds (fuzz/corpus/TARGET) and
# what earlier runs on this machine added (build-fuzz/corpus/TARGET).
#   scripts/fuzz.sh TARGET SECONDS
#   scripts/fuzz.sh all SECONDS        each target in turn
# Targets: fuzz_pipeline_spec fuzz_frame_decode fuzz_dead_letters fuzz_member_message
# A crash is saved as build-fuzz/crashes/TARGET/crash-*; copy it into
# fuzz/regressions/TARGET/ with the fix, so every build's tests replay it.
# Prints the executions done; exits 1 when the fuzzer found a problem.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
targets=(fuzz_pipeline_spec fuzz_frame_decode fuzz_dead_letters fuzz_member_message)
if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS   (targets: ${targets[*]})" >&2
  exit 2
fi
wanted=("$1")
[[ "$1" == all ]] && wanted=("${targets[@]}")
for t in "${wanted[@]}"; do
  if [[ " ${targets[*]} " != *" $t "* ]]; then
    echo "fuzz: unknown target '$t' (known: ${targets[*]} all)" >&2
    exit 2
  fi
done

"$repo/scripts/setup.sh" --clang
build="$repo/build-fuzz"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
CC=clang CXX=clang++ cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTREAMLAB_FUZZ=ON -DSTREAMLAB_SANITIZE=address -DBUILD_TESTING=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${wanted[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$repo/scripts/sanitizers/ubsan.supp}"
status=0
for t in "${wanted[@]}"; do
  corpus="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  dict=()
  [[ -f "$repo/fuzz/$t.dict" ]] && dict=(-dict="$repo/fuzz/$t.dict")
  start=$(date +%s)
  # -rss_limit_mb: an input that makes the code allocate this much is a
  # finding (every decoder bounds its allocations far below it).
  set +e
  "$build/fuzz/$t" "$corpus" "$repo/fuzz/corpus/$t" "${dict[@]}" -max_total_time="$2" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$build/$t.log" 2>&1
  rc=$?
  set -e
  runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$build/$t.log" | tail -1 | grep -oE "[0-9]+$" || echo 0)
  echo "fuzz: $t: $runs executions in $(($(date +%s) - start)) s, exit $rc (log: $build/$t.log)"
  if ((rc != 0)); then
    status=1
    grep -E 'ERROR|SUMMARY|Test unit written' "$build/$t.log" | head -20 >&2
  fi
done
exit "$status"
