#!/usr/bin/env bash
# Installs the Debian packages StreamLab needs to build, test and run.
# Idempotent and non-interactive: installs only what is missing.
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --bench  also what the GStreamer comparison needs
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev libssl-dev libcapnp-dev capnproto librtaudio-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev libsndfile1-dev
  catch2 libbenchmark-dev
  sox  # an independent decoder/analyser for the integration tests
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
