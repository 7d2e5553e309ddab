#!/usr/bin/env bash
# A network simulator for Starling's tests: Linux network namespaces joined
# by veth pairs and bridges. "The internet" is a bridge; a home is a bridge
# behind a router namespace that NATs (nftables masquerade) onto it; a LAN
# is a bridge with no way out. Each device runs the real `starling` binary
# in its own namespace with its own home. Needs root (CI is root); when it
# cannot make namespaces it says so and skips.
#
#   bash scripts/netsim.sh [lan|nat|move|relay|flock|dht|bench|link|all]...   (default: all)
#
# Scenarios:
#   lan  two devices on one LAN with no internet find each other by mDNS,
#        knowing only each other's identity (no address in the ticket),
#        and sync.
#   nat  two devices behind two NAT routers reach each other through a
#        relay run with `starling relay` on the simulated internet, sync,
#        and report whether their sessions went direct (hole punching) or
#        stayed relayed.
#   move a device changes network while its node runs; its follower
#        reaches it again without a new ticket.
#   relay the relay goes down (nothing passes: the routers let UDP out
#        only to it) and comes back; the nodes reconnect by themselves.
#   flock 30 nodes in 5 NATed homes with a random follow graph: a post
#        reaches every follower (time and bytes sent per node are
#        printed); a node offline while 500 posts were made catches up.
#   dht  a device moves; its follower behind a NAT finds it again by its
#        key through a private Mainline DHT (`starling dht-node`), with
#        relays off and no mDNS.
#   bench (a benchmark, not in `all`) post-to-arrival time, direct and
#        through the relay, p50 and p99.
#   link (a benchmark, not in `all`) catch-up of 10,000 entries over a
#        20 Mbit/s link (tc tbf) against the link's rate.
# Every wait is bounded; every namespace is removed on exit. NETSIM_KEEP=DIR
# keeps each scenario's node logs in DIR/<scenario>.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${STARLING_BIN:-${CARGO_TARGET_DIR:-target}/debug/starling}
BIN=$(readlink -f "$BIN")
P="sn$$"              # namespace prefix, unique per run
WORK=$(mktemp -d)
PIDS=()
N=0

cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  sleep 0.2
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ] || ! ip netns add "${P}probe" 2>/dev/null; then
  echo "netsim: cannot create network namespaces here (needs root and ip netns): skipped"
  exit 0
fi
ip netns del "${P}probe"
if ! command -v nft >/dev/null 2>&1; then
  echo "netsim: nft (Debian package nftables) is missing" >&2
  exit 1
fi
[ -x "$BIN" ] || { echo "netsim: no starling binary at $BIN (cargo build -p starling-cli)" >&2; exit 1; }

ns() { local n=$1; shift; ip netns exec "$P$n" "$@"; }
mkns() { ip netns add "$P$1"; ns "$1" ip link set lo up; }
# A namespace holding a bridge `br0`.
mkbridge() { mkns "$1"; ns "$1" ip link add br0 type bridge; ns "$1" ip link set br0 up; }
# Plugs namespace $2 into bridge namespace $1 as interface $3 with address $4.
plug() {
  local bridge=$1 host=$2 ifname=$3 addr=$4
  N=$((N + 1))
  ip link add "${P}a$N" type veth peer name "${P}b$N"
  ip link set "${P}a$N" netns "$P$bridge"
  ip link set "${P}b$N" netns "$P$host"
  ns "$bridge" ip link set "${P}a$N" master br0 up
  ns "$host" ip link set "${P}b$N" name "$ifname"
  ns "$host" ip addr add "$addr" dev "$ifname"
  ns "$host" ip link set "$ifname" up
}

# `starling` as device $1 (in namespace $1, home $WORK/$1).
st() {
  local dev=$1; shift
  ns "$dev" env STARLING_HOME="$WORK/$dev" STARLING_KEYCHAIN=off "$BIN" "$@"
}
# Starts `starling run` for device $1 in the background (more args after).
run_node() {
  local dev=$1; shift
  st "$dev" --json run --sync-interval 5 "$@" >"$WORK/$dev.log" 2>&1 &
  PIDS+=($!)
}
# Waits (at most $2 s) until device $1's timeline holds text $3.
wait_text() {
  local dev=$1 limit=$2 text=$3 start=$SECONDS
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    if st "$dev" --json timeline 2>/dev/null | jq -e --arg t "$text" '.posts | any(.text == $t)' >/dev/null; then
      echo $((SECONDS - start))
      return 0
    fi
    sleep 0.5
  done
  return 1
}
fail() {
  echo "netsim $1: FAIL: $2" >&2
  keep_logs "$1"
  for f in "$WORK"/*.log; do echo "--- $f"; tail -n 20 "$f"; done >&2
  exit 1
}

scenario_lan() {
  mkbridge lan
  for d in lana lanb; do mkns "$d"; done
  plug lan lana eth0 10.88.0.2/24
  plug lan lanb eth0 10.88.0.3/24
  # mDNS needs a route for multicast; there is no gateway.
  for d in lana lanb; do ns "$d" ip route add 224.0.0.0/4 dev eth0; done
  st lana init --name Ann >/dev/null
  st lanb init --name Bob >/dev/null
  st lanb post "hello over the lan" >/dev/null
  # Bob's ticket, taken before his node ever ran, names no address.
  local ticket
  ticket=$(st lanb --json ticket | jq -r .text)
  st lana follow "$ticket" >/dev/null
  [ "$(st lana --json peers | jq '[.[].addrs[]] | length')" = 0 ] ||
    fail lan "the ticket carried an address"
  run_node lanb --relay none --bind 0.0.0.0:0
  run_node lana --relay none --bind 0.0.0.0:0
  local took
  took=$(wait_text lana 60 "hello over the lan") || fail lan "Ann never got Bob's post"
  echo "netsim lan: PASS (found by mDNS and synced in ${took}s)"
}

# The simulated internet: a bridge, with our relay on it at $RELAY_URL.
RELAY_IP=10.99.0.10
RELAY_URL="http://$RELAY_IP:3340"
RELAY_PID=
make_internet() {
  mkbridge inet
  mkns relay
  plug inet relay eth0 "$RELAY_IP/24"
  start_relay
}
start_relay() {
  : >"$WORK/relay.log"
  ns relay "$BIN" --json relay --bind "$RELAY_IP:3340" >>"$WORK/relay.log" 2>&1 &
  RELAY_PID=$!
  PIDS+=("$RELAY_PID")
  local start=$SECONDS
  until grep -q relay_listening "$WORK/relay.log" 2>/dev/null; do
    [ $((SECONDS - start)) -lt 30 ] || fail relay "the relay did not start"
    sleep 0.2
  done
}
stop_relay() {
  stop_ns relay relay
  wait "$RELAY_PID" 2>/dev/null || true
}
# Stops every process in namespace $1 (at most 10 s; scenario $2 fails
# otherwise).
stop_ns() {
  ip netns pids "$P$1" | xargs -r kill
  local start=$SECONDS
  while [ -n "$(ip netns pids "$P$1")" ]; do
    [ $((SECONDS - start)) -lt 10 ] || fail "$2" "$1's processes did not stop"
    sleep 0.1
  done
}

# Home $1: a bridge `home$1` behind router `gw$1`, which NATs (nftables
# masquerade) onto the internet from 10.99.0.(10+$1) and lets in only what
# answers traffic from inside. With $2 = strict, UDP goes out only to the
# relay (no hole punching: every session stays relayed).
make_home() {
  local i=$1 strict=${2:-}
  mkbridge "home$i"
  mkns "gw$i"
  plug inet "gw$i" wan "10.99.0.$((10 + i))/24"
  plug "home$i" "gw$i" lan "192.168.$i.1/24"
  ns "gw$i" sysctl -qw net.ipv4.ip_forward=1
  local only_relay=""
  [ "$strict" = strict ] && only_relay="iifname \"lan\" meta l4proto udp ip daddr != $RELAY_IP drop"
  ns "gw$i" nft -f - <<EOF
table ip nat {
  chain postrouting {
    type nat hook postrouting priority 100;
    oifname "wan" masquerade
  }
}
table ip filter {
  chain forward {
    type filter hook forward priority 0; policy drop;
    $only_relay
    iifname "lan" oifname "wan" accept
    ct state established,related accept
  }
}
EOF
}
# Device $2 in home $1 at 192.168.$1.$3.
add_device() {
  local i=$1 dev=$2 host=$3
  mkns "$dev"
  plug "home$i" "$dev" eth0 "192.168.$i.$host/24"
  ns "$dev" ip route add default via "192.168.$i.1"
}
# Starts device $1's node on our relay, without mDNS, and waits (at most
# 30 s) until it has the relay as its home relay.
run_on_relay() {
  run_stamped "$1" --sync-interval "${SYNC_EVERY:-5}"
  wait_relay "$1"
}
wait_relay() {
  local dev=$1 start=$SECONDS
  until grep -q "\"relay\":\"$RELAY_URL" "$WORK/$dev.log" 2>/dev/null; do
    [ $((SECONDS - start)) -lt 30 ] || fail relay "$dev's node never reached the relay"
    sleep 0.2
  done
}
# Device $1's feed ticket.
ticket_of() { st "$1" --json ticket | jq -r .text; }
# How the sessions in the logs of devices $@ went, by path.
paths_of() {
  local d
  for d in "$@"; do sed -E 's/^[0-9]+ //' "$WORK/$d.log"; done |
    jq -r 'select(.kind == "synced") | .path // "none"' 2>/dev/null | sort | uniq -c | tr -s ' ' | paste -sd, -
}
# Ann ($1) follows Bob ($2) by his ticket; both run on our relay; Bob's
# post $3 reaches Ann.
meet() {
  local ann=$1 bob=$2 text=$3
  st "$ann" init --name Ann >/dev/null
  st "$bob" init --name Bob >/dev/null
  st "$bob" post "$text" >/dev/null
  run_on_relay "$bob"
  st "$ann" follow "$(ticket_of "$bob")" >/dev/null
  run_on_relay "$ann"
  wait_text "$ann" 60 "$text" >/dev/null || fail meet "$ann never got $bob's first post"
}

scenario_nat() {
  make_internet
  make_home 1
  make_home 2
  add_device 1 dev1 2
  add_device 2 dev2 2
  # The two homes cannot reach each other's private addresses.
  if ns dev1 ping -c1 -W1 192.168.2.2 >/dev/null 2>&1; then fail nat "home 2 is reachable from home 1"; fi
  st dev1 init --name Ann >/dev/null
  st dev2 init --name Bob >/dev/null
  st dev2 post "hello through two routers" >/dev/null
  # Bob's node takes the relay as its home relay, and says so.
  run_on_relay dev2
  # His ticket now names his private address (useless from home 1) and
  # the relay.
  st dev1 follow "$(ticket_of dev2)" >/dev/null
  # Only addresses a device could dial are kept (never 0.0.0.0).
  st dev1 --json peers | jq -e '[.[].addrs[]] | all(startswith("0.0.0.0") | not) and length > 0' >/dev/null ||
    fail nat "the ticket's addresses: $(st dev1 --json peers)"
  run_on_relay dev1
  local took
  took=$(wait_text dev1 60 "hello through two routers") || fail nat "Ann never got Bob's post"
  # Which path the sessions took: relayed first; hole punching through two
  # masquerading routers may then find a direct one (the periodic
  # catch-ups, every 5 s, report it).
  local paths start=$SECONDS
  while [ $((SECONDS - start)) -lt 20 ]; do
    paths=$(paths_of dev1 dev2)
    case "$paths" in *direct*) break ;; esac
    sleep 1
  done
  [ -n "$paths" ] || fail nat "no session reported"
  # `starling peers` says the same, with the round trip.
  st dev1 --json peers | jq -e '.[0].path != null and (.[0].rtt_ms | type) == "number"' >/dev/null ||
    fail nat "peers shows no path: $(st dev1 --json peers)"
  echo "netsim nat: PASS (through the relay behind two NATs in ${took}s; sessions by path:${paths}; Ann's peers: $(st dev1 --json peers | jq -c '[.[] | {path, rtt_ms}]'))"
}

# (c) A device changes network while its node runs (from home 2 to home 3:
# a new private address behind a router with a new public one); its
# follower reaches it again without a new ticket.
scenario_move() {
  make_internet
  make_home 1
  make_home 2
  make_home 3
  add_device 1 ann 2
  add_device 2 bob 2
  meet ann bob "before the move"
  # Bob moves: his interface in home 2 goes, one in home 3 comes.
  ns bob ip link set eth0 down
  ns bob ip addr flush dev eth0
  plug home3 bob eth1 192.168.3.7/24
  ns bob ip route replace default via 192.168.3.1
  if ns bob ip -4 addr show | grep -q 192.168.2.; then fail move "Bob still has his address in home 2"; fi
  if ns bob ping -c1 -W1 192.168.2.1 >/dev/null 2>&1; then fail move "Bob still reaches home 2's router"; fi
  ns bob ping -c1 -W2 "$RELAY_IP" >/dev/null 2>&1 || fail move "Bob does not reach the internet from home 3"
  st bob post "after the move" >/dev/null
  local took
  took=$(wait_text ann 90 "after the move") || fail move "Ann never got Bob's post from his new network"
  echo "netsim move: PASS (Bob's post from his new network reached Ann in ${took}s, no new ticket)"
}

# (4) Found by key with no relay and no server of ours: a private
# Mainline DHT (`starling dht-node`) on the simulated internet. Bob sits on
# the internet itself, Ann behind a NAT (Bob cannot dial her), relays off,
# no mDNS. Bob moves to a new address; Ann, whose stored address for him
# is stale, finds the new one in the DHT (his signed record) and gets his
# post. Then the same move without the DHT: Ann does not find him.
DHT_IP=10.99.0.20
scenario_dht() {
  make_internet
  mkns dht
  plug inet dht eth0 "$DHT_IP/24"
  ns dht "$BIN" --json dht-node --announce "$DHT_IP:6881" --nodes 8 >"$WORK/dht.log" 2>&1 &
  PIDS+=($!)
  local start=$SECONDS
  until grep -q dht_listening "$WORK/dht.log" 2>/dev/null; do
    [ $((SECONDS - start)) -lt 30 ] || fail dht "the DHT nodes did not start"
    sleep 0.2
  done
  make_home 1
  add_device 1 ann 2
  mkns bob
  plug inet bob eth0 10.99.0.50/24
  st ann init --name Ann >/dev/null
  st bob init --name Bob >/dev/null
  st bob post "before the move" >/dev/null
  local net=(--relay none --no-local-discovery --bind 0.0.0.0:0 --sync-interval 5)
  dht_node() { run_logged "$1" "${net[@]}" --dht-bootstrap "$DHT_IP:6881"; }
  dht_node bob
  # Bob's ticket names his address on the internet (once his node ran).
  local ticket_start=$SECONDS ticket
  while :; do
    ticket=$(ticket_of bob)
    st ann follow "$ticket" >/dev/null
    st ann --json peers | jq -e '[.[].addrs[]] | any(startswith("10.99.0.50"))' >/dev/null && break
    [ $((SECONDS - ticket_start)) -lt 20 ] || fail dht "Bob's ticket never named his address"
    sleep 0.5
  done
  dht_node ann
  wait_text ann 60 "before the move" >/dev/null || fail dht "Ann never got Bob's first post"
  # Bob moves: a new address on a new interface, the old one gone.
  ns bob ip link set eth0 down
  ns bob ip addr flush dev eth0
  plug inet bob eth1 10.99.0.60/24
  if ns bob ip -4 addr show | grep -q 10.99.0.50; then fail dht "Bob still has his old address"; fi
  st bob post "after the move" >/dev/null
  local took
  # (Bob's DHT client keeps the write tokens of its first publish for five
  # minutes; from his new address they are refused, so his new record
  # lands at the first republish after that: n0-mainline's cache.)
  took=$(wait_text ann 480 "after the move") || fail dht "Ann never found Bob at his new address"
  # (The peers table keeps the address the ticket named; the one found in
  # the DHT lives in the endpoint.) The session went direct: no relay.
  st ann --json peers | jq -e 'all(.path == "direct")' >/dev/null ||
    fail dht "Ann's sessions with Bob were not direct: $(st ann --json peers)"
  # The control: Ann's node again without the DHT, and Bob moves once
  # more: his next post does not reach her.
  stop_ns ann dht
  run_logged ann "${net[@]}"
  ns bob ip link set eth1 down
  ns bob ip addr flush dev eth1
  plug inet bob eth2 10.99.0.70/24
  st bob post "after the second move" >/dev/null
  if wait_text ann 30 "after the second move" >/dev/null; then
    fail dht "Ann found Bob without the DHT (the scenario tests nothing)"
  fi
  echo "netsim dht: PASS (relays off, no mDNS: Bob's post from his new address reached Ann in ${took}s, found through a private Mainline DHT of 8 nodes; without the DHT, his post after a second move did not reach her in 30 s)"
}

# (e) The relay goes down and comes back; the nodes reconnect by
# themselves. The homes let UDP out only to the relay, so it is the only
# path: while it is down nothing passes.
scenario_relay_restart() {
  make_internet
  make_home 1 strict
  make_home 2 strict
  add_device 1 ann 2
  add_device 2 bob 2
  meet ann bob "while the relay is up"
  case "$(paths_of ann bob)" in *direct*) fail relay "a direct path through routers that let no UDP through: $(paths_of ann bob)" ;; esac
  stop_relay
  st bob post "while the relay is down" >/dev/null
  if wait_text ann 8 "while the relay is down" >/dev/null; then fail relay "a post passed with the relay down"; fi
  start_relay
  local took
  took=$(wait_text ann 120 "while the relay is down") || fail relay "the nodes never came back through the restarted relay"
  echo "netsim relay: PASS (relay down: nothing passed; back up: Bob's post reached Ann ${took}s later; sessions by path:$(paths_of ann bob))"
}

# Starts device $1's node on our relay with each output line stamped with
# the time it arrived (µs since the epoch), into $WORK/$1.log.
run_stamped() {
  local dev=$1; shift
  run_logged "$dev" --relay "$RELAY_URL" --no-local-discovery --bind 0.0.0.0:0 "$@"
}
# Starts `starling run` for device $1 with the arguments after it,
# stamping its log lines (µs).
run_logged() {
  local dev=$1; shift
  (st "$dev" --json run "$@" 2>&1 |
    while IFS= read -r line; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$line"; done) >>"$WORK/$dev.log" &
  PIDS+=($!)
}
# Bytes device $1 has sent on its interface.
tx_bytes() { ns "$1" cat /sys/class/net/eth0/statistics/tx_bytes; }
# The sum of tx_bytes over devices $@.
tx_total() { local d t=0; for d in "$@"; do t=$((t + $(tx_bytes "$d"))); done; echo $t; }
# When (µs) device $1's log first shows new entries arriving after $2.
first_arrival() {
  awk -v t0="$2" '$1 >= t0 && /"accepted":[1-9]/ && /"kind":"(received|synced)"/ { print $1; exit }' "$WORK/$1.log"
}
# The device that handed device $1 those entries (the gossip neighbour or
# catch-up peer of that first arrival after $2).
first_sender() {
  awk -v t0="$2" '$1 >= t0 && /"accepted":[1-9]/ && /"kind":"(received|synced)"/ {
    if (match($0, /"peer":"[0-9a-f]+"/)) print substr($0, RSTART + 8, RLENGTH - 9); exit }' "$WORK/$1.log"
}
# The $2-th percentile of the numbers on standard input.
percentile() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR * p + 99) / 100); if (i < 1) i = 1; print v[i] }'; }

# (d) A flock: 30 nodes in 5 NATed homes, our relay on the internet. Every
# node follows the first one and three others at random (a fixed seed).
# A post of the first node reaches all its followers; a follower that was
# offline while 500 posts were made catches up when it returns. Prints the
# time to reach all followers and the bytes each node sent.
scenario_flock() {
  local homes=5 per_home=6 i j d
  make_internet
  local all=()
  for i in $(seq 1 $homes); do
    make_home "$i"
    for j in $(seq 1 $per_home); do
      d="n$i$j"
      add_device "$i" "$d" $((10 + j))
      all+=("$d")
    done
  done
  local first=${all[0]} n=${#all[@]}
  for d in "${all[@]}"; do st "$d" init --name "$d" >/dev/null & done
  wait_children
  st "$first" post "hello from the first" >/dev/null
  for d in "${all[@]}"; do run_stamped "$d" --sync-interval 30; done
  for d in "${all[@]}"; do wait_relay "$d"; done
  declare -A ticket
  for d in "${all[@]}"; do ticket[$d]=$(ticket_of "$d"); done
  RANDOM=42
  local followers=() others k
  for d in "${all[@]:1}"; do
    followers+=("$d")
    st "$d" follow "${ticket[$first]}" >/dev/null
    others=" $first $d "
    while [ "$(wc -w <<<"$others")" -lt 5 ]; do
      k=${all[$((RANDOM % n))]}
      case "$others" in *" $k "*) continue ;; esac
      st "$d" follow "${ticket[$k]}" >/dev/null
      others+="$k "
    done
  done
  # Every follower has the first node's earlier post: they all met.
  for d in "${followers[@]}"; do
    wait_text "$d" 120 "hello from the first" >/dev/null || fail flock "$d never got the first node's earlier post"
  done
  # Who is who, to follow each post's path back to its author.
  declare -A name_of
  for d in "${all[@]}"; do name_of[$(st "$d" --json whoami | jq -r .device)]=$d; done
  # A quiet window to measure what the flock sends when nothing is new:
  # as long as the periodic sync interval, so that each window holds one
  # round of those.
  local window=30 posts=10 quiet_from quiet_bytes
  quiet_from=$(tx_total "${all[@]}")
  sleep $window
  quiet_bytes=$(($(tx_total "${all[@]}") - quiet_from))
  # A window as long with $posts posts of 1,000 bytes of text: the first
  # is timed to every follower, the rest follow it.
  local text bytes_from t0
  text="flock post $(head -c 989 /dev/zero | tr '\0' x)"
  bytes_from=$(tx_total "${all[@]}")
  t0=${EPOCHREALTIME/./}
  st "$first" post "$text" >/dev/null
  for d in "${followers[@]}"; do
    wait_text "$d" 90 "$text" >/dev/null || fail flock "$d never got the flock post"
  done
  for k in $(seq 2 $posts); do
    st "$first" post "flock post $k $(head -c 987 /dev/zero | tr '\0' x)" >/dev/null
  done
  local post_s=$(((${EPOCHREALTIME/./} - t0) / 1000))
  if [ "$post_s" -lt $((window * 1000)) ]; then
    sleep "$(awk -v ms=$((window * 1000 - post_s)) 'BEGIN { printf "%.3f", ms / 1000 }')"
  fi
  local post_bytes=$(($(tx_total "${all[@]}") - bytes_from))
  # Time to each follower, and the gossip hops it took: the chain of
  # senders of each first arrival, back to the author.
  local lat=() t
  declare -A from hops_of
  for d in "${followers[@]}"; do
    t=$(first_arrival "$d" "$t0")
    [ -n "$t" ] || fail flock "$d's log shows no arrival"
    lat+=($(((t - t0) / 1000)))
    from[$d]=${name_of[$(first_sender "$d" "$t0")]:-?}
  done
  local h c by_hops=()
  for d in "${followers[@]}"; do
    h=0 c=$d
    while [ "$c" != "$first" ] && [ "$c" != "?" ] && [ $h -le $n ]; do c=${from[$c]:-?}; h=$((h + 1)); done
    [ "$c" = "$first" ] || fail flock "$d's post came by a path that does not lead back to the author"
    hops_of[$d]=$h
  done
  local p50 p99 max i
  p50=$(printf '%s\n' "${lat[@]}" | percentile 50)
  p99=$(printf '%s\n' "${lat[@]}" | percentile 99)
  max=$(printf '%s\n' "${lat[@]}" | percentile 100)
  for h in $(printf '%s\n' "${hops_of[@]}" | sort -n | uniq); do
    local at=()
    for i in "${!followers[@]}"; do [ "${hops_of[${followers[$i]}]}" = "$h" ] && at+=("${lat[$i]}"); done
    by_hops+=("$h hop(s): ${#at[@]} followers, p50 $(printf '%s\n' "${at[@]}" | percentile 50) ms, last $(printf '%s\n' "${at[@]}" | percentile 100) ms")
  done
  local per_node_post=$(((post_bytes - quiet_bytes) / n / posts))
  # A follower goes offline; the first node makes 500 posts; it returns.
  local away=${followers[-1]}
  ip netns pids "$P$away" | xargs -r kill
  sleep 1
  for k in $(seq 1 500); do st "$first" post "burst $k" >/dev/null; done
  local back=${EPOCHREALTIME/./}
  run_stamped "$away" --sync-interval 30
  local start=$SECONDS got=0
  while [ $((SECONDS - start)) -lt 180 ]; do
    got=$(st "$away" --json timeline --limit 600 2>/dev/null | jq '[.posts[] | select(.text | startswith("burst "))] | length' || echo 0)
    [ "$got" = 500 ] && break
    sleep 1
  done
  [ "$got" = 500 ] || fail flock "the returning node holds $got of 500 posts"
  local caught=$(((${EPOCHREALTIME/./} - back) / 1000))
  echo "netsim flock: PASS ($n nodes in $homes homes; a post reached all ${#followers[@]} followers: p50 ${p50} ms, p99 ${p99} ms, last ${max} ms; by gossip hops: $(IFS=';'; echo "${by_hops[*]}"); bytes sent per node: $((quiet_bytes / n / window)) per second while quiet, ${per_node_post} more per ${#text}-byte post (${window} s with ${posts} posts against ${window} s without); a node back after 500 posts held them all ${caught} ms after it started)"
}

# Waits for this shell's background jobs started since the last call
# (the nodes keep running: only `init`s are waited for).
wait_children() {
  local job
  for job in $(jobs -p); do
    case " ${PIDS[*]:-} " in *" $job "*) ;; *) wait "$job" ;; esac
  done
}

# A benchmark, not a test (not in `all`): how long a post takes from
# `starling post` on one device to its arrival at a follower's running
# node, 30 times, on a direct path (two devices on one home's LAN,
# addresses in their tickets) and through our relay (two strict homes:
# UDP goes out only to the relay). Prints p50 and p99 of each and their
# ratio. Use a release binary: STARLING_BIN=target/release/starling.
latency_of() {
  local author=$1 reader=$2 k t0 t out=()
  for k in $(seq 1 30); do
    t0=${EPOCHREALTIME/./}
    st "$author" post "timed $k" >/dev/null
    local start=$SECONDS
    t=""
    while [ -z "$t" ]; do
      [ $((SECONDS - start)) -lt 30 ] || fail bench "post $k never arrived"
      sleep 0.02
      t=$(first_arrival "$reader" "$t0")
    done
    out+=($(((t - t0) / 1000)))
    sleep 0.3
  done
  printf '%s\n' "${out[@]}"
}
scenario_bench() {
  make_internet
  make_home 1
  make_home 2 strict
  make_home 3 strict
  add_device 1 da 2
  add_device 1 db 3
  add_device 2 ra 2
  add_device 3 rb 2
  # Periodic catch-ups every 30 s: what is timed is the live path.
  SYNC_EVERY=30 meet da db "hello"
  SYNC_EVERY=30 meet ra rb "hello"
  local direct relayed
  direct=$(latency_of db da)
  relayed=$(latency_of rb ra)
  case "$(paths_of da db)" in *relay*) fail bench "the LAN pair went through the relay: $(paths_of da db)" ;; esac
  case "$(paths_of ra rb)" in *direct*) fail bench "the strict pair found a direct path: $(paths_of ra rb)" ;; esac
  local d50 d99 r50 r99
  d50=$(percentile 50 <<<"$direct")
  d99=$(percentile 99 <<<"$direct")
  r50=$(percentile 50 <<<"$relayed")
  r99=$(percentile 99 <<<"$relayed")
  echo "netsim bench: post to arrival over 30 posts: direct p50 ${d50} ms, p99 ${d99} ms; through the relay p50 ${r50} ms, p99 ${r99} ms; relay/direct p50 $(awk -v a="$r50" -v b="$d50" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }')"
}

# A benchmark, not a test (not in `all`): catch-up of 10,000 entries over
# a link capped at 20 Mbit/s (`tc tbf` on the serving device's egress),
# against the link's rate. The serving device mirrors 100 synthetic
# authors' 10,000 posts (made by the `seed` example); the other follows
# the same authors and holds only their certificates, and catches up with
# one `starling sync --once`. A second sync, already in step, gives the
# fixed cost (process start, connection) to take off. Needs
# STARLING_SEED: the seed example, built with
# `cargo build --release -p starling-core --features test-utils --example seed`.
scenario_link() {
  local seed=${STARLING_SEED:?set STARLING_SEED to the seed example binary}
  local rate=${LINK_MBIT:-20}
  mkbridge lan
  mkns src
  mkns dst
  plug lan src eth0 10.77.0.2/24
  plug lan dst eth0 10.77.0.3/24
  ns src tc qdisc add dev eth0 root tbf rate "${rate}mbit" burst 64kb latency 400ms
  STARLING_KEYCHAIN=off "$seed" "$WORK/src" 10000 >/dev/null
  STARLING_KEYCHAIN=off "$seed" "$WORK/dst" 0 >/dev/null
  run_node src --relay none --no-local-discovery --bind 10.77.0.2:4433
  local start=$SECONDS
  until grep -q '"listening"' "$WORK/src.log" 2>/dev/null; do
    [ $((SECONDS - start)) -lt 30 ] || fail link "the serving node did not start"
    sleep 0.2
  done
  st dst follow "$(ticket_of src)" >/dev/null
  local held rx0 t0 t1 rx1 t2 t3 got
  held=$(st dst --json storage | jq .entries)
  rx0=$(ns dst cat /sys/class/net/eth0/statistics/rx_bytes)
  t0=${EPOCHREALTIME/./}
  st dst --json sync --once --timeout 120 --relay none --bind 10.77.0.3:0 >"$WORK/sync1.json" ||
    fail link "the catch-up failed: $(cat "$WORK/sync1.json")"
  t1=${EPOCHREALTIME/./}
  rx1=$(ns dst cat /sys/class/net/eth0/statistics/rx_bytes)
  st dst --json sync --once --timeout 120 --relay none --bind 10.77.0.3:0 >/dev/null || fail link "the second sync failed"
  t2=${EPOCHREALTIME/./}
  st dst --json sync --once --timeout 120 --relay none --bind 10.77.0.3:0 >/dev/null || fail link "the third sync failed"
  t3=${EPOCHREALTIME/./}
  got=$(($(st dst --json storage | jq .entries) - held))
  [ "$got" -ge 10000 ] || fail link "only $got entries arrived"
  awk -v n="$got" -v b="$((rx1 - rx0))" -v t="$((t1 - t0))" -v f="$((t3 - t2))" -v r="$rate" 'BEGIN {
    s = t / 1e6; fixed = f / 1e6; net = s - fixed; link = r * 1e6 / 8
    printf "netsim link: %d entries, %.2f MB received in %.2f s over a %d Mbit/s link (%.0f entries/s, %.1f Mbit/s, %.2f of the link); an in-step sync takes %.2f s, so the transfer itself took %.2f s (%.1f Mbit/s, %.2f of the link)\n",
      n, b / 1e6, s, r, n / s, b * 8 / s / 1e6, b / s / link, fixed, net, b * 8 / net / 1e6, b / net / link
  }'
}

# Each scenario runs in its own set of namespaces.
# NETSIM_KEEP=DIR keeps every log of scenario $1 in DIR/$1.
keep_logs() {
  if [ -n "${NETSIM_KEEP:-}" ]; then mkdir -p "$NETSIM_KEEP/$1" && cp -r "$WORK"/*.log "$NETSIM_KEEP/$1"/ 2>/dev/null || true; fi
}

fresh() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  PIDS=()
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P" || true); do
    ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
  rm -rf "${WORK:?}"/*
}

run_scenario() {
  case "$1" in
    lan) scenario_lan ;;
    nat) scenario_nat ;;
    move) scenario_move ;;
    relay) scenario_relay_restart ;;
    flock) scenario_flock ;;
    bench) scenario_bench ;;
    link) scenario_link ;;
    dht) scenario_dht ;;
    *) echo "usage: $0 [lan|nat|move|relay|flock|dht|bench|link|all]..." >&2; exit 2 ;;
  esac
  keep_logs "$1"
  fresh
}

[ $# -gt 0 ] || set -- all
for s in "$@"; do
  if [ "$s" = all ]; then
    for t in lan nat move relay flock dht; do run_scenario "$t"; done
  else
    run_scenario "$s"
  fi
done
