#!/usr/bin/env bash
# Installs Babel Intercom on Raspberry Pi OS or Debian as systemd services.
#
#   sudo bash scripts/install.sh --role both --name kitchen          # hub and a device
#   sudo bash scripts/install.sh --role device --hub kitchen.local --name door
#
# Options:
#   --role hub|device|both  what this Pi runs (required)
#   --hub HOST[:PORT]       the hub's address, written into device.yaml (required with
#                           --role device; with both, the device uses this Pi's hub on
#                           loopback). TLS to port 4342 unless HOST is this machine;
#                           tls://HOST[:PORT] or tcp://HOST[:PORT] force one. The
#                           installer reads the hub's certificate, prints its fingerprint
#                           to compare with `babel-hub fingerprint` on the hub, and pins
#                           it (hub_fingerprint:); an unreachable hub is said so, and the
#                           device then trusts the first certificate it sees
#   --hub-fingerprint sha256:HEX
#                           pin this certificate instead of reading it from the hub
#   --name NAME             the device's name on the hub, written into device.yaml
#                           (default: the host name)
#   --prefix DIR            where the application goes (default /opt/babel-intercom)
#   --dry-run               print every action, change nothing
#   --no-apt                do not install Debian packages
#   --root DIR              install into a throwaway root (tests): /etc, /opt, /usr/local
#                           and /var/lib are taken under DIR, and the system's packages,
#                           users and systemd are left alone
#   --skip-build            no npm: copy the checkout's dist/ as it is (tests; the
#                           installed copy then has no node_modules)
#   -h, --help              print this help
#
# Steps: check Node.js >= 20; install the Debian packages of `scripts/setup.sh
# --print-packages`; create the system user babel (groups audio, gpio, input, dialout,
# those that exist); copy the checkout to the prefix (without .git, node_modules, data);
# there `npm ci`, `npm run build`, `npm prune --omit=dev` (TypeScript is a dev
# dependency, so it is installed, used and pruned in the prefix; the checkout is left as
# it is); install the units into /etc/systemd/system and the babel-hub / babel-device
# commands into /usr/local/bin; write /etc/babel/hub.yaml and/or device.yaml from
# scripts/templates/ if absent (an existing file is kept, never overwritten); with --role
# both, create the device's account on this hub (babel-hub user add: the hub's
# registration is closed) and write its generated secret into the new device.yaml; systemctl
# daemon-reload and enable --now the role's services (restart them when running).
#
# Safe to run again: that is how to upgrade after `git pull`. An unchanged checkout is
# not rebuilt.
set -euo pipefail

readonly PROGRAM=install.sh
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SRC
readonly STAMP_FILE=.install-stamp
readonly WANTED_GROUPS=(audio gpio input dialout)

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

fail_usage() {
  printf '%s: %s\n' "$PROGRAM" "$1" >&2
  printf 'Usage: sudo bash scripts/install.sh --role hub|device|both [--hub HOST[:PORT]] [--hub-fingerprint sha256:HEX] [--name NAME]\n' >&2
  printf '       [--prefix DIR] [--dry-run] [--no-apt] [--root DIR] [--skip-build]   (--help for more)\n' >&2
  exit 2
}

die() {
  printf '%s: %s\n' "$PROGRAM" "$*" >&2
  exit 1
}

# The installer's parts, run in this shell in order (scripts/install/).
# shellcheck source=install/options.sh
source "$SRC/scripts/install/options.sh"
# shellcheck source=install/output.sh
source "$SRC/scripts/install/output.sh"

if [ "$real" = 1 ] && [ "$dry_run" = 0 ] && [ "$(id -u)" -ne 0 ]; then
  die "run it as root: sudo bash scripts/install.sh $(quoted --role "$role") ..."
fi

printf 'Babel Intercom installer: role %s, from %s into %s%s%s\n' "$role" "$SRC" "$app" \
  "$([ "$dry_run" = 1 ] && printf ' (dry run: nothing is changed)')" \
  "$([ "$real" = 0 ] && printf ' (throwaway root %s)' "$root")"

# shellcheck source=install/system.sh
source "$SRC/scripts/install/system.sh"
# shellcheck source=install/app.sh
source "$SRC/scripts/install/app.sh"
# shellcheck source=install/files.sh
source "$SRC/scripts/install/files.sh"
# shellcheck source=install/services.sh
source "$SRC/scripts/install/services.sh"
