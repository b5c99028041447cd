# shellcheck shell=bash
# Where node-gyp finds Node's C headers. Sourced by scripts/setup.sh and by scripts/install.sh
# (install/app.sh), so both build the native addons the same way; not a program of its own.
#
# node-gyp downloads Node's headers unless told where they are. The Node.js that runs has
# them beside it (/usr/include/node for Debian's, with libnode-dev, and NodeSource's;
# <prefix>/include/node for the official tarball), so every node-gyp is pointed there and
# builds offline, against the Node.js that will load the addons.

# Prints the prefix whose include/node/node_api.h belongs to the `node` on PATH, or nothing
# (and fails) when that node has no headers beside it.
node_headers_prefix() {
  local nh_node_bin nh_prefix
  nh_node_bin=$(readlink -f "$(command -v node 2>/dev/null || echo /nonexistent)")
  nh_prefix=$(dirname "$(dirname "$nh_node_bin")")
  [ -e "$nh_prefix/include/node/node_api.h" ] || return 1
  printf '%s\n' "$nh_prefix"
}

# Exports npm_config_nodedir=<that prefix>, unless nodedir is set already (in the
# environment or in npm's own config), and says so, each line prefixed with "$1".
use_node_headers() {
  local nh_prefix
  [ -z "${npm_config_nodedir:-}${NPM_CONFIG_NODEDIR:-}" ] || return 0
  [ "$(npm config get nodedir 2>/dev/null)" = undefined ] || return 0
  nh_prefix=$(node_headers_prefix) || return 0
  export npm_config_nodedir="$nh_prefix"
  printf '%sbuilding native addons against the headers in %s/include/node\n' "$1" "$nh_prefix"
}
