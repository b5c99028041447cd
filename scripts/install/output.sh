# shellcheck shell=bash
# scripts/install.sh, what the installer prints, and how it runs (or, in a dry run, only shows) each action.
# Sourced by install.sh, in order, sharing its variables; not a program of its own.

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
