# shellcheck shell=bash
# scripts/install.sh, steps 9-10: the services enabled and (re)started, and what to do next.
# Sourced by install.sh, in order, sharing its variables; not a program of its own.

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
dev_name=${device_name:-${name:-$(hostname 2>/dev/null | tr '[:upper:]' '[:lower:]')}}
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
    3. The hub's registration is closed: give this device an account there, either way:
       a) on the hub:  sudo -u babel babel-hub pair --config /etc/babel/hub.yaml
          then, within its 10 minutes, here:  sudo systemctl restart babel-device
          (this device creates its account $dev_name itself, with the secret it made
          and keeps in /var/lib/babel-device/secret)
       b) or on the hub:  sudo -u babel babel-hub user add $dev_name --config /etc/babel/hub.yaml
          and put the secret it prints into /etc/babel/device.yaml here:  secret: <the secret>
          ("already exists": sudo -u babel babel-hub user secret $dev_name --config /etc/babel/hub.yaml
          makes a new one)
    4. sudo systemctl restart babel-device
       journalctl -u babel-device -f    shows "registered with the hub"
EOF
elif [ "$role" = both ]; then
  cat <<EOF
    3. This device's account $dev_name is on this hub, its secret in /etc/babel/device.yaml.
       For each other Pi, run its installer with --role device, then open a pairing window
       here:  sudo -u babel babel-hub pair --config /etc/babel/hub.yaml
       or create its account here (prints the secret to put into its device.yaml):
         sudo -u babel babel-hub user add door --config /etc/babel/hub.yaml
    4. sudo systemctl restart babel-device
       systemctl status babel-hub babel-device
EOF
else
  cat <<EOF
    1. For each device, open a pairing window (10 minutes in which devices create their
       own accounts):  sudo -u babel babel-hub pair --config /etc/babel/hub.yaml
       or create its account (prints the secret for its device.yaml):
         sudo -u babel babel-hub user add door --config /etc/babel/hub.yaml
    2. systemctl status babel-hub;  journalctl -u babel-hub -f
EOF
fi
if [ "$dry_run" = 1 ]; then
  printf '\nDry run: nothing was changed.\n'
else
  printf '\nDone.\n'
fi
