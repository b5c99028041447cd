#!/usr/bin/env bash
# Sets up a checkout on Debian or Raspberry Pi OS with Node 20 or 22:
# the Debian packages the native addons and audio backends need, the Node dependencies
# (building the native addons), and the TypeScript build in dist/.
#
#   bash scripts/setup.sh          what running the hub and devices needs
#   bash scripts/setup.sh --test   also what the test suite uses (mosquitto, ffmpeg, sox,
#                                  systemd-analyze, espeak-ng, chromium for the web page)
#   bash scripts/setup.sh --print-packages   print the Debian packages, one a line, and
#                                  exit (scripts/install.sh uses this list)
#
# Safe to run again: packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=0
print_packages=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1 ;;
    --print-packages) print_packages=1 ;;
    -h | --help)
      sed -n '2,12p' "$0"
      exit 0
      ;;
    *)
      echo "setup.sh: unknown option $arg" >&2
      exit 2
      ;;
  esac
done

# Build tools for the native addons, ALSA headers for our capture addon (native/alsa),
# libopus for our Opus addon (native/opus, found with pkg-config), libspeexdsp for our echo
# canceller (native/dsp), arecord/aplay.
# openssl makes the hub's TLS certificate on its first start [S-2] (a runtime dependency).
packages=(build-essential python3 pkg-config libasound2-dev libopus-dev libspeexdsp-dev alsa-utils openssl)
# Debian's own nodejs keeps Node's C headers, which node-gyp compiles the addons against,
# in libnode-dev; NodeSource's nodejs and the official tarball carry them.
node_bin=$(readlink -f "$(command -v node 2>/dev/null || echo /nonexistent)")
if [ "$node_bin" = /usr/bin/node ] && [ ! -e /usr/include/node/node_api.h ] &&
  dpkg-query -S /usr/bin/node >/dev/null 2>&1; then
  packages+=(libnode-dev)
fi
if [ "$with_test" = 1 ]; then
  packages+=(mosquitto ffmpeg sox systemd espeak-ng)
  # headless Chromium drives the web page's browser test (test/browser)
  packages+=(chromium)
fi
if [ "$print_packages" = 1 ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup.sh: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The Debian mosquitto package starts a system broker on 1883; tests and the hub's
  # embedded broker want that port free, and nothing here uses the system one.
  if printf '%s\n' "${missing[@]}" | grep -qx mosquitto; then
    $sudo systemctl disable --now mosquitto >/dev/null 2>&1 || $sudo service mosquitto stop >/dev/null 2>&1 || true
  fi
fi

# Point node-gyp at the running Node.js's own headers (scripts/install/node-headers.sh).
# shellcheck source=install/node-headers.sh
source scripts/install/node-headers.sh
use_node_headers "setup.sh: "

echo "setup.sh: installing Node dependencies (native addons build from source)"
npm ci --no-audit --no-fund
echo "setup.sh: building dist/"
npm run build
echo "setup.sh: done"
