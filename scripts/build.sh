#!/usr/bin/env bash
# Configures and builds StreamLab in build/ (Release unless BUILD_TYPE says
# otherwise), warnings as errors: the one configuration that both README
# commands use, so running one after the other rebuilds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
if [[ ! -f build/CMakeCache.txt ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
# ccache, when installed, makes a rebuild of unchanged files (another
# checkout, a switch of branch) a cache hit; nothing requires it.
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  -DSTREAMLAB_WERROR="${STREAMLAB_WERROR:-ON}" "${launcher[@]}" >/dev/null
cmake --build build -j "$(nproc)" "$@"
