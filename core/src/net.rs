//! Networking: one iroh endpoint per running node, keyed by the device key
//! (device id == endpoint id), with three protocols on it:
//!
//! - catch-up ([`SYNC_ALPN`], `catchup.rs`): the sans-IO
//!   [`crate::sync::Session`] over one QUIC stream;
//! - live updates (iroh-gossip, `live.rs`): one topic per feed space;
//! - media (iroh-blobs, `media.rs`): sealed images, verified while streaming.
//!
//! A [`Peer`] runs a few background tasks: a watcher that notices store
//! changes (from this process or another one writing the same home),
//! announces this device's new entries, joins the topics of newly followed
//! spaces and fetches missing images; a catch-up scheduler that keeps at
//! most one session per peer in flight; one receiver per gossip topic; and,
//! when local discovery is on, an mDNS watcher.

mod catchup;
mod ingest;
pub mod live;
pub mod media;
mod service;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use iroh::address_lookup::memory::MemoryLookup;
use iroh::endpoint::presets;
use iroh::protocol::Router;
use iroh::{Endpoint, EndpointAddr, RelayMode, SecretKey, TransportAddr};
use iroh_gossip::api::{Event as GossipEvent, GossipSender};
use iroh_gossip::{Gossip, TopicId};
use n0_future::StreamExt;
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::entry::Entry;
use crate::id::{DeviceId, Hash, SpaceId};
use crate::node::Node;
use crate::store::ImportReport;
use crate::sync::{Limits, SyncError};
use crate::ticket::PeerAddr;
pub use crate::view::Event;
use live::{Announce, Announcer, CatchUps, Notice};
use media::{Media, Sources};

pub use catchup::{
    CHUNK_BYTES, FRAME_STALL, IDLE_FLUSH, MAX_FRAME, MAX_REFUSED_PER_SESSION, MAX_SESSIONS,
    SESSIONS_PER_PEER, SYNC_ALPN, UNVERIFIED_BUDGET,
};
pub use service::{Service, ServiceConfig, StatusTracker};

/// A node shared between the network tasks and its owner.
pub type SharedNode = Arc<Mutex<Node>>;

/// A network operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The endpoint could not be set up.
    #[error("cannot start the network endpoint: {0}")]
    Bind(String),
    /// The peer could not be reached.
    #[error("cannot connect to peer {peer}: {reason}")]
    Connect {
        /// The peer's device id, short form.
        peer: String,
        /// Why.
        reason: String,
    },
    /// The stream broke, or a frame was too large.
    #[error("connection to {peer} failed: {reason}")]
    Stream {
        /// The peer's device id, short form.
        peer: String,
        /// Why.
        reason: String,
    },
    /// The peer broke the protocol.
    #[error("peer {peer} broke the sync protocol: {error}")]
    Protocol {
        /// The peer's device id, short form.
        peer: String,
        /// What it did.
        error: SyncError,
    },
    /// The session took longer than allowed.
    #[error("sync with {0} timed out")]
    Timeout(String),
    /// The local store failed.
    #[error(transparent)]
    Node(#[from] crate::node::NodeError),
    /// The relay URL does not parse.
    #[error("bad relay URL {0:?}")]
    BadRelay(String),
    /// A blob could not be fetched from any peer.
    #[error("cannot fetch blob {hash}: {reason}")]
    Fetch {
        /// The blob's hash, short form.
        hash: String,
        /// Why.
        reason: String,
    },
}

impl From<crate::store::StoreError> for NetError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Node(e.into())
    }
}

/// Which relays to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Relay {
    /// None: direct connections only (a LAN, or tests).
    #[default]
    Disabled,
    /// iroh's public relays.
    Default,
    /// A self-hosted `iroh-relay`.
    Custom(String),
}

impl Relay {
    /// Reads `none` (or empty), `default`, or a relay URL.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "none" | "" => Self::Disabled,
            "default" => Self::Default,
            url => Self::Custom(url.to_string()),
        }
    }
}

impl std::fmt::Display for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Disabled => f.write_str("none"),
            Self::Default => f.write_str("default"),
            Self::Custom(url) => f.write_str(url),
        }
    }
}

/// How the endpoint is set up.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Local socket addresses to bind (port 0 picks one).
    pub bind: Vec<SocketAddr>,
    /// Relays.
    pub relay: Relay,
    /// What one session accepts from a peer.
    pub limits: Limits,
    /// Longest a session may take.
    pub session_timeout: Duration,
    /// Longest to wait for a peer to answer a connection.
    pub connect_timeout: Duration,
    /// Join the gossip topics of feed spaces and announce new entries.
    pub live: bool,
    /// Find peers on the local network with mDNS.
    pub local_discovery: bool,
    /// How often the store is checked for changes made by other processes.
    pub watch_every: Duration,
    /// How often the peers seen lately are asked whether anything was
    /// missed (a catch-up that costs one round trip when nothing was).
    pub check_every: Duration,
}

impl NetConfig {
    /// Loopback only, no relays, no local discovery: for tests.
    pub fn loopback() -> Self {
        Self {
            bind: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            relay: Relay::Disabled,
            limits: Limits::default(),
            session_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            live: true,
            local_discovery: false,
            watch_every: Duration::from_millis(50),
            check_every: Duration::from_secs(5),
        }
    }
}

/// Counts from one sync session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The peer.
    pub peer: Option<DeviceId>,
    /// What the received entries did to the store.
    pub import: ImportReport,
    /// Frames sent and received.
    pub messages: u64,
    /// Bytes sent (frames, with their length prefixes).
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
}

fn lock(node: &SharedNode) -> MutexGuard<'_, Node> {
    // A panic while holding the lock cannot leave the store half-written
    // (SQLite transactions roll back), so a poisoned lock is still usable.
    node.lock().unwrap_or_else(|p| p.into_inner())
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SyncReport {
    /// One peer's part of a sync round, as commands show it.
    pub fn view(peer: DeviceId, result: &Result<SyncReport, NetError>) -> crate::view::PeerSync {
        match result {
            Ok(r) => crate::view::PeerSync {
                peer,
                ok: true,
                import: Some(r.import.summary()),
                bytes_sent: r.bytes_sent,
                bytes_received: r.bytes_received,
                error: None,
            },
            Err(e) => crate::view::PeerSync {
                peer,
                ok: false,
                import: None,
                bytes_sent: 0,
                bytes_received: 0,
                error: Some(e.to_string()),
            },
        }
    }
}

impl NetError {
    /// The error as a command returns it.
    pub fn view(&self) -> crate::view::ErrorView {
        match self {
            NetError::Node(e) => e.view(),
            e => crate::view::ErrorView::new(crate::view::ErrorKind::Network, e),
        }
    }
}

/// Longest random wait before fetching an image only its author is known to hold.
const FETCH_JITTER_MS: u64 = 300;
/// Rounds of asking every source for an image before giving up for a while.
const FETCH_ROUNDS: u32 = 8;
/// Most random wait between two rounds, on top of 100 ms.
const ROUND_JITTER_MS: u64 = 300;

/// A random wait of less than `ms` milliseconds.
fn jitter(ms: u64) -> Duration {
    let r = crate::node::random::<2>().map_or(0, u16::from_le_bytes);
    Duration::from_millis(u64::from(r) % ms.max(1))
}

/// How long to wait before asking again for an image nobody served.
const RETRY_FETCH: Duration = Duration::from_secs(3);

/// Longest a shutdown waits for protocols and connections to wind down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How many of the peers seen lately are asked every `check_every`.
const CHECK_PEERS: usize = 8;

/// Most catch-ups this node runs with others at once.
const OUTBOUND_SESSIONS: usize = 8;

/// Most peers whose topics are remembered, and most topics per peer.
const MAX_MET: usize = 4096;
const MAX_MET_SPACES: usize = 1024;

/// Which of this node's spaces each peer showed it knows (by being its
/// neighbour on their gossip topics): a catch-up with a peer that is no
/// relation names only those. Bounded.
#[derive(Debug, Default)]
struct Met {
    spaces: std::collections::HashMap<DeviceId, BTreeSet<SpaceId>>,
}

impl Met {
    fn saw(&mut self, peer: DeviceId, space: SpaceId) {
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

    fn of(&self, peer: &DeviceId) -> BTreeSet<SpaceId> {
        self.spaces.get(peer).cloned().unwrap_or_default()
    }
}

/// The state the background tasks share.
#[derive(Debug)]
struct Inner {
    router: Router,
    node: SharedNode,
    me: DeviceId,
    config: NetConfig,
    events: broadcast::Sender<Event>,
    gossip: Gossip,
    lookup: MemoryLookup,
    media: Media,
    sources: Mutex<Sources>,
    /// The budget of unverified bytes the sessions this node opens share
    /// (those peers open have their own, in the sync handler).
    budget: catchup::Budget,
    /// Catch-ups this node started and still runs.
    outbound: tokio::sync::Semaphore,
    /// One catch-up with a peer at a time, however it was asked for (a
    /// second waits, then finds little left to do).
    per_peer: Mutex<std::collections::HashMap<DeviceId, Arc<tokio::sync::Mutex<()>>>>,
    /// Spaces peers showed they know.
    met: Mutex<Met>,
    /// Entries that came live, on their way to the store in batches.
    ingest: mpsc::Sender<ingest::Live>,
    /// Each joined space's topic sender; `None` while the join is under way.
    senders: Mutex<BTreeMap<SpaceId, Option<GossipSender>>>,
    /// The writers of each space already asked to join its topic.
    joined_writers: Mutex<BTreeMap<SpaceId, BTreeSet<DeviceId>>>,
    recent: Mutex<Vec<DeviceId>>,
    /// Blobs no peer served, and when to try again.
    failed: Mutex<std::collections::HashMap<Hash, tokio::time::Instant>>,
    wake: Notify,
    catch_up: mpsc::UnboundedSender<DeviceId>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// A running node's network face.
#[derive(Debug)]
pub struct Peer {
    inner: Arc<Inner>,
    local_discovery: Result<(), String>,
}

fn endpoint_id(device: &DeviceId) -> Option<iroh::EndpointId> {
    iroh::PublicKey::from_bytes(device.as_bytes()).ok()
}

fn device_of(id: &iroh::EndpointId) -> DeviceId {
    DeviceId(*id.as_bytes())
}

fn endpoint_addr(peer: &PeerAddr) -> Option<EndpointAddr> {
    let id = endpoint_id(&peer.device)?;
    let relay = peer
        .relay
        .as_deref()
        .and_then(|u| u.parse::<iroh::RelayUrl>().ok());
    Some(EndpointAddr::from_parts(
        id,
        peer.addrs
            .iter()
            .map(|a| TransportAddr::Ip(*a))
            .chain(relay.map(TransportAddr::Relay)),
    ))
}

impl Peer {
    /// Binds the endpoint with the node's device key and starts serving.
    pub async fn start(node: SharedNode, config: NetConfig) -> Result<Self, NetError> {
        let secret = SecretKey::from_bytes(&lock(&node).device_secret());
        let me = lock(&node).device();
        let relay = match &config.relay {
            Relay::Disabled => RelayMode::Disabled,
            Relay::Default => RelayMode::Default,
            Relay::Custom(url) => {
                let url: iroh::RelayUrl =
                    url.parse().map_err(|_| NetError::BadRelay(url.clone()))?;
                RelayMode::Custom(url.into())
            }
        };
        let lookup = MemoryLookup::new();
        for (p, _) in lock(&node).store_ref().peers()? {
            if let Some(addr) = endpoint_addr(&p).filter(|_| !p.addrs.is_empty()) {
                lookup.add_endpoint_info(addr);
            }
        }
        let mut builder = Endpoint::builder(presets::Minimal)
            .secret_key(secret)
            .relay_mode(relay)
            .address_lookup(lookup.clone());
        if !config.bind.is_empty() {
            builder = builder.clear_ip_transports();
            for a in &config.bind {
                builder = builder
                    .bind_addr(*a)
                    .map_err(|e| NetError::Bind(e.to_string()))?;
            }
        }
        let endpoint = builder
            .bind()
            .await
            .map_err(|e| NetError::Bind(e.to_string()))?;
        let (events, _) = broadcast::channel(4096);
        let gossip = Gossip::builder()
            .max_message_size(live::MAX_NOTICE)
            .spawn(endpoint.clone());
        let media = Media::new(&endpoint);
        let budget = catchup::Budget::new(UNVERIFIED_BUDGET);
        let handler = catchup::SyncHandler {
            cx: catchup::Context {
                node: node.clone(),
                budget: catchup::Budget::new(UNVERIFIED_BUDGET),
                events: events.clone(),
            },
            me,
            limits: config.limits,
            timeout: config.session_timeout,
            sessions: Default::default(),
        };
        let router = Router::builder(endpoint.clone())
            .accept(SYNC_ALPN, handler)
            .accept(iroh_gossip::ALPN, gossip.clone())
            .accept(iroh_blobs::ALPN, media.protocol(node.clone()))
            .spawn();
        let (catch_up, requests) = mpsc::unbounded_channel();
        let (ingest, arrivals) = mpsc::channel(ingest::QUEUE);
        let inner = Arc::new(Inner {
            router,
            node,
            me,
            config,
            events,
            gossip,
            lookup,
            media,
            sources: Default::default(),
            budget,
            outbound: tokio::sync::Semaphore::new(OUTBOUND_SESSIONS),
            per_peer: Default::default(),
            joined_writers: Default::default(),
            met: Default::default(),
            ingest,
            senders: Default::default(),
            recent: Default::default(),
            failed: Default::default(),
            wake: Notify::new(),
            catch_up,
            tasks: Default::default(),
        });
        let announcer = Announcer::starting_at(lock(&inner.node).store_ref().feed_heads(&me)?);
        inner.spawn(watch(inner.clone(), announcer));
        inner.spawn(schedule_catch_ups(inner.clone(), requests));
        inner.spawn(ingest::run(inner.clone(), arrivals));
        let local_discovery = if inner.config.local_discovery {
            start_local_discovery(&inner, &endpoint)
        } else {
            Err("turned off".to_string())
        };
        Ok(Self {
            inner,
            local_discovery,
        })
    }

    /// Whether mDNS local discovery runs, or why not (a network without
    /// multicast is no reason to refuse to start).
    pub fn local_discovery(&self) -> Result<(), String> {
        self.local_discovery.clone()
    }

    /// Events from now on (a slow reader misses the oldest).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// This node's address: its device id, bound sockets and home relay
    /// (once one answered: see [`Peer::online`]).
    pub fn addr(&self) -> PeerAddr {
        let ep = self.inner.router.endpoint();
        PeerAddr {
            device: device_of(&ep.id()),
            addrs: ep.bound_sockets(),
            relay: ep.addr().relay_urls().next().map(|u| u.to_string()),
        }
    }

    /// Waits (at most `limit`) until the endpoint has a home relay; at once
    /// when relays are off. True when it is reachable through one.
    pub async fn online(&self, limit: Duration) -> bool {
        if matches!(self.inner.config.relay, Relay::Disabled) {
            return false;
        }
        let ep = self.inner.router.endpoint();
        tokio::time::timeout(limit, ep.online()).await.is_ok()
    }

    /// The node this peer serves.
    pub fn node(&self) -> &SharedNode {
        &self.inner.node
    }

    /// Says that this process changed the store (a post, a follow): the
    /// watcher acts on it now instead of at its next check.
    pub fn notify_local_change(&self) {
        self.inner.wake.notify_one();
    }

    /// Catches up with `peer` because the user asked to: like a peer a
    /// ticket came with, it is trusted with the names (handles) of every
    /// space held here, and recognises those whose keys it holds too.
    /// (Catch-ups this node starts by itself name to a stranger only the
    /// spaces it showed it knows.)
    pub async fn sync_with(&self, peer: &PeerAddr) -> Result<SyncReport, NetError> {
        {
            let n = lock(&self.inner.node);
            if !peer.addrs.is_empty() || peer.relay.is_some() {
                n.store_ref().add_peer(peer)?;
            }
            n.store_ref().introduce_peer(&peer.device)?;
        }
        self.inner.sync_with(peer).await
    }

    /// Catches up with `peer` as this node does by itself: a peer that is
    /// no relation (no ticket came with it, it writes in no space held
    /// here) is asked only about the spaces it showed it knows.
    pub async fn catch_up_with(&self, peer: &PeerAddr) -> Result<SyncReport, NetError> {
        self.inner.sync_with(peer).await
    }

    /// Catches up with every known peer that has an address, one after
    /// another, as this node does by itself (see
    /// [`Peer::catch_up_with`]). (Peers with no address still reach this
    /// node when they call.)
    pub async fn sync_known(&self) -> Result<crate::view::SyncSummary, NetError> {
        let (known, me) = {
            let mut node = lock(&self.inner.node);
            (node.store().peers()?, node.device())
        };
        let mut summary = crate::view::SyncSummary::default();
        for (p, _) in known
            .into_iter()
            .filter(|(p, _)| p.device != me && (!p.addrs.is_empty() || p.relay.is_some()))
        {
            let result = self.inner.sync_with(&p).await;
            if let Ok(r) = &result {
                summary.accepted += r.import.accepted;
            }
            summary.peers.push(SyncReport::view(p.device, &result));
        }
        Ok(summary)
    }

    /// Whole-blob uploads this node completed for peers, and the bytes it
    /// sent (aborted uploads included).
    pub fn blobs_served(&self) -> (u64, u64) {
        self.inner.media.served()
    }

    /// Stops serving and closes the endpoint.
    pub async fn shutdown(&self) {
        let tasks = std::mem::take(&mut *guard(&self.inner.tasks));
        for t in &tasks {
            t.abort();
        }
        guard(&self.inner.senders).clear();
        // Protocols wind down gracefully, but a peer in the middle of a
        // session must not hold the shutdown up.
        let graceful = self.inner.router.shutdown();
        if tokio::time::timeout(SHUTDOWN_GRACE, graceful)
            .await
            .is_err()
        {
            let close = self.inner.router.endpoint().close();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, close).await;
        }
    }
}

impl Inner {
    fn spawn(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(fut);
        let mut tasks = guard(&self.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle);
    }

    fn emit(&self, e: Event) {
        let _ = self.events.send(e);
    }

    /// The spaces a catch-up with `peer` names: everything held (the
    /// account space too for this identity's own devices) when the peer is
    /// a relation — a ticket came with it, or it writes in a space held
    /// here — else only spaces it showed it knows: topics it was met on,
    /// spaces it asked about (with proof of their key).
    fn spaces_for(
        &self,
        peer: &DeviceId,
    ) -> Result<Vec<(SpaceId, crate::space::AuthKey)>, NetError> {
        let n = lock(&self.node);
        let store = n.store_ref();
        let own = store.is_own_device(peer)?;
        let all = store.sync_spaces(own)?;
        if own || store.is_related(peer)? {
            return Ok(all);
        }
        let mut known = guard(&self.met).of(peer);
        known.extend(store.peer_named(peer)?.unwrap_or_default().spaces);
        Ok(all.into_iter().filter(|(s, _)| known.contains(s)).collect())
    }

    async fn sync_with(self: &Arc<Self>, peer: &PeerAddr) -> Result<SyncReport, NetError> {
        let short = peer.device.fmt_short();
        let one = {
            let mut m = guard(&self.per_peer);
            if m.len() > 4096 {
                m.retain(|_, l| Arc::strong_count(l) > 1);
            }
            m.entry(peer.device).or_default().clone()
        };
        let _one = one.lock().await;
        let spaces = self.spaces_for(&peer.device)?;
        let _turn = self.outbound.acquire().await;
        let cx = catchup::Context {
            node: self.node.clone(),
            budget: self.budget.clone(),
            events: self.events.clone(),
        };
        let fut = catchup::initiate(self.router.endpoint(), &cx, &self.config, peer, spaces);
        let result = match tokio::time::timeout(self.config.session_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(NetError::Timeout(short)),
        };
        self.emit(catchup::event(peer.device, true, &result));
        if result.is_ok() {
            // The peer is online and holds what it just sent, images too.
            self.saw(peer.device);
            let _ = self.fetch_wanted(Some(peer.device));
        }
        result
    }

    /// The address to dial `device` at: what the peers table knows, or
    /// just its id (the endpoint then uses its lookups and live paths).
    fn address_of(&self, device: DeviceId) -> PeerAddr {
        let known = lock(&self.node).store_ref().peer(&device).ok().flatten();
        known.unwrap_or(PeerAddr::bare(device))
    }

    fn saw(&self, peer: DeviceId) {
        let mut recent = guard(&self.recent);
        recent.retain(|p| *p != peer);
        recent.insert(0, peer);
        recent.truncate(64);
    }

    /// Broadcasts this device's new entries, per the announcer's plan.
    async fn announce(&self, announcer: &mut Announcer) -> Result<(), NetError> {
        let heads = lock(&self.node).store_ref().feed_heads(&self.me)?;
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
                Announce::Entries { from, to } => lock(&self.node)
                    .store_ref()
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

    /// Joins the topic of every feed space not joined yet.
    fn join_topics(self: &Arc<Self>) -> Result<(), NetError> {
        if !self.config.live {
            return Ok(());
        }
        let spaces = lock(&self.node).store_ref().sync_spaces(false)?;
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
        }
        Ok(())
    }

    /// Peers to bootstrap a space's topic from: devices that write in it,
    /// peers met on it, and for a feed relations too (never strangers met
    /// elsewhere: a topic id says nothing to them, but it would link this
    /// node to it).
    fn bootstrap(&self, space: &SpaceId) -> Vec<iroh::EndpointId> {
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
        let n = lock(&self.node);
        let store = n.store_ref();
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
        drop(n);
        out.truncate(32);
        out
    }

    /// The senders of the topics joined so far, by space.
    fn topic_senders(&self) -> Vec<(SpaceId, GossipSender)> {
        guard(&self.senders)
            .iter()
            .filter_map(|(s, g)| g.clone().map(|g| (*s, g)))
            .collect()
    }

    /// Asks the devices that write in each joined space, as they become
    /// known, to join its topic (a topic is bootstrapped from them, and a
    /// new group member knows none before its first catch-up).
    async fn join_writers(&self) {
        for (space, sender) in self.topic_senders() {
            let writers = lock(&self.node)
                .store_ref()
                .log_devices(&space)
                .unwrap_or_default();
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
    fn met(&self, peer: DeviceId, space: SpaceId) {
        guard(&self.met).saw(peer, space);
    }

    /// Puts the peers table's addresses into the endpoint's lookup.
    fn refresh_lookup(&self) -> Result<(), NetError> {
        for (p, _) in lock(&self.node).store_ref().peers()? {
            if p.device != self.me
                && !p.addrs.is_empty()
                && let Some(addr) = endpoint_addr(&p)
            {
                self.lookup.add_endpoint_info(addr);
            }
        }
        Ok(())
    }

    /// Starts fetching images that stored posts lack.
    fn fetch_wanted(self: &Arc<Self>, came_from: Option<DeviceId>) -> Result<(), NetError> {
        let wants = lock(&self.node).store_ref().wanted_blobs(32)?;
        let now = tokio::time::Instant::now();
        for want in wants {
            if guard(&self.failed)
                .get(&want.hash)
                .is_some_and(|t| *t > now)
            {
                continue;
            }
            if !guard(&self.media.fetching).insert(want.hash) {
                continue;
            }
            let inner = self.clone();
            self.spawn(async move {
                let r = inner.fetch(&want, came_from).await;
                inner.media.done(&want.hash);
                match r {
                    Ok(bytes) => {
                        guard(&inner.failed).remove(&want.hash);
                        inner.emit(Event::BlobFetched {
                            hash: want.hash,
                            bytes,
                        });
                    }
                    Err(_) => {
                        // Nobody served it: try again later, not at every change.
                        let later = tokio::time::Instant::now() + RETRY_FETCH;
                        guard(&inner.failed).insert(want.hash, later);
                    }
                }
            });
        }
        Ok(())
    }

    fn sources_for(
        &self,
        want: &crate::store::Want,
        came_from: Option<DeviceId>,
        round: u32,
    ) -> Vec<DeviceId> {
        let recent = guard(&self.recent).clone();
        guard(&self.sources).order(&want.hash, self.me, came_from, &recent, want.author, round)
    }

    async fn fetch(
        &self,
        want: &crate::store::Want,
        came_from: Option<DeviceId>,
    ) -> Result<u64, NetError> {
        let only_author = came_from.is_none_or(|c| c == want.author);
        if only_author && !guard(&self.sources).known(&want.hash) {
            // Only the author is known to have it: wait a moment, so that
            // followers who fetched it first can say so and share the load.
            tokio::time::sleep(jitter(FETCH_JITTER_MS)).await;
        }
        let err = |reason: String| NetError::Fetch {
            hash: want.hash.fmt_short(),
            reason,
        };
        // Rounds: a busy source refuses at once; between rounds, holders
        // announce themselves and uploads end.
        let mut round = 0;
        let bytes = loop {
            let order = self.sources_for(want, came_from, round);
            match self.media.fetch(&want.hash, &order, want.len).await {
                Ok(bytes) => break bytes,
                Err(e) if round + 1 >= FETCH_ROUNDS => return Err(err(e)),
                Err(_) => {
                    round += 1;
                    tokio::time::sleep(Duration::from_millis(100) + jitter(ROUND_JITTER_MS)).await;
                }
            }
        };
        lock(&self.node)
            .store_ref()
            .put_wanted_blob(&want.hash, &bytes)?;
        guard(&self.sources).forget(&want.hash);
        // Tell the space's swarm: followers fetch from each other.
        let sender = guard(&self.senders).get(&want.space).cloned().flatten();
        if let Some(sender) = sender {
            let have = Notice::Have {
                hash: want.hash,
                holder: self.me,
            };
            let _ = sender.broadcast(have.encode().into()).await;
        }
        Ok(bytes.len() as u64)
    }

    /// Handles one notice from a space's topic. Entries go to the ingest
    /// task, which verifies them off the node's lock and commits them in
    /// batches.
    async fn on_notice(self: &Arc<Self>, space: SpaceId, from: DeviceId, bytes: &[u8]) {
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
                let _ = self.ingest.send(ingest::Live { space, from, entry }).await;
            }
            Notice::Head { device, seq } => {
                let held = lock(&self.node)
                    .store_ref()
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

/// Watches the store: announces news, joins new topics, refreshes peer
/// addresses and fetches missing images; wakes on a local change or every
/// `watch_every`.
async fn watch(inner: Arc<Inner>, mut announcer: Announcer) {
    let mut seen: Option<u64> = None;
    let mut woken = true;
    let mut checked_at = tokio::time::Instant::now();
    loop {
        if checked_at.elapsed() >= inner.config.check_every {
            // Gossip can lose a log's last notice, which no later gap
            // reveals: ask the peers seen lately (42 bytes when in sync).
            checked_at = tokio::time::Instant::now();
            let recent: Vec<DeviceId> = guard(&inner.recent)
                .iter()
                .take(CHECK_PEERS)
                .copied()
                .collect();
            for peer in recent {
                let _ = inner.catch_up.send(peer);
            }
        }
        let counter = lock(&inner.node).store_ref().change_counter().ok();
        if woken || counter.is_none() || counter != seen {
            seen = counter;
            let _ = inner.refresh_lookup();
            let _ = inner.join_topics();
            inner.join_writers().await;
            let _ = inner.announce(&mut announcer).await;
            let _ = inner.fetch_wanted(None);
        }
        woken = tokio::select! {
            _ = inner.wake.notified() => true,
            _ = tokio::time::sleep(inner.config.watch_every) => false,
        };
    }
}

/// Runs catch-ups as they are asked for, at most one per peer at a time.
async fn schedule_catch_ups(inner: Arc<Inner>, mut requests: mpsc::UnboundedReceiver<DeviceId>) {
    let (done_tx, mut done) = mpsc::unbounded_channel::<DeviceId>();
    let mut state = CatchUps::default();
    loop {
        let start = tokio::select! {
            Some(peer) = requests.recv() => state.request(peer).then_some(peer),
            Some(peer) = done.recv() => state.finished(peer).then_some(peer),
            else => return,
        };
        let Some(peer) = start else { continue };
        if peer == inner.me {
            state.finished(peer);
            continue;
        }
        let inner2 = inner.clone();
        let done_tx = done_tx.clone();
        inner.spawn(async move {
            let addr = inner2.address_of(peer);
            let _ = inner2.sync_with(&addr).await;
            let _ = done_tx.send(peer);
        });
    }
}

/// Follows one space's topic: stores what arrives, catches up on gaps, with
/// new neighbors and after a lag, and rejoins if the subscription ends.
async fn follow_topic(inner: Arc<Inner>, space: SpaceId, topic: TopicId) {
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
                    let _ = lock(&inner.node)
                        .store_ref()
                        .touch_peer(&peer, crate::node::now_ms());
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

fn start_local_discovery(inner: &Arc<Inner>, endpoint: &Endpoint) -> Result<(), String> {
    let mdns = iroh_mdns_address_lookup::MdnsAddressLookup::builder()
        .build(endpoint.id())
        .map_err(|e| e.to_string())?;
    endpoint
        .address_lookup()
        .map_err(|e| e.to_string())?
        .add(mdns.clone());
    inner.spawn(watch_local_network(inner.clone(), mdns));
    Ok(())
}

/// Catches up with related peers that appear on the local network, and
/// joins them on the topics of the spaces they write in (a peer that merely
/// dialled this node once learns no topic).
async fn watch_local_network(inner: Arc<Inner>, mdns: iroh_mdns_address_lookup::MdnsAddressLookup) {
    let mut events = mdns.subscribe().await;
    while let Some(event) = events.next().await {
        if let iroh_mdns_address_lookup::DiscoveryEvent::Discovered { endpoint_info, .. } = event {
            let peer = device_of(&endpoint_info.endpoint_id);
            let related = lock(&inner.node).store_ref().is_related(&peer);
            if !matches!(related, Ok(true)) {
                continue;
            }
            inner.saw(peer);
            let _ = inner.catch_up.send(peer);
            for (space, sender) in inner.topic_senders() {
                let writes = lock(&inner.node)
                    .store_ref()
                    .log_devices(&space)
                    .is_ok_and(|ds| ds.contains(&peer));
                if writes || guard(&inner.met).of(&peer).contains(&space) {
                    let _ = sender.join_peers(vec![endpoint_info.endpoint_id]).await;
                }
            }
        }
    }
}
