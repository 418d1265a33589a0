#!/usr/bin/env bash
# Installs the Debian packages StreamLab needs to build and run.
# Idempotent and non-interactive: installs only what is missing.
#   scripts/setup.sh          build dependencies
#   scripts/setup.sh --test   also the tools the tests check against
#   scripts/setup.sh --bench  also what the GStreamer comparison needs
#   scripts/setup.sh --clang  clang with its sanitizer and libFuzzer runtimes
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev libssl-dev libcapnp-dev capnproto librtaudio-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev libsndfile1-dev
  prometheus-cpp-dev libcivetweb-dev
  catch2 libbenchmark-dev
)
for option in "$@"; do
  case "$option" in
    --test)
      packages+=(
        sox         # an independent decoder/analyser for the integration tests
        prometheus  # for promtool, which checks what /metrics serves
        # A private JACK server (dummy backend) and tone client for the
        # [audio] tests. jackd2's client library replaces JACK1's, which
        # librtaudio-dev may have brought in: its -dev package comes along
        # so that librtaudio-dev stays installed.
        jackd2 libjack-jackd2-dev
      ) ;;
    --bench) packages+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good) ;;
    # llvm: llvm-symbolizer, so sanitizer reports name files and lines.
    --clang) packages+=(clang libclang-rt-14-dev llvm) ;;
    *) echo "setup: unknown option $option (known: --test, --bench, --clang)" >&2; exit 2 ;;
  esac
done

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

# Debian's prometheus package also enables a Prometheus server; the tests
# only need its promtool, so a server this script brought in is stopped.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null &&
  systemctl is-system-running >/dev/null 2>&1; then
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
