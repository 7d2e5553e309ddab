//! The live-updates driver: joins the gossip topic of every space held,
//! bootstraps it from the devices that write there, broadcasts this
//! device's new entries as [`Announcer`] plans them, and hands what
//! neighbours send to the store in batches, verified off the node's lock.
//! What to announce and which catch-ups a notice calls for are decided in
//! [`crate::protocol::live`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use iroh_gossip::TopicId;
use iroh_gossip::api::{Event as GossipEvent, GossipSender};
use n0_future::StreamExt;
use tokio::sync::mpsc;

use super::{Event, Inner, NetError, device_of, endpoint_id, guard};
use crate::entry::{Entry, KeyCache};
use crate::id::{DeviceId, SpaceId};
use crate::protocol::live::{self, Announce, Announcer, Notice};
use crate::store::Verified;

/// Most peers whose topics are remembered, and most topics per peer.
const MAX_MET: usize = 4096;

const MAX_MET_SPACES: usize = 1024;

/// Which of this node's spaces each peer showed it knows (by being its
/// neighbour on their gossip topics): a catch-up with a peer that is no
/// relation names only those. Bounded.
#[derive(Debug, Default)]
pub(super) struct Met {
    spaces: std::collections::HashMap<DeviceId, BTreeSet<SpaceId>>,
}

impl Met {
    pub(super) fn saw(&mut self, peer: DeviceId, space: SpaceId) {
        if self.spaces.len() >= MAX_MET && !self.spaces.contains_key(&peer) {
            // Forget one (any): at worst a stranger is asked about less.
            if let Some(k) = self.spaces.keys().next().copied() {
                self.spaces.remove(&k);
            }
        }
        let set = self.spaces.entry(peer).or_default();
        if set.len() < MAX_MET_SPACES {
            set.insert(space);
        }
    }

    pub(super) fn of(&self, peer: &DeviceId) -> BTreeSet<SpaceId> {
        self.spaces.get(peer).cloned().unwrap_or_default()
    }
}

/// Follows one space's topic: stores what arrives, catches up on gaps, with
/// new neighbors and after a lag, and rejoins if the subscription ends.
pub(super) async fn follow_topic(inner: Arc<Inner>, space: SpaceId, topic: TopicId) {
    loop {
        let sub = inner.gossip.subscribe(topic, inner.bootstrap(&space)).await;
        let Ok(sub) = sub else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let (sender, mut receiver) = sub.split();
        guard(&inner.senders).insert(space, Some(sender));
        // News held back while the topic was down goes out now.
        inner.wake.notify_one();
        while let Some(event) = receiver.next().await {
            match event {
                Ok(GossipEvent::Received(msg)) => {
                    let from = device_of(&msg.delivered_from);
                    inner.met(from, space);
                    inner.on_notice(space, from, &msg.content).await;
                }
                Ok(GossipEvent::NeighborUp(id)) => {
                    let peer = device_of(&id);
                    inner.met(peer, space);
                    inner.saw(peer);
                    let _ = inner.store.lock().touch_peer(&peer, crate::node::now_ms());
                    inner.emit(Event::PeerUp { peer });
                    let _ = inner.catch_up.send(peer);
                }
                Ok(GossipEvent::NeighborDown(id)) => {
                    inner.emit(Event::PeerDown {
                        peer: device_of(&id),
                    });
                }
                Ok(GossipEvent::Lagged) => {
                    // This subscription fell behind and messages were
                    // dropped (it stays open): catch up with every neighbor.
                    for id in receiver.neighbors() {
                        let _ = inner.catch_up.send(device_of(&id));
                    }
                }
                Err(_) => break,
            }
        }
        guard(&inner.senders).insert(space, None);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Inner {
    /// Broadcasts this device's new entries, per the announcer's plan.
    pub(super) async fn announce(&self, announcer: &mut Announcer) -> Result<(), NetError> {
        let heads = self.store.lock().feed_heads(&self.me)?;
        for (space, head) in heads {
            // Until its topic is joined, a space's news waits (it is not
            // marked announced).
            let Some(sender) = guard(&self.senders).get(&space).cloned().flatten() else {
                continue;
            };
            let before = announcer.announced(space);
            let plan = announcer.plan(space, head);
            let notices: Vec<Notice> = match plan {
                Announce::Nothing => continue,
                Announce::Head(seq) => vec![Notice::Head {
                    device: self.me,
                    seq,
                }],
                Announce::Entries { from, to } => self
                    .store
                    .lock()
                    .entries_after(&space, &self.me, from - 1, (to - from + 1) as usize)?
                    .iter()
                    .map(|e| match e.encode() {
                        bytes if bytes.len() + 8 <= live::MAX_NOTICE => Notice::Entry(bytes),
                        _ => Notice::Head {
                            device: self.me,
                            seq: e.header().seq,
                        },
                    })
                    .collect(),
            };
            let mut sent = true;
            for n in notices {
                sent &= sender.broadcast(n.encode().into()).await.is_ok();
            }
            if sent {
                self.emit(Event::Published { space, seq: head });
            } else {
                // The topic closed under us (it is being rejoined): send
                // this news again once it is back.
                announcer.rewind(space, before);
            }
        }
        Ok(())
    }

    /// Joins the topic of every space not joined yet; `started` once the
    /// node is past its first round (see below).
    pub(super) fn join_topics(self: &Arc<Self>, started: bool) -> Result<(), NetError> {
        if !self.config.live {
            return Ok(());
        }
        let spaces = self.store.lock().sync_spaces(false)?;
        let joined: BTreeSet<SpaceId> = guard(&self.senders).keys().copied().collect();
        let new: Vec<_> = spaces
            .into_iter()
            .filter(|(s, _)| !joined.contains(s))
            .collect();
        for (space, auth) in new {
            // `None` keeps the watcher from joining twice; the topic task
            // puts the real sender in.
            guard(&self.senders).insert(space, None);
            let topic = TopicId::from_bytes(auth.topic(&space));
            self.spawn(follow_topic(self.clone(), space, topic));
            // A space new while the node runs (a follow, a group joined)
            // catches up with those it would start its topic from at once,
            // without waiting for the topic to come up (it may not, or
            // late, on a busy or lossy network). (At start every space is
            // new, and the addresses held may be stale: the topics and the
            // periodic checks find the peers then.)
            if started {
                for id in self.bootstrap(&space).into_iter().take(super::CHECK_PEERS) {
                    let _ = self.catch_up.send(device_of(&id));
                }
            }
        }
        Ok(())
    }

    /// Peers to bootstrap a space's topic from: devices that write in it,
    /// peers met on it, and for a feed relations too (never strangers met
    /// elsewhere: a topic id says nothing to them, but it would link this
    /// node to it).
    pub(super) fn bootstrap(&self, space: &SpaceId) -> Vec<iroh::EndpointId> {
        let mut out: Vec<iroh::EndpointId> = Vec::new();
        let mut add = |d: &DeviceId| {
            if *d != self.me
                && let Some(id) = endpoint_id(d)
                && !out.contains(&id)
            {
                out.push(id);
            }
        };
        for (d, spaces) in &guard(&self.met).spaces {
            if spaces.contains(space) {
                add(d);
            }
        }
        let store = self.store.lock();
        for d in store.log_devices(space).unwrap_or_default() {
            add(&d);
        }
        // A feed's topic may also start from relations; a private space's
        // only from those who write in it (its topic id would tell others
        // which of this node's peers share it).
        if store.space_kind(space).ok().flatten() == Some(crate::space::SpaceKind::Feed) {
            for (p, _) in store.peers().unwrap_or_default() {
                if store.is_related(&p.device).unwrap_or(false) {
                    add(&p.device);
                }
            }
        }
        drop(store);
        out.truncate(32);
        out
    }

    /// The senders of the topics joined so far, by space.
    pub(super) fn topic_senders(&self) -> Vec<(SpaceId, GossipSender)> {
        guard(&self.senders)
            .iter()
            .filter_map(|(s, g)| g.clone().map(|g| (*s, g)))
            .collect()
    }

    /// Asks the devices that write in each joined space, as they become
    /// known, to join its topic (a topic is bootstrapped from them, and a
    /// new group member knows none before its first catch-up).
    pub(super) async fn join_writers(&self) {
        for (space, sender) in self.topic_senders() {
            let writers = self.store.lock().log_devices(&space).unwrap_or_default();
            let new: Vec<iroh::EndpointId> = {
                let mut joined = guard(&self.joined_writers);
                let done = joined.entry(space).or_default();
                writers
                    .into_iter()
                    .filter(|d| *d != self.me && done.insert(*d))
                    .filter_map(|d| endpoint_id(&d))
                    .collect()
            };
            if !new.is_empty() {
                let _ = sender.join_peers(new).await;
            }
        }
    }

    /// Notes that `peer` showed it knows `space` (met on its topic).
    pub(super) fn met(&self, peer: DeviceId, space: SpaceId) {
        guard(&self.met).saw(peer, space);
    }

    /// Handles one notice from a space's topic. Entries go to the ingest
    /// task, which verifies them off the node's lock and commits them in
    /// batches.
    pub(super) async fn on_notice(self: &Arc<Self>, space: SpaceId, from: DeviceId, bytes: &[u8]) {
        let Ok(notice) = Notice::decode(bytes) else {
            return;
        };
        match notice {
            Notice::Entry(bytes) => {
                let Ok(entry) = Entry::decode(&bytes) else {
                    return;
                };
                // Only an entry of the topic's space, and only whole ones:
                // a copy stripped of its payload is never news.
                if entry.header().space != space || entry.payload().is_none() {
                    return;
                }
                let _ = self.ingest.send(Arrival { space, from, entry }).await;
            }
            Notice::Head { device, seq } => {
                let held = self
                    .store
                    .lock()
                    .log_head(&space, &device)
                    .ok()
                    .flatten()
                    .map_or(0, |h| h.seq);
                if held < seq {
                    let _ = self.catch_up.send(from);
                }
            }
            Notice::Have { hash, holder } => {
                guard(&self.sources).holds(hash, holder);
            }
        }
    }
}

/// Entries waiting for the ingest task; a neighbour that floods waits.
pub(super) const QUEUE: usize = 1024;
/// Most entries committed in one transaction.
const BATCH: usize = 256;

/// An entry that came on `space`'s topic from the neighbour `from`.
pub(super) struct Arrival {
    pub(super) space: SpaceId,
    pub(super) from: DeviceId,
    pub(super) entry: Entry,
}

/// Gathers live entries into batches, verifies them off the node's lock
/// and commits each batch in one transaction.
pub(super) async fn ingest(inner: Arc<Inner>, mut arrivals: mpsc::Receiver<Arrival>) {
    let mut cache = KeyCache::default();
    while let Some(first) = arrivals.recv().await {
        // What queued up meanwhile shares the transaction; nothing waits
        // for company.
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match arrivals.try_recv() {
                Ok(live) => batch.push(live),
                Err(_) => break,
            }
        }
        // One import per neighbour and space, so events and catch-ups go
        // to the right peer; usually there is one.
        let mut groups: BTreeMap<(DeviceId, SpaceId), Vec<Entry>> = BTreeMap::new();
        for l in batch {
            groups.entry((l.from, l.space)).or_default().push(l.entry);
        }
        for ((from, space), entries) in groups {
            let checked = Verified::check(entries, &mut cache);
            let report = inner.store.lock().import_verified(checked);
            let Ok(report) = report else {
                continue;
            };
            if report.accepted > 0 {
                inner.emit(Event::Received {
                    peer: from,
                    space,
                    accepted: report.accepted,
                });
                let _ = inner.fetch_wanted(Some(from));
            }
            if report.pending > 0 || !report.rejected.is_empty() {
                // A gap (the entries before these went missing), or what
                // cannot stand yet: the neighbour's catch-up sorts it out.
                let _ = inner.catch_up.send(from);
            }
        }
    }
}
