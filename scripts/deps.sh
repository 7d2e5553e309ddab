#!/usr/bin/env bash
# Installs what Starling needs from Debian's packages when it is missing: a
# C compiler (bundled SQLite), WebKitGTK and GTK for the Tauri app, and
# Xvfb, WebKitWebDriver and a notification daemon for the app's end-to-end
# tests. Sourced by the
# run and test scripts.
starling_need_apt() {
  local need=()
  command -v cc >/dev/null 2>&1 || need+=(build-essential)
  command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  pkg-config --exists webkit2gtk-4.1 2>/dev/null || need+=(libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev libssl-dev file)
  if [ "${1:-}" = "test" ]; then
    command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb)
    command -v xauth >/dev/null 2>&1 || need+=(xauth)
    command -v WebKitWebDriver >/dev/null 2>&1 || need+=(webkit2gtk-driver)
    command -v dbus-run-session >/dev/null 2>&1 || need+=(dbus-daemon)
    command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
    command -v nft >/dev/null 2>&1 || need+=(nftables)
    command -v ip >/dev/null 2>&1 || need+=(iproute2)
    command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
    command -v jq >/dev/null 2>&1 || need+=(jq)
    # A notification daemon for the app's system notifications, and xwd to
    # photograph the whole virtual screen (the notification is outside the
    # app's window).
    command -v dunst >/dev/null 2>&1 || need+=(dunst)
    command -v xwd >/dev/null 2>&1 || need+=(x11-apps)
    # xdotool answers the system's file dialogs (GTK's, outside the
    # webview, where WebDriver cannot reach).
    command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
  fi
  command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing from Debian's packages: ${need[*]}"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "error: no Rust toolchain; install one with rustup (https://rustup.rs), version 1.95 or newer" >&2
    return 1
  fi
  starling_need_node
}

# The Node.js release the UI's tools need at least (20 reached its end of
# life in April 2026), and the one fetched where the system's is older.
STARLING_NODE_MAJOR=22
STARLING_NODE_VERSION=22.23.5

# Puts Node.js 22 or newer first on PATH. Debian 13 packages Node 20, so
# where the system's node is older, nodejs.org's Linux build of
# $STARLING_NODE_VERSION is fetched once from the npm registry (the
# `node-linux-<arch>` package carries it; npm checks its published
# checksum) into ~/.cache/starling/node-$STARLING_NODE_VERSION.
starling_need_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$major" -ge "$STARLING_NODE_MAJOR" ] && return 0
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "error: the UI needs Node.js $STARLING_NODE_MAJOR or newer (found $(node --version 2>/dev/null || echo none))" >&2; return 1 ;;
  esac
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/starling/node-$STARLING_NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    echo "fetching Node.js $STARLING_NODE_VERSION (the system's is $(node --version 2>/dev/null || echo missing))"
    local tmp
    tmp=$(mktemp -d)
    if ! (cd "$tmp" && npm pack --silent "node-linux-$arch@$STARLING_NODE_VERSION" >/dev/null &&
      tar -xzf node-linux-*.tgz package/bin/node package/LICENSE); then
      rm -rf "$tmp"
      echo "error: could not fetch Node.js $STARLING_NODE_VERSION; install Node.js $STARLING_NODE_MAJOR or newer" >&2
      return 1
    fi
    rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mv "$tmp/package" "$dir"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
}

# Builds the UI into ui/dist (the app embeds it at compile time).
starling_build_ui() {
  (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
}
