# shellcheck shell=bash
# scripts/install.sh, the command line: options read and checked, paths and units derived from them.
# Sourced by install.sh, in order, sharing its variables; not a program of its own.

# --- options -------------------------------------------------------------------------

role=""
hub=""
hub_fingerprint=""
name=""
prefix=/opt/babel-intercom
root=/
dry_run=0
no_apt=0
skip_build=0

while [ "$#" -gt 0 ]; do
  opt=$1
  case "$opt" in
    --role | --hub | --hub-fingerprint | --name | --prefix | --root)
      if [ "$#" -lt 2 ] || [ -z "$2" ] || [ "${2#--}" != "$2" ]; then fail_usage "$opt needs a value"; fi
      case "$opt" in
        --role) role=$2 ;;
        --hub) hub=$2 ;;
        --hub-fingerprint) hub_fingerprint=$2 ;;
        --name) name=$2 ;;
        --prefix) prefix=$2 ;;
        --root) root=$2 ;;
      esac
      shift 2
      ;;
    --role=* | --hub=* | --hub-fingerprint=* | --name=* | --prefix=* | --root=*)
      value=${opt#*=}
      [ -n "$value" ] || fail_usage "${opt%%=*} needs a value"
      case "$opt" in
        --role=*) role=$value ;;
        --hub=*) hub=$value ;;
        --hub-fingerprint=*) hub_fingerprint=$value ;;
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
# [S-3] HOST[:PORT] (TLS, 4342, unless HOST is loopback), tls://HOST[:PORT], tcp://HOST[:PORT].
if [ -n "$hub" ] && ! [[ "$hub" =~ ^((tls|tcp)://)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:]+\])(:[0-9]{1,5})?$ ]]; then
  fail_usage "--hub must be HOST or HOST:PORT (or tls://HOST[:PORT], tcp://HOST[:PORT]), e.g. kitchen.local or 192.168.1.20"
fi
# The hub's address as the device reads it: transport, host and port (hub_tls=1: TLS).
hub_tls=0
hub_host=""
hub_port=""
if [ -n "$hub" ]; then
  hub_rest=${hub#*://}
  [ "$hub_rest" != "$hub" ] || hub_rest=$hub
  if [[ "$hub_rest" =~ ^(.*):([0-9]{1,5})$ ]] && [[ "${BASH_REMATCH[1]}" != *:* || "${BASH_REMATCH[1]}" == \[*\] ]]; then
    hub_host=${BASH_REMATCH[1]}
    hub_port=${BASH_REMATCH[2]}
  else
    hub_host=$hub_rest
  fi
  hub_host=${hub_host#[}
  hub_host=${hub_host%]}
  case "$hub" in
    tls://*) hub_tls=1 ;;
    tcp://*) hub_tls=0 ;;
    *) if [[ "$hub_host" =~ ^(127\.[0-9.]+|::1|localhost)$ ]]; then hub_tls=0; else hub_tls=1; fi ;;
  esac
  if [ -z "$hub_port" ]; then
    if [ "$hub_tls" = 1 ]; then hub_port=4342; else hub_port=4242; fi
  fi
  if [ "$hub_port" -lt 1 ] || [ "$hub_port" -gt 65535 ]; then
    fail_usage "--hub: port $hub_port is out of range 1-65535"
  fi
  # Since TLS, 4242 is the hub's plaintext port, on its loopback only: a remote device
  # would knock there forever.
  if [ "$hub_tls" = 1 ] && [ "$hub_port" = 4242 ]; then
    fail_usage "--hub $hub: 4242 is the hub's plaintext port (loopback only); use --hub $hub_host (TLS, port 4342), or tcp://$hub_host:4242 to insist on plaintext"
  fi
fi
if [ -n "$hub_fingerprint" ]; then
  if [ "$role" != device ]; then
    fail_usage "--hub-fingerprint is for --role device (with --role both the device uses this Pi's hub)"
  fi
  if ! [[ "$hub_fingerprint" =~ ^sha256:[0-9A-Fa-f]{64}$ ]]; then
    fail_usage "--hub-fingerprint must be sha256: and 64 hex digits, as babel-hub fingerprint prints it on the hub"
  fi
  hub_fingerprint=sha256:$(tr '[:upper:]' '[:lower:]' <<<"${hub_fingerprint#sha256:}")
  if [ "$hub_tls" = 0 ]; then
    fail_usage "--hub-fingerprint pins a TLS hub: --hub $hub is plaintext"
  fi
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

readonly role hub hub_fingerprint hub_tls hub_host hub_port name prefix root dry_run no_apt skip_build real
readonly app=$root$prefix
readonly etc_dir=$root/etc/babel
readonly unit_dir=$root/etc/systemd/system
readonly bin_dir=$root/usr/local/bin
readonly state_dir=$root/var/lib

units=()
[ "$role" = device ] || units+=(babel-hub)
[ "$role" = hub ] || units+=(babel-device)
readonly units
