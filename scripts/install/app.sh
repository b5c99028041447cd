# shellcheck shell=bash
# scripts/install.sh, steps 4-5: the application copied to the prefix, its dependencies and build.
# Sourced by install.sh, in order, sharing its variables; not a program of its own.

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
elif [ ! -f "$SRC/dist/hub/bin.js" ] || [ ! -f "$SRC/dist/device/bin.js" ] ||
  [ ! -f "$SRC/dist/device/babel-device.mjs" ]; then
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
# node-gyp builds against the headers of the Node.js that runs, offline, as in setup.sh.
# shellcheck source=node-headers.sh
source "$SRC/scripts/install/node-headers.sh"
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
  if [ -z "${npm_config_nodedir:-}${NPM_CONFIG_NODEDIR:-}" ] && headers=$(node_headers_prefix); then
    note "native addons build against $headers/include/node (npm_config_nodedir), unless npm's config sets nodedir"
  fi
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
      use_node_headers "    "
      act npm ci --no-audit --no-fund
      act rm -rf dist
      act npm run build
      act npm prune --omit=dev --no-audit --no-fund
    )
    chmod -R u+rwX,go+rX,go-w "$app"
    printf '%s\n' "$stamp" >"$app/$STAMP_FILE"
  fi
fi
