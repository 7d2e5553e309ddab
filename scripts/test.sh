#!/usr/bin/env bash
# Runs every check Starling's CI runs: the UI's type check and unit tests,
# Rust formatting, lints and tests (the keychain ones against a real Secret
# Service, the network ones in simulated homes: scripts/netsim.sh), then the
# app's end-to-end tests in a
# real window under Xvfb against CLI peers on loopback. Installs what is
# missing on a Debian/Ubuntu machine; needs a Rust toolchain (1.95 or newer,
# with clippy and rustfmt); Node.js 22 comes from `deps.sh` when the system's is older.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
starling_need_apt test

echo "== ui: npm ci, svelte-check, vitest, build"
starling_build_ui
(cd ui && npm run check --silent && npm test --silent)

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== cargo test"
# Test homes keep their secrets in files; the keychain has its own run.
STARLING_KEYCHAIN=off cargo test --workspace
echo "== netsim: real starling binaries in network namespaces (LAN by mDNS; two NATs and our relay; a private DHT)"
bash scripts/netsim.sh all
echo "== keychain: a real Secret Service in a private D-Bus session"
bash scripts/keychain-test.sh

echo "== end-to-end: the app under Xvfb"
STARLING_UI_BUILT=1 bash scripts/e2e.sh
