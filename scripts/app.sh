#!/usr/bin/env bash
# Runs the Starling desktop app: installs what is missing (Debian packages
# for WebKitGTK, the UI's npm packages), builds the UI and the app, and
# starts it. On a machine with no display it says so and points to the CLI.
# Extra arguments are ignored; STARLING_HOME picks another profile folder.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat <<'MSG'
There is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set), so the
desktop app cannot open a window. Use the command line instead:

    bash scripts/demo.sh          # two people post and follow each other
    cargo run --release -p starling-cli -- --help

or run the app under a virtual screen to see it: xvfb-run -a bash scripts/app.sh
MSG
  exit 0
fi
source scripts/deps.sh
starling_need_apt
echo "building the UI (npm ci, vite build)"
starling_build_ui
echo "building the app (cargo build --release; the first build takes several minutes)"
cargo build --release -p starling-app
target="${CARGO_TARGET_DIR:-$PWD/target}"
exec "$target/release/starling-app"
