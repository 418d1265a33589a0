#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
"$repo/scripts/setup.sh" --test
"$repo/scripts/build.sh"
cd "$repo/build"
ctest --output-on-failure --timeout 300 -j 2 "$@"
