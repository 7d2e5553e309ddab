//! A node kept on the network the way `starling run` and the app keep one:
//! the [`Peer`] started, a relay (if any) briefly waited for so that
//! tickets carry it, this device's address recorded, every known peer
//! caught up with at a fixed interval, and the status a sync indicator
//! shows kept from the events ([`StatusTracker`], sans-IO).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::{NetConfig, NetError, Peer, SharedNode, guard, lock};
use crate::id::DeviceId;
use crate::view::{Event, NetStatus, Syncing};

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
}

/// What the sync indicator shows, kept from the events.
#[derive(Debug, Default)]
pub struct StatusTracker {
    neighbours: BTreeSet<DeviceId>,
    status: NetStatus,
}

impl StatusTracker {
    /// Notes what `e` changes.
    pub fn apply(&mut self, e: &Event) {
        match e {
            Event::Synced { .. } | Event::SyncFailed { .. } => self.status.syncing = None,
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
        Ok(Self {
            peer,
            tracker,
            notices,
            tasks: Mutex::new(vec![track, sync]),
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
        });
        assert!(t.status().syncing.is_none());
        t.apply(&Event::PeerDown { peer: a });
        assert_eq!(t.status().peers, 0);
    }
}
