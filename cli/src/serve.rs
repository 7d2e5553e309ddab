//! `starling run` and `starling sync --once`: the node on the network.
//!
//! One process owns the endpoint; other `starling` commands may run against
//! the same home meanwhile, since the store is SQLite in WAL mode and every
//! write is one transaction (a post made by another process reaches peers at
//! the next catch-up).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;
use starling_core::Node;
use starling_core::net::{NetConfig, NetEvent, Peer, Relay, SharedNode};

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn emit(json: bool, value: serde_json::Value, human: String) {
    if json {
        println!("{value}");
    } else {
        println!("{human}");
    }
}

fn show(json: bool, e: &NetEvent) {
    match e {
        NetEvent::Synced {
            peer,
            initiated,
            accepted,
            rejected,
            bytes_received,
        } => emit(
            json,
            json!({"event": "synced", "peer": peer.to_string(), "initiated": initiated,
                   "accepted": accepted, "rejected": rejected, "bytes_received": bytes_received}),
            format!(
                "synced with {} ({}): {accepted} new entries, {rejected} refused, {bytes_received} bytes in",
                peer.fmt_short(),
                if *initiated {
                    "we called"
                } else {
                    "they called"
                }
            ),
        ),
        NetEvent::Progress {
            peer,
            entries,
            bytes,
            per_space,
        } => emit(
            json,
            json!({"event": "progress", "peer": peer.to_string(), "entries": entries, "bytes": bytes,
                   "spaces": per_space.iter().map(|(s, n)| json!({"space": s.to_string(), "entries": n})).collect::<Vec<_>>()}),
            format!(
                "catching up with {}: {entries} entries, {:.1} MB so far, {} spaces",
                peer.fmt_short(),
                *bytes as f64 / 1e6,
                per_space.len()
            ),
        ),
        NetEvent::SyncFailed { peer, error } => emit(
            json,
            json!({"event": "sync_failed", "peer": peer.to_string(), "error": error}),
            format!("sync with {} failed: {error}", peer.fmt_short()),
        ),
        NetEvent::Received {
            peer,
            space,
            accepted,
        } => emit(
            json,
            json!({"event": "received", "peer": peer.to_string(), "space": space.to_string(), "accepted": accepted}),
            format!(
                "received {accepted} new entries live from {} (space {})",
                peer.fmt_short(),
                space.fmt_short()
            ),
        ),
        NetEvent::Published { space, seq } => emit(
            json,
            json!({"event": "published", "space": space.to_string(), "seq": seq}),
            format!("published to space {} (up to #{seq})", space.fmt_short()),
        ),
        NetEvent::PeerUp(peer) => emit(
            json,
            json!({"event": "peer_connected", "peer": peer.to_string()}),
            format!("peer {} connected", peer.fmt_short()),
        ),
        NetEvent::PeerDown(peer) => emit(
            json,
            json!({"event": "peer_disconnected", "peer": peer.to_string()}),
            format!("peer {} disconnected", peer.fmt_short()),
        ),
        NetEvent::BlobFetched { hash, bytes } => emit(
            json,
            json!({"event": "image_fetched", "hash": hash.to_string(), "bytes": bytes}),
            format!("fetched image {} ({bytes} bytes)", hash.fmt_short()),
        ),
        _ => {}
    }
}

fn shared(node: Node) -> SharedNode {
    Arc::new(Mutex::new(node))
}

fn lock(node: &SharedNode) -> std::sync::MutexGuard<'_, Node> {
    node.lock().unwrap_or_else(|p| p.into_inner())
}

/// How `starling run` runs.
pub(crate) struct RunOptions {
    pub(crate) bind: Vec<SocketAddr>,
    pub(crate) relay: String,
    pub(crate) interval: u64,
    pub(crate) local_discovery: bool,
}

/// `starling run`.
pub(crate) fn run(node: Node, json: bool, opts: RunOptions) -> Result<()> {
    let rt = runtime()?;
    let interval = opts.interval;
    rt.block_on(async {
        let config = NetConfig {
            bind: opts.bind,
            relay: Relay::parse(&opts.relay),
            local_discovery: opts.local_discovery,
            ..NetConfig::loopback()
        };
        let node = shared(node);
        let peer = Peer::start(node.clone(), config).await?;
        // With a relay, wait (briefly) for it, so tickets made from now on
        // carry it.
        peer.online(Duration::from_secs(5)).await;
        let addr = peer.addr();
        lock(&node).set_reachable_at(&addr)?;
        let addrs: Vec<String> = addr.addrs.iter().map(|a| a.to_string()).collect();
        emit(
            json,
            json!({"event": "listening", "device": addr.device.to_string(), "addrs": addrs, "relay": addr.relay}),
            format!(
                "listening as {} on {}{}",
                addr.device,
                addrs.join(", "),
                addr.relay.as_deref().map(|r| format!(" and relay {r}")).unwrap_or_default()
            ),
        );
        if let (true, Err(why)) = (opts.local_discovery, peer.local_discovery()) {
            emit(
                json,
                json!({"event": "local_discovery_off", "reason": why}),
                format!("local discovery off: {why}"),
            );
        }
        let mut events = peer.events();
        let printer = tokio::spawn(async move {
            while let Ok(e) = events.recv().await {
                show(json, &e);
            }
        });
        let mut tick = tokio::time::interval(Duration::from_secs(interval.max(1)));
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        loop {
            #[cfg(unix)]
            let stop = async { term.recv().await };
            #[cfg(not(unix))]
            let stop = std::future::pending::<Option<()>>();
            tokio::select! {
                _ = tick.tick() => { peer.sync_known().await?; }
                _ = tokio::signal::ctrl_c() => break,
                _ = stop => break,
            }
        }
        peer.shutdown().await;
        printer.abort();
        emit(json, json!({"event": "stopped"}), "stopped".to_string());
        Ok(())
    })
}

/// `starling sync --once`.
pub(crate) fn sync_once(
    node: Node,
    json: bool,
    timeout: u64,
    relay_text: &str,
    bind: SocketAddr,
) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let config = NetConfig {
            bind: vec![bind],
            relay: Relay::parse(relay_text),
            session_timeout: Duration::from_secs(timeout.max(1)),
            live: false,
            ..NetConfig::loopback()
        };
        let node = shared(node);
        let peer = Peer::start(node.clone(), config).await?;
        let known = lock(&node).store().peers()?;
        let me = lock(&node).device();
        let mut results = Vec::new();
        let (mut accepted, mut failed) = (0u64, 0usize);
        for (p, _) in known.into_iter().filter(|(p, _)| p.device != me) {
            match peer.catch_up_with(&p).await {
                Ok(r) => {
                    accepted += r.import.accepted;
                    results.push(json!({"peer": p.device.to_string(), "ok": true,
                        "accepted": r.import.accepted, "known": r.import.known,
                        "rejected": r.import.refused, "bytes_sent": r.bytes_sent,
                        "bytes_received": r.bytes_received}));
                    if !json {
                        println!(
                            "{}: {} new, {} known, {} refused",
                            p.device.fmt_short(),
                            r.import.accepted,
                            r.import.known,
                            r.import.refused
                        );
                    }
                }
                Err(e) => {
                    failed += 1;
                    results.push(
                        json!({"peer": p.device.to_string(), "ok": false, "error": e.to_string()}),
                    );
                    if !json {
                        println!("{}: {e}", p.device.fmt_short());
                    }
                }
            }
        }
        peer.shutdown().await;
        let total = results.len();
        if json {
            println!("{}", json!({"peers": results, "accepted": accepted}));
        } else if total == 0 {
            println!("no known peers: follow someone by a ticket that carries their address");
        } else {
            println!(
                "synced with {} of {total} peers, {accepted} new entries",
                total - failed
            );
        }
        if total > 0 && failed == total {
            bail!("could not sync with any of {total} known peers");
        }
        Ok(())
    })
}
