# shellcheck shell=bash
# scripts/install.sh, steps 6-8: systemd units, the babel-hub and babel-device commands, configuration.
# Sourced by install.sh, in order, sharing its variables; not a program of its own.

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
