# shellcheck shell=bash
# scripts/install.sh, steps 1-3: Node.js, the Debian packages, the system user babel.
# Sourced by install.sh, in order, sharing its variables; not a program of its own.

# --- 1. Node.js ----------------------------------------------------------------------

step "Node.js 20 or newer"
node_help() {
  cat >&2 <<'EOF'

Raspberry Pi OS and Debian 12 (Bookworm) ship Node.js 18, which is too old. Install
Node.js 22 from NodeSource, then run install.sh again:

  curl -fsSL https://deb.nodesource.com/setup_22.x -o nodesource_setup.sh
  sudo bash nodesource_setup.sh
  sudo apt-get install -y nodejs

On Debian 13 (Trixie) and Raspberry Pi OS based on it: sudo apt-get install -y nodejs npm
EOF
}
node_bin=$(command -v node || true)
if [ -z "$node_bin" ]; then
  printf '%s: Node.js is not installed.\n' "$PROGRAM" >&2
  node_help
  exit 1
fi
node_version=$("$node_bin" --version 2>/dev/null || echo v0)
node_major=${node_version#v}
node_major=${node_major%%.*}
if ! [[ "$node_major" =~ ^[0-9]+$ ]] || [ "$node_major" -lt 20 ]; then
  printf '%s: Node.js 20 or newer is required; %s is %s.\n' "$PROGRAM" "$node_bin" "$node_version" >&2
  node_help
  exit 1
fi
if [ "$skip_build" = 0 ] && ! command -v npm >/dev/null; then
  printf '%s: npm is missing (Debian packages it separately).\n' "$PROGRAM" >&2
  node_help
  exit 1
fi
if ! [[ "$node_bin" =~ ^/[A-Za-z0-9._/-]+$ ]]; then
  die "node is at an unusual path ($node_bin); install Node.js system-wide (see --help)"
fi
case "$node_bin" in
  /home/* | /root/*)
    # The units have ProtectHome=yes: a node under a home directory (nvm) is invisible.
    if [ "$real" = 1 ]; then
      die "node is $node_bin, inside a home directory, where the services cannot run it; install Node.js system-wide (NodeSource) and run install.sh again"
    fi
    ;;
esac
note "$node_bin $node_version"

# --- 2. Debian packages --------------------------------------------------------------

step "Debian packages"
mapfile -t packages < <(bash "$SRC/scripts/setup.sh" --print-packages)
[ "${#packages[@]}" -gt 0 ] || die "scripts/setup.sh --print-packages printed no packages"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
note "needed: ${packages[*]}"
if [ "${#missing[@]}" -eq 0 ]; then
  note "all installed"
else
  why=$(system_skip_reason)
  [ "$no_apt" = 1 ] && why=--no-apt
  if [ -n "$why" ]; then
    skipped "$why" apt-get install -y --no-install-recommends "${missing[@]}"
  else
    act apt-get update -qq
    act env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# --- 3. user -------------------------------------------------------------------------

step "System user babel"
groups=()
for g in "${WANTED_GROUPS[@]}"; do
  if getent group "$g" >/dev/null; then groups+=("$g"); else note "no group $g on this system: left out"; fi
done
groups_csv=$(
  IFS=,
  printf '%s' "${groups[*]}"
)
why=$(system_skip_reason)
if [ -n "$why" ]; then
  skipped "$why" useradd --system --user-group --home-dir /var/lib/babel --no-create-home --shell /usr/sbin/nologin babel
  [ -z "$groups_csv" ] || skipped "$why" usermod --append --groups "$groups_csv" babel
elif getent passwd babel >/dev/null; then
  note "babel exists"
  missing_groups=()
  for g in "${groups[@]}"; do
    id -nG babel | tr ' ' '\n' | grep -qx "$g" || missing_groups+=("$g")
  done
  if [ "${#missing_groups[@]}" -gt 0 ]; then
    act usermod --append --groups "$(
      IFS=,
      printf '%s' "${missing_groups[*]}"
    )" babel
  fi
else
  act useradd --system --user-group --home-dir /var/lib/babel --no-create-home \
    --shell /usr/sbin/nologin --comment "Babel Intercom" babel
  [ -z "$groups_csv" ] || act usermod --append --groups "$groups_csv" babel
fi
