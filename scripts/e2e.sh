#!/usr/bin/env bash
# The app's end-to-end tests: builds the app and the CLI, installs
# tauri-driver (2.x) if it is missing, and drives the real app with
# WebKitWebDriver under Xvfb. Screenshots land in tests/e2e/out/.
# `bash scripts/e2e.sh bench` runs the app benchmarks instead.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
tools="${STARLING_TOOLS:-$HOME/.cache/starling/tools}"
export PATH="$tools/bin:$PATH"
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "installing tauri-driver 2.x into $tools"
  cargo install tauri-driver --version '^2' --locked --root "$tools" --quiet
fi
source scripts/deps.sh
starling_need_apt test
# The app embeds ui/dist when it is compiled: build it from the sources
# unless the caller (scripts/test.sh) just did.
[ "${STARLING_UI_BUILT:-}" = 1 ] || starling_build_ui
profile=debug; flags=()
if [ "${1:-}" = "bench" ]; then profile=release; flags=(--release); fi
cargo build "${flags[@]}" -p starling-app -p starling-cli --quiet
export STARLING_APP="$target/$profile/starling-app" STARLING_BIN="$target/$profile/starling"
rm -rf tests/e2e/out
files=(tests/e2e/app.test.mjs)
if [ "${1:-}" = "bench" ]; then
  cargo build --release -p starling-core --features test-utils --example seed --quiet
  export STARLING_SEED="$target/release/examples/seed"
  files=(tests/e2e/bench.mjs)
fi
# A private D-Bus session keeps WebKitGTK quiet; a virtual screen stands in
# for a display.
bus=(); command -v dbus-run-session >/dev/null 2>&1 && bus=(dbus-run-session --)
xvfb-run -a -s "-screen 0 1280x800x24" \
  "${bus[@]}" node --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
