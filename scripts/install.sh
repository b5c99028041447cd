#!/usr/bin/env bash
# Installs Babel Intercom on Raspberry Pi OS or Debian as systemd services.
#
#   sudo bash scripts/install.sh --role both --name kitchen          # hub and a device
#   sudo bash scripts/install.sh --role device --hub kitchen.local --name door
#
# Options:
#   --role hub|device|both  what this Pi runs (required)
#   --hub HOST[:PORT]       the hub's address, written into device.yaml (required with
#                           --role device; with both, the device uses this Pi's hub)
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
# scripts/templates/ if absent (an existing file is kept, never overwritten); systemctl
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
  printf 'Usage: sudo bash scripts/install.sh --role hub|device|both [--hub HOST[:PORT]] [--name NAME]\n' >&2
  printf '       [--prefix DIR] [--dry-run] [--no-apt] [--root DIR] [--skip-build]   (--help for more)\n' >&2
  exit 2
}

die() {
  printf '%s: %s\n' "$PROGRAM" "$*" >&2
  exit 1
}

# --- options -------------------------------------------------------------------------

role=""
hub=""
name=""
prefix=/opt/babel-intercom
root=/
dry_run=0
no_apt=0
skip_build=0

while [ "$#" -gt 0 ]; do
  opt=$1
  case "$opt" in
    --role | --hub | --name | --prefix | --root)
      if [ "$#" -lt 2 ] || [ -z "$2" ] || [ "${2#--}" != "$2" ]; then fail_usage "$opt needs a value"; fi
      case "$opt" in
        --role) role=$2 ;;
        --hub) hub=$2 ;;
        --name) name=$2 ;;
        --prefix) prefix=$2 ;;
        --root) root=$2 ;;
      esac
      shift 2
      ;;
    --role=* | --hub=* | --name=* | --prefix=* | --root=*)
      value=${opt#*=}
      [ -n "$value" ] || fail_usage "${opt%%=*} needs a value"
      case "$opt" in
        --role=*) role=$value ;;
        --hub=*) hub=$value ;;
        --name=*) name=$value ;;
        --prefix=*) prefix=$value ;;
        --root=*) root=$value ;;
      esac
      shift
      ;;
    --dry-run) dry_run=1 && shift ;;
    --no-apt) no_apt=1 && shift ;;
    --skip-build) skip_build=1 && shift ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) fail_usage "unknown option $opt" ;;
  esac
done

case "$role" in
  hub | device | both) ;;
  "") fail_usage "--role is required: hub, device or both" ;;
  *) fail_usage "--role must be hub, device or both, not \"$role\"" ;;
esac
if [ "$role" = device ] && [ -z "$hub" ]; then
  fail_usage "--role device needs --hub HOST[:PORT], the address of the Pi that runs the hub"
fi
if [ -n "$hub" ] && [ "$role" != device ]; then
  fail_usage "--hub is for --role device (with --role both the device uses this Pi's hub)"
fi
if [ -n "$hub" ] && ! [[ "$hub" =~ ^[A-Za-z0-9._-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?$ ]]; then
  fail_usage "--hub must be HOST or HOST:PORT, e.g. kitchen.local or 192.168.1.20:4242"
fi
if [ -n "$name" ] && [ "$role" = hub ]; then
  fail_usage "--name names a device: use it with --role device or both"
fi
if [ -n "$name" ] && ! [[ "$name" =~ ^[a-z0-9][a-z0-9._-]{0,31}$ ]]; then
  fail_usage "--name must be 1-32 of a-z 0-9 . _ - starting with a letter or digit, not \"$name\""
fi
# Paths go into sed expressions and unit files: keep them plain.
if ! [[ "$prefix" =~ ^/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$ ]] || [[ "$prefix" == *..* ]]; then
  fail_usage "--prefix must be an absolute path such as /opt/babel-intercom"
fi
if ! [[ "$root" =~ ^/[A-Za-z0-9._/-]*$ ]]; then
  fail_usage "--root must be an absolute path"
fi
root=${root%/}
# The system itself, or a throwaway root in which nothing system-wide is touched.
real=1
[ -z "$root" ] || real=0
[ "$real" = 1 ] || [ -d "$root" ] || [ "$dry_run" = 1 ] || fail_usage "--root $root: no such directory"

readonly role hub name prefix root dry_run no_apt skip_build real
readonly app=$root$prefix
readonly etc_dir=$root/etc/babel
readonly unit_dir=$root/etc/systemd/system
readonly bin_dir=$root/usr/local/bin
readonly state_dir=$root/var/lib

units=()
[ "$role" = device ] || units+=(babel-hub)
[ "$role" = hub ] || units+=(babel-device)
readonly units

# --- output and actions --------------------------------------------------------------

step_no=0
step() {
  step_no=$((step_no + 1))
  printf '\n==> [%d] %s\n' "$step_no" "$*"
}
note() { printf '    %s\n' "$*"; }
quoted() {
  local out="" a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+="$a "; else out+="$(printf '%q' "$a") "; fi
  done
  printf '%s' "${out% }"
}
# Runs a command, or only prints it in a dry run.
act() {
  if [ "$dry_run" = 1 ]; then
    printf '    [dry-run] %s\n' "$(quoted "$@")"
  else
    printf '    + %s\n' "$(quoted "$@")"
    "$@"
  fi
}
# Like act, for a shell function, described in words.
act_fn() {
  local what=$1
  shift
  if [ "$dry_run" = 1 ]; then
    printf '    [dry-run] %s\n' "$what"
  else
    printf '    + %s\n' "$what"
    "$@"
  fi
}
# A command that is not run, and why.
skipped() {
  local why=$1
  shift
  printf '    [skip] %s  (%s)\n' "$(quoted "$@")" "$why"
}

# The reason a system-wide command is not run, or nothing when it is to be run.
system_skip_reason() {
  if [ "$real" = 0 ]; then
    printf -- '--root %s' "$root"
  fi
}

if [ "$real" = 1 ] && [ "$dry_run" = 0 ] && [ "$(id -u)" -ne 0 ]; then
  die "run it as root: sudo bash scripts/install.sh $(quoted --role "$role") ..."
fi

printf 'Babel Intercom installer: role %s, from %s into %s%s%s\n' "$role" "$SRC" "$app" \
  "$([ "$dry_run" = 1 ] && printf ' (dry run: nothing is changed)')" \
  "$([ "$real" = 0 ] && printf ' (throwaway root %s)' "$root")"

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

# --- 4. application ------------------------------------------------------------------

step "Application in $app"
# Refuse to clear a directory that is not ours (a mistyped --prefix /usr).
if [ -d "$app" ] && [ -n "$(ls -A "$app")" ] && [ ! -e "$app/$STAMP_FILE" ] &&
  ! grep -qs '"name": *"babel-intercom"' "$app/package.json"; then
  die "$app exists and is not a Babel Intercom installation; choose another --prefix"
fi
keep=(node_modules "$STAMP_FILE")
excludes=(--exclude=./.git --exclude=./node_modules --exclude=./data "--exclude=./$STAMP_FILE")
if [ "$skip_build" = 0 ]; then
  # dist/ is rebuilt in the prefix; the old one serves until then.
  keep+=(dist)
  excludes+=(--exclude=./dist)
elif [ ! -f "$SRC/dist/hub/bin.js" ] || [ ! -f "$SRC/dist/device/bin.js" ]; then
  die "--skip-build copies the checkout's dist/, which is incomplete: run npm run build first"
fi
copy_app() {
  mkdir -p "$app"
  [ -e "$app/$STAMP_FILE" ] || : >"$app/$STAMP_FILE"
  local prune=(find "$app" -mindepth 1 -maxdepth 1) k
  for k in "${keep[@]}"; do prune+=(! -name "$k"); done
  "${prune[@]}" -exec rm -rf {} +
  tar -C "$SRC" "${excludes[@]}" -cf - . | tar -C "$app" --no-same-owner -xf -
  # The services run as babel: everything readable, nothing writable but by root.
  chmod -R u+rwX,go+rX,go-w "$app"
}
act_fn "copy $SRC to $app (without .git, node_modules, data$([ "$skip_build" = 0 ] && printf ', dist'))" copy_app

# --- 5. build ------------------------------------------------------------------------

step "Node dependencies and build"
# What the build depends on: every file copied, and the Node.js that compiles the addons.
build_stamp() {
  {
    printf '%s %s\n' "$node_version" "$(uname -m)"
    (cd "$app" && find . -path ./node_modules -prune -o -path ./dist -prune -o -type f \
      ! -name "$STAMP_FILE" -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}
if [ "$skip_build" = 1 ]; then
  skipped --skip-build npm ci
  skipped --skip-build npm run build
  note "dist/ copied from the checkout"
elif [ "$dry_run" = 1 ]; then
  act_fn "cd $app" true
  act npm ci --no-audit --no-fund
  act npm run build
  act npm prune --omit=dev --no-audit --no-fund
else
  stamp=$(build_stamp)
  if [ "$(cat "$app/$STAMP_FILE")" = "$stamp" ] && [ -f "$app/dist/hub/bin.js" ] &&
    [ -d "$app/node_modules" ]; then
    note "up to date (nothing changed since the last build)"
  else
    : >"$app/$STAMP_FILE"
    note "cd $app  (native addons compile from source: 10-20 minutes on a Pi 3 or 4)"
    (
      cd "$app"
      act npm ci --no-audit --no-fund
      act rm -rf dist
      act npm run build
      act npm prune --omit=dev --no-audit --no-fund
    )
    chmod -R u+rwX,go+rX,go-w "$app"
    printf '%s\n' "$stamp" >"$app/$STAMP_FILE"
  fi
fi

# --- 6. units ------------------------------------------------------------------------

step "systemd units in $unit_dir"
# The repository's unit with this installation's paths and this system's groups.
render_unit() {
  local unit=$1
  sed -e "s|/opt/babel-intercom|$prefix|g" \
    -e "s|^ExecStart=/usr/bin/node |ExecStart=$node_bin |" \
    -e "s|^SupplementaryGroups=.*|SupplementaryGroups=${groups[*]}|" \
    "$SRC/systemd/$unit.service"
}
install_text() { # FILE MODE: writes stdin to FILE (atomically) with MODE
  local file=$1 mode=$2 tmp
  mkdir -p "$(dirname "$file")"
  tmp=$(mktemp "$file.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$file"
}
# Writes CONTENT to FILE unless it already has exactly that content.
put_file() {
  local file=$1 mode=$2 content=$3
  if [ -f "$file" ] && [ "$(cat "$file")" = "$content" ]; then
    note "unchanged $file"
    return
  fi
  local verb=install
  [ -e "$file" ] && verb=update
  act_fn "$verb $file" install_text "$file" "$mode" <<<"$content"
}
for u in "${units[@]}"; do
  put_file "$unit_dir/$u.service" 0644 "$(render_unit "$u")"
done

# --- 7. commands ---------------------------------------------------------------------

step "Commands babel-hub and babel-device in $bin_dir"
for cmd in hub device; do
  put_file "$bin_dir/babel-$cmd" 0755 "#!/bin/sh
# babel-$cmd, installed by Babel Intercom's scripts/install.sh.
exec $node_bin $prefix/dist/$cmd/bin.js \"\$@\""
done

# --- 8. configuration ----------------------------------------------------------------

step "Configuration in $etc_dir"
render_config() {
  local kind=$1
  if [ "$kind" = device ]; then
    # --hub and --name are checked above: no | & \ or quotes can reach sed or YAML.
    local expr=()
    [ -z "$hub" ] || expr+=(-e "s|^hub: .*|hub: '$hub'|")
    [ -z "$name" ] || expr+=(-e "s|^#name: .*|name: $name|")
    if [ "${#expr[@]}" -eq 0 ]; then
      cat "$SRC/scripts/templates/device.yaml"
    else
      sed "${expr[@]}" "$SRC/scripts/templates/device.yaml"
    fi
  else
    cat "$SRC/scripts/templates/hub.yaml"
  fi
}
owner_babel() { # FILE: group babel, so the services read what others may not
  if [ "$real" = 1 ] && getent group babel >/dev/null; then chown root:babel "$1"; fi
}
write_config() {
  local file=$1 kind=$2
  render_config "$kind" | install_text "$file" 0640
  owner_babel "$file"
}
[ -d "$etc_dir" ] || act mkdir -p -m 0755 "$etc_dir"
for kind in hub device; do
  [ "$kind" = hub ] && [ "$role" = device ] && continue
  [ "$kind" = device ] && [ "$role" = hub ] && continue
  file=$etc_dir/$kind.yaml
  if [ -e "$file" ]; then
    note "kept $file (it exists: never overwritten)"
    if [ "$kind" = device ] && { [ -n "$hub" ] || [ -n "$name" ]; }; then
      note "  --hub and --name only fill in a new file: edit $file to change them"
    fi
  else
    desc="write $file from scripts/templates/$kind.yaml"
    if [ "$kind" = device ]; then
      [ -z "$hub" ] || desc+=", hub: $hub"
      [ -z "$name" ] || desc+=", name: $name"
    fi
    act_fn "$desc" write_config "$file" "$kind"
  fi
done
# The hub's database directory exists before the first start, so that
# `sudo -u babel babel-hub user add` works at once; systemd adopts it (StateDirectory).
if [ "$role" != device ] && [ ! -d "$state_dir/babel" ]; then
  act mkdir -p -m 0750 "$state_dir/babel"
  why=$(system_skip_reason)
  if [ -n "$why" ]; then
    skipped "$why" chown babel:babel "$state_dir/babel"
  else
    act chown babel:babel "$state_dir/babel"
  fi
fi

# --- 9. services ---------------------------------------------------------------------

step "Services"
why=$(system_skip_reason)
if [ -z "$why" ] && [ ! -d /run/systemd/system ]; then
  why="systemd is not running here"
fi
if [ -n "$why" ]; then
  skipped "$why" systemctl daemon-reload
  for u in "${units[@]}"; do skipped "$why" systemctl enable --now "$u"; done
else
  act systemctl daemon-reload
  for u in "${units[@]}"; do
    if systemctl is-active --quiet "$u"; then
      act systemctl enable "$u"
      act systemctl restart "$u"
    else
      act systemctl enable --now "$u"
    fi
  done
fi

# --- 10. next steps ------------------------------------------------------------------

step "Next steps"
dev_name=${name:-$(hostname 2>/dev/null | tr '[:upper:]' '[:lower:]')}
dev_name=${dev_name:-NAME}
if [ "$role" != hub ]; then
  cat <<EOF
    1. Choose the sound card: babel-device --list-audio, then set capture: and playback:
       in /etc/babel/device.yaml (README: "Choosing the sound card").
    2. Set button: (README: "Wiring a button") and target: (whom a press calls).
EOF
fi
if [ "$role" = device ]; then
  cat <<EOF
    3. On the hub, create this device's account; it prints the secret:
         sudo -u babel babel-hub user add $dev_name --config /etc/babel/hub.yaml
       ("already exists": the device registered itself first; then use
         sudo -u babel babel-hub user secret $dev_name --config /etc/babel/hub.yaml)
       and put it into /etc/babel/device.yaml here:  secret: <the secret>
    4. sudo systemctl restart babel-device
       journalctl -u babel-device -f    shows "registered with the hub"
EOF
elif [ "$role" = both ]; then
  cat <<EOF
    3. For each other Pi, create its account here (prints the secret to put into its
       device.yaml):  sudo -u babel babel-hub user add door --config /etc/babel/hub.yaml
    4. sudo systemctl restart babel-device
       systemctl status babel-hub babel-device
EOF
else
  cat <<EOF
    1. For each device, create its account (prints the secret for its device.yaml):
         sudo -u babel babel-hub user add door --config /etc/babel/hub.yaml
    2. systemctl status babel-hub;  journalctl -u babel-hub -f
EOF
fi
if [ "$dry_run" = 1 ]; then
  printf '\nDry run: nothing was changed.\n'
else
  printf '\nDone.\n'
fi
