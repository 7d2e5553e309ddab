#!/usr/bin/env bash
# A walk through Starling's CLI: two people on one machine create identities,
# post, follow each other by ticket and exchange entries as bundle files.
# Builds the CLI first (release). Leaves the two homes in a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cc >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq build-essential pkg-config
fi
command -v cargo >/dev/null 2>&1 || { echo "error: install Rust 1.95+ with rustup first" >&2; exit 1; }

cargo build --release -p starling-cli --quiet
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/starling"
demo="$(mktemp -d -t starling-demo-XXXX)"
ann="$demo/ann"; bob="$demo/bob"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "starling $*"; "$bin" "$@"; }

run --home "$ann" init --name Ann
run --home "$bob" init --name Bob
post=$("$bin" --home "$ann" post "Hello, flock! First post from Ann." --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
say "starling --home $ann post 'Hello, flock! ...'  →  $post"
run --home "$ann" profile set --bio "Counts starlings at dusk."
ticket=$("$bin" --home "$ann" ticket)
run --home "$ann" ticket --qr
run --home "$bob" follow "$ticket"
run --home "$ann" export --out "$demo/ann.bundle"
run --home "$bob" import "$demo/ann.bundle"
run --home "$bob" like "$post"
run --home "$bob" post "Welcome, Ann!" --reply-to "$post"
run --home "$ann" follow "$("$bin" --home "$bob" ticket)"
run --home "$bob" export --out "$demo/bob.bundle"
run --home "$ann" import "$demo/bob.bundle"
run --home "$ann" timeline
run --home "$ann" thread "$post"
run --home "$ann" search flock

# Now over the network: Bob keeps a node running (loopback here), posts while
# it runs, and Ann catches up from it directly over iroh.
say "starling --home $bob run --bind 127.0.0.1:0 --no-local-discovery &"
"$bin" --home "$bob" run --bind 127.0.0.1:0 --no-local-discovery > "$demo/bob-run.log" 2>&1 &
bob_node=$!
trap 'kill $bob_node 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$demo/bob-run.log" && break; sleep 0.1; done
cat "$demo/bob-run.log"
run --home "$bob" post "Posted while my node runs."
run --home "$ann" follow "$("$bin" --home "$bob" ticket)"   # Bob's ticket now carries his address
run --home "$ann" sync --timeout 10
run --home "$ann" timeline --limit 2
run --home "$ann" peers
kill -TERM "$bob_node"; wait "$bob_node" 2>/dev/null || true
echo
echo "Homes are in $demo; try: $bin --home $ann timeline --json"
