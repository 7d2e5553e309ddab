#!/usr/bin/env bash
# Runs the keychain tests against a real Secret Service: gnome-keyring in a
# private D-Bus session, its login keyring made (and unlocked) in a
# temporary folder, so nothing touches the user's own keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "error: needs dbus-run-session and gnome-keyring-daemon (Debian: dbus-daemon, gnome-keyring)" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
dbus-run-session -- bash -c '
  set -euo pipefail
  eval "$(printf starling-test | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  cargo test -p starling-cli --test keychain -- --include-ignored --test-threads=1
'
