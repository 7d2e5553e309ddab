//! A node kept on the network the way `starling run` and the app keep one:
//! the [`Peer`] started, a relay (if any) briefly waited for so that
//! tickets carry it, this device's address recorded, every known peer
//! caught up with at a fixed interval, and the status a sync indicator
//! shows kept from the events ([`StatusTracker`], sans-IO).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::{NetConfig, NetError, Peer, SharedNode, guard, lock};
use crate::id::DeviceId;
use crate::view::{Event, NetStatus, Path, Syncing};

/// How a [`Service`] runs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The endpoint's configuration.
    pub net: NetConfig,
    /// How often every known peer is asked for a catch-up (live posts
    /// arrive through gossip in between).
    pub sync_every: Duration,
    /// How long a relay is waited for at start.
    pub relay_wait: Duration,
    /// How often the store is brought within its budgets (the first time
    /// a minute after start, or sooner when this is shorter).
    pub storage_every: Duration,
}

/// How often a running node keeps its store within its budgets.
pub const STORAGE_CHECK_EVERY: Duration = Duration::from_secs(3600);
/// Posts evicted per chunk, between which the node is let go of.
const EVICT_CHUNK: usize = 256;

/// What the sync indicator shows, kept from the events.
#[derive(Debug, Default)]
pub struct StatusTracker {
    neighbours: BTreeSet<DeviceId>,
    /// The path of the last session with each peer that succeeded (a
    /// failed one takes the peer out).
    paths: BTreeMap<DeviceId, Path>,
    status: NetStatus,
}

impl StatusTracker {
    /// Notes what `e` changes.
    pub fn apply(&mut self, e: &Event) {
        match e {
            Event::Synced { peer, path, .. } => {
                self.status.syncing = None;
                if let Some(path) = path {
                    self.paths.insert(*peer, *path);
                }
            }
            Event::SyncFailed { peer, .. } => {
                self.status.syncing = None;
                self.paths.remove(peer);
            }
            Event::Progress {
                peer,
                entries,
                bytes,
                ..
            } => {
                self.status.syncing = Some(Syncing {
                    peer: *peer,
                    entries: *entries,
                    bytes: *bytes,
                })
            }
            Event::PeerUp { peer } => {
                self.neighbours.insert(*peer);
            }
            Event::PeerDown { peer } => {
                self.neighbours.remove(peer);
            }
            _ => {}
        }
        self.status.peers = self.neighbours.len() as u64;
        self.status.reach = if self.paths.values().any(|p| *p == Path::Direct) {
            Some(Path::Direct)
        } else if self.paths.is_empty() {
            None
        } else {
            Some(Path::Relay)
        };
    }

    /// The status now.
    pub fn status(&self) -> NetStatus {
        self.status.clone()
    }
}

/// A node on the network, kept up until [`Service::shutdown`].
#[derive(Debug)]
pub struct Service {
    peer: Arc<Peer>,
    tracker: Arc<Mutex<StatusTracker>>,
    notices: Vec<Event>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Service {
    /// Starts `node` on the network.
    pub async fn start(node: SharedNode, config: ServiceConfig) -> Result<Self, NetError> {
        let discovery = config.net.local_discovery;
        let peer = Arc::new(Peer::start(node.clone(), config.net).await?);
        peer.online(config.relay_wait).await;
        let addr = peer.addr();
        lock(&node).set_reachable_at(&addr)?;
        let addrs: Vec<String> = addr.addrs.iter().map(|a| a.to_string()).collect();
        let mut notices = vec![Event::Listening {
            device: addr.device,
            addrs: addrs.clone(),
            relay: addr.relay.clone(),
        }];
        let mut tracker = StatusTracker::default();
        tracker.status.online = true;
        tracker.status.listening = addrs;
        if let (true, Err(why)) = (discovery, peer.local_discovery()) {
            tracker.status.error = Some(format!("local discovery off: {why}"));
            notices.push(Event::LocalDiscoveryOff { reason: why });
        }
        let tracker = Arc::new(Mutex::new(tracker));
        let mut events = peer.events();
        let kept = tracker.clone();
        let track = tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(e) => guard(&kept).apply(&e),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        let every = peer.clone();
        let period = config.sync_every.max(Duration::from_secs(1));
        let sync = tokio::spawn(async move {
            loop {
                let _ = every.sync_known().await;
                tokio::time::sleep(period).await;
            }
        });
        let kept = node.clone();
        let every = config.storage_every.max(Duration::from_secs(1));
        let storage = tokio::spawn(async move {
            tokio::time::sleep(every.min(Duration::from_secs(60))).await;
            loop {
                let _ = keep_to_budgets(&kept).await;
                tokio::time::sleep(every).await;
            }
        });
        Ok(Self {
            peer,
            tracker,
            notices,
            tasks: Mutex::new(vec![track, sync, storage]),
        })
    }

    /// The running peer.
    pub fn peer(&self) -> &Arc<Peer> {
        &self.peer
    }

    /// What the start had to say: where it listens, and whether local
    /// discovery is off.
    pub fn notices(&self) -> &[Event] {
        &self.notices
    }

    /// What the sync indicator shows now.
    pub fn status(&self) -> NetStatus {
        guard(&self.tracker).status()
    }

    /// Events from now on (a slow reader misses the oldest: see
    /// [`broadcast::error::RecvError::Lagged`]).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.peer.events()
    }

    /// Says that this process wrote to the store, so new entries go out
    /// now.
    pub fn notify_local_change(&self) {
        self.peer.notify_local_change();
    }

    /// Stops the periodic catch-ups and the peer.
    pub async fn shutdown(&self) {
        let tasks: Vec<_> = guard(&self.tasks).drain(..).collect();
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
        self.peer.shutdown().await;
    }
}

/// Keeps the store within its budgets a chunk at a time, letting go of
/// the node between chunks so that commands and timelines go on.
async fn keep_to_budgets(node: &SharedNode) -> Result<crate::view::Evicted, NetError> {
    let (path, budgets) = {
        let mut n = lock(node);
        let budgets = n.store().budgets().map_err(crate::node::NodeError::from)?;
        (n.store_path(), budgets)
    };
    // Planning reads the whole store (seconds at a million entries): on a
    // connection of its own, without holding the node.
    let planned = tokio::task::spawn_blocking(move || {
        crate::store::Store::open(&path)?.plan_eviction(crate::node::now_ms(), &budgets)
    })
    .await
    .map_err(|e| {
        NetError::Node(crate::node::NodeError::Invalid(format!(
            "storage check: {e}"
        )))
    })?;
    let mut eviction = planned.map_err(crate::node::NodeError::from)?;
    while lock(node)
        .store()
        .evict_some(&mut eviction, EVICT_CHUNK)
        .map_err(crate::node::NodeError::from)?
    {
        tokio::task::yield_now().await;
    }
    if *eviction.report() != crate::view::Evicted::default() {
        lock(node)
            .store()
            .scrub()
            .map_err(crate::node::NodeError::from)?;
    }
    Ok(eviction.report().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_follows_the_events() {
        let mut t = StatusTracker::default();
        let a = DeviceId([1; 32]);
        t.apply(&Event::PeerUp { peer: a });
        assert_eq!(t.status().peers, 1);
        t.apply(&Event::Progress {
            peer: a,
            entries: 2048,
            bytes: 9000,
            spaces: vec![],
        });
        assert_eq!(t.status().syncing.map(|s| s.entries), Some(2048));
        t.apply(&Event::Synced {
            peer: a,
            initiated: true,
            accepted: 5,
            refused: 0,
            bytes_received: 10,
            path: None,
        });
        assert!(t.status().syncing.is_none());
        t.apply(&Event::PeerDown { peer: a });
        assert_eq!(t.status().peers, 0);
    }

    #[test]
    fn the_reach_is_the_best_path_of_the_last_sessions() {
        let mut t = StatusTracker::default();
        let (a, b) = (DeviceId([1; 32]), DeviceId([2; 32]));
        let synced = |peer, path| Event::Synced {
            peer,
            initiated: true,
            accepted: 0,
            refused: 0,
            bytes_received: 0,
            path: Some(path),
        };
        let failed = |peer| Event::SyncFailed {
            peer,
            error: "gone".into(),
        };
        assert_eq!(t.status().reach, None);
        t.apply(&synced(a, Path::Relay));
        assert_eq!(t.status().reach, Some(Path::Relay));
        t.apply(&synced(b, Path::Direct));
        assert_eq!(t.status().reach, Some(Path::Direct));
        t.apply(&failed(b));
        assert_eq!(t.status().reach, Some(Path::Relay));
        t.apply(&synced(a, Path::Direct));
        assert_eq!(t.status().reach, Some(Path::Direct));
        t.apply(&failed(a));
        assert_eq!(t.status().reach, None);
    }
}
