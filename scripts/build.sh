#!/usr/bin/env bash
# Configures and builds StreamLab in build/ (Release unless BUILD_TYPE says otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
if [[ ! -f build/CMakeCache.txt ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  -DSTREAMLAB_WERROR="${STREAMLAB_WERROR:-OFF}" >/dev/null
cmake --build build -j "$(nproc)" "$@"
