//! The node on the network: `run`, `sync`, `peers`.
//!
//! One process owns the endpoint; other `starling` commands may run against
//! the same home meanwhile, since the store is SQLite in WAL mode and every
//! write is one transaction (a post made by another process reaches peers at
//! the next catch-up).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use starling_core::Node;
use starling_core::net::{
    Dht, NetConfig, Peer, Relay, STORAGE_CHECK_EVERY, Service, ServiceConfig, SharedNode,
};
use starling_core::view::{Event, Path, PeerView};

use crate::out::{Out, local};

/// What `starling run` takes.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Address to listen on; may be repeated.
    #[arg(long, default_value = "0.0.0.0:0")]
    bind: Vec<SocketAddr>,
    /// Relays: `default` (iroh's public relays, as in the app), `none`, or
    /// a relay's URL (yours: `starling relay`).
    #[arg(long, env = "STARLING_RELAY", default_value = "default")]
    relay: String,
    /// Seconds between catch-ups with every known peer (new posts arrive
    /// live through gossip in between).
    #[arg(long, default_value_t = 60)]
    sync_interval: u64,
    /// Do not look for peers on the local network (mDNS).
    #[arg(long)]
    no_local_discovery: bool,
    /// Publish this device's addresses in the BitTorrent Mainline DHT,
    /// signed by its key, and find peers that moved there. Opt-in: anyone
    /// can then read your addresses.
    #[arg(long, env = "STARLING_DHT")]
    dht: bool,
    /// Join the DHT through these nodes (`host:port`, repeatable; a
    /// private network's, see `starling dht-node`); implies --dht.
    #[arg(long = "dht-bootstrap", value_parser = dht_node)]
    dht_bootstrap: Vec<String>,
}

/// A DHT node as `--dht-bootstrap` takes it: `host:port` (an IPv6
/// address in brackets), the port not 0.
fn dht_node(text: &str) -> Result<String, String> {
    let bad = || format!("{text:?} is not host:port (e.g. 192.0.2.7:6881 or dht.example.org:6881)");
    if text
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|a| a.port() != 0)
    {
        return Ok(text.to_string());
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port_ok = port.parse::<u16>().is_ok_and(|p| p != 0);
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if port_ok && host_ok {
        Ok(text.to_string())
    } else {
        Err(bad())
    }
}

/// How a command that goes online for one round (`sync`, `restore`)
/// reaches the network.
#[derive(Debug, clap::Args)]
pub(crate) struct OneRound {
    /// Give up on a peer after this many seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Relays: `default` (iroh's public relays), `none`, or a relay's URL.
    #[arg(long, env = "STARLING_RELAY", default_value = "default")]
    relay: String,
    /// Local address to use.
    #[arg(long, default_value = "0.0.0.0:0")]
    bind: SocketAddr,
}

impl OneRound {
    /// Catch-up only (no gossip), with these limits.
    pub(crate) fn config(&self) -> NetConfig {
        NetConfig {
            bind: vec![self.bind],
            relay: Relay::parse(&self.relay),
            session_timeout: Duration::from_secs(self.timeout.max(1)),
            live: false,
            ..NetConfig::loopback()
        }
    }
}

/// What `starling sync` takes.
#[derive(Debug, clap::Args)]
pub(crate) struct SyncArgs {
    /// Accepted for scripts written for older versions: `sync` always
    /// syncs once and exits (`run` keeps syncing).
    #[arg(long = "once", hide = true)]
    _once: bool,
    #[command(flatten)]
    net: OneRound,
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn shared(node: Node) -> SharedNode {
    Arc::new(Mutex::new(node))
}

/// An event, for people.
fn describe(e: &Event) -> Option<String> {
    Some(match e {
        Event::Listening {
            device,
            addrs,
            relay,
        } => format!(
            "listening as {device} on {}{}",
            addrs.join(", "),
            relay
                .as_deref()
                .map(|r| format!(" and relay {r}"))
                .unwrap_or_default()
        ),
        Event::LocalDiscoveryOff { reason } => format!("local discovery off: {reason}"),
        Event::DhtListening { bootstrap, nodes } => {
            format!(
                "{nodes} DHT nodes listening from {bootstrap}; start devices with --dht-bootstrap {bootstrap}"
            )
        }
        Event::RelayListening { url } => {
            format!("relay listening on {url}; point devices at it with --relay {url}")
        }
        Event::Synced {
            peer,
            initiated,
            accepted,
            refused,
            bytes_received,
            path,
        } => format!(
            "synced with {} ({}{}): {accepted} new entries, {refused} refused, {bytes_received} bytes in",
            peer.fmt_short(),
            if *initiated {
                "we called"
            } else {
                "they called"
            },
            match path {
                Some(Path::Direct) => ", direct",
                Some(Path::Relay) => ", through a relay",
                None => "",
            }
        ),
        Event::Progress {
            peer,
            entries,
            bytes,
            spaces,
        } => format!(
            "catching up with {}: {entries} entries, {:.1} MB so far, {} spaces",
            peer.fmt_short(),
            *bytes as f64 / 1e6,
            spaces.len()
        ),
        Event::SyncFailed { peer, error } => {
            format!("sync with {} failed: {error}", peer.fmt_short())
        }
        Event::Received {
            peer,
            space,
            accepted,
        } => format!(
            "received {accepted} new entries live from {} (space {})",
            peer.fmt_short(),
            space.fmt_short()
        ),
        Event::Published { space, seq } => {
            format!("published to space {} (up to #{seq})", space.fmt_short())
        }
        Event::PeerUp { peer } => format!("peer {} connected", peer.fmt_short()),
        Event::PeerDown { peer } => format!("peer {} disconnected", peer.fmt_short()),
        Event::BlobFetched { hash, bytes } => {
            format!("fetched image {} ({bytes} bytes)", hash.fmt_short())
        }
        Event::LinkRequest { device, code } => {
            format!("device {} asks to link, showing {code}", device.fmt_short())
        }
        Event::Stopped => "stopped".into(),
        Event::Changed => return None,
    })
}

/// Prints one event line.
pub(crate) fn emit(out: Out, e: &Event) {
    if out.json {
        out.show(e, || {});
    } else if let Some(text) = describe(e) {
        println!("{text}");
    }
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn stop_signal() -> Result<()> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let stop = async { term.recv().await };
    #[cfg(not(unix))]
    let stop = std::future::pending::<Option<()>>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = stop => {}
    }
    Ok(())
}

/// `starling run`: one line (or JSON object) per event until SIGINT or
/// SIGTERM.
pub(crate) fn run(out: Out, node: Node, args: RunArgs) -> Result<()> {
    runtime()?.block_on(async {
        let config = ServiceConfig {
            net: NetConfig {
                bind: args.bind,
                relay: Relay::parse(&args.relay),
                local_discovery: !args.no_local_discovery,
                dht: (args.dht || !args.dht_bootstrap.is_empty()).then(|| Dht {
                    bootstrap: args.dht_bootstrap.clone(),
                }),
                ..NetConfig::loopback()
            },
            sync_every: Duration::from_secs(args.sync_interval),
            relay_wait: Duration::from_secs(5),
            storage_every: STORAGE_CHECK_EVERY,
        };
        let service = Service::start(shared(node), config).await?;
        let mut events = service.events();
        for e in service.notices() {
            emit(out, e);
        }
        let printer = tokio::spawn(async move {
            while let Ok(e) = events.recv().await {
                emit(out, &e);
            }
        });
        stop_signal().await?;
        service.shutdown().await;
        printer.abort();
        emit(out, &Event::Stopped);
        Ok(())
    })
}

/// `starling sync`: one catch-up with every known peer; fails when
/// every one of them failed.
pub(crate) fn sync_once(out: Out, node: Node, args: SyncArgs) -> Result<()> {
    runtime()?.block_on(async {
        let peer = Peer::start(shared(node), args.net.config()).await?;
        let summary = peer.sync_known().await;
        peer.shutdown().await;
        let summary = summary?;
        let failed = summary.peers.iter().filter(|p| !p.ok).count();
        let total = summary.peers.len();
        out.show(&summary, || {
            for p in &summary.peers {
                match (&p.import, &p.error) {
                    (Some(r), _) => println!(
                        "{}: {} new, {} known, {} refused",
                        p.peer.fmt_short(),
                        r.accepted,
                        r.known,
                        r.refused
                    ),
                    (None, e) => println!(
                        "{}: {}",
                        p.peer.fmt_short(),
                        e.as_deref().unwrap_or("failed")
                    ),
                }
            }
            if total == 0 {
                println!("no known peers: follow someone by a ticket that carries their address");
            } else {
                println!(
                    "synced with {} of {total} peers, {} new entries",
                    total - failed,
                    summary.accepted
                );
            }
        });
        if total > 0 && failed == total {
            return Err(crate::Failure::network(format!(
                "could not sync with any of {total} known peers"
            ))
            .into());
        }
        Ok(())
    })
}

/// `starling peers`.
pub(crate) fn peers(out: Out, node: &mut Node) -> Result<()> {
    let peers: Vec<PeerView> = node.store().peer_views()?;
    out.show(&peers, || {
        if peers.is_empty() {
            println!("no known peers yet: follow someone by their ticket");
        }
        for p in &peers {
            let seen = p.last_seen.map_or("never".to_string(), local);
            let path = match (p.path, p.rtt_ms) {
                (Some(Path::Direct), Some(rtt)) => format!("direct, {rtt} ms"),
                (Some(Path::Relay), Some(rtt)) => format!("through a relay, {rtt} ms"),
                _ => "no session yet".to_string(),
            };
            println!(
                "{}  {}  last seen {seen}  ({path})",
                p.device,
                p.addrs.join(",")
            );
        }
    });
    Ok(())
}

/// What `starling restore` (and `init --recover`) take.
#[derive(Debug, clap::Args)]
pub(crate) struct RestoreArgs {
    /// A follower's ticket, or a picture of its QR code: they hold your
    /// feed and the account backup in it. Without one, the peers this
    /// device knows are asked.
    #[arg(long)]
    from: Option<String>,
    #[command(flatten)]
    net: OneRound,
}

impl RestoreArgs {
    /// Whether a peer to restore from was named.
    pub(crate) fn has_peer(&self) -> bool {
        self.from.is_some()
    }
}

/// `starling restore`: catches up with a follower (or the known peers),
/// restores the account from the newest backup in the feed, then catches
/// up again for what it names (followed feeds, groups).
pub(crate) fn restore(out: Out, mut node: Node, args: RestoreArgs) -> Result<()> {
    let from = match &args.from {
        Some(t) => {
            let ticket = crate::tickets::read(t)?;
            match node.meet(&ticket)? {
                Some(p) => Some(p),
                None => bail!("that ticket names no device to restore from"),
            }
        }
        None => None,
    };
    runtime()?.block_on(async {
        let peer = Peer::start(shared(node), args.net.config()).await?;
        let restored = peer.restore_account(from.as_ref()).await;
        peer.shutdown().await;
        let restored = restored?;
        out.show(&restored, || {
            if restored.found {
                println!(
                    "restored {} follows, {} mutes, {} blocks and {} groups",
                    restored.follows, restored.mutes, restored.blocks, restored.groups
                );
            } else {
                println!(
                    "no account backup found yet: sync with someone who follows you (`starling restore --from THEIR_TICKET`)"
                );
            }
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::dht_node;

    #[test]
    fn dht_nodes_are_host_and_port() {
        for ok in [
            "192.0.2.7:6881",
            "[::1]:6881",
            "dht.example.org:6881",
            "router:1",
        ] {
            assert_eq!(dht_node(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "",
            "nonsense",
            "host:",
            ":6881",
            "host:0",
            "host:70000",
            "a..b:1",
            "h st:1",
            "::1:6881x",
        ] {
            assert!(dht_node(bad).is_err(), "{bad:?}");
        }
    }
}
