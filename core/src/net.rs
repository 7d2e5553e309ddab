//! Networking: one iroh endpoint per running node, keyed by the device key
//! (device id == endpoint id), with three protocols on it:
//!
//! - catch-up ([`SYNC_ALPN`], `catchup.rs`): the sans-IO
//!   [`crate::protocol::catchup::Session`] over one QUIC stream, the
//!   connection kept for the next session with that peer (`pool.rs`);
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
mod discovery;
mod link;
mod live;
mod media;
mod pool;
mod service;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use iroh::address_lookup::memory::MemoryLookup;
use iroh::endpoint::presets;
use iroh::protocol::Router;
use iroh::{Endpoint, EndpointAddr, RelayMode, SecretKey, TransportAddr};
use iroh_gossip::Gossip;
use iroh_gossip::api::GossipSender;
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::id::{DeviceId, Hash, SpaceId};
use crate::node::Node;
use crate::protocol::catchup::{Limits, SyncError};
use crate::protocol::live::{Announcer, MAX_NOTICE};
use crate::protocol::media::Sources;
use crate::store::ImportReport;
use crate::ticket::PeerAddr;
pub use crate::view::Event;
use media::Media;

pub use catchup::{
    CHUNK_BYTES, FRAME_STALL, IDLE_FLUSH, MAX_FRAME, MAX_KEPT_ACCEPTED, MAX_REFUSED_PER_SESSION,
    MAX_SESSIONS, SESSIONS_PER_PEER, SYNC_ALPN, UNVERIFIED_BUDGET,
};
pub use link::{LinkRequest, join as join_link};
pub use pool::IDLE_CLOSE;
pub use service::{STORAGE_CHECK_EVERY, Service, ServiceConfig, StatusTracker};

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
    /// Linking a device failed (refused, not confirmed, expired).
    #[error("device link: {0}")]
    Link(String),
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

/// Finding devices by their key through the BitTorrent Mainline DHT,
/// with no server of ours: each device publishes its addresses there as a
/// record signed by its device key (pkarr), and peers whose known
/// addresses fail look it up. Opt-in: the addresses (IP and relay) become
/// public.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dht {
    /// Nodes to join the DHT through (`host:port`); empty: the public
    /// Mainline network's usual ones. A private network (the simulator)
    /// names its own (`starling dht-node`).
    pub bootstrap: Vec<String>,
}

/// How often a device publishes its addresses in the DHT again (and
/// retries a publish that failed): a few UDP packets to the nodes closest
/// to its key.
pub const DHT_REPUBLISH_EVERY: Duration = Duration::from_secs(60);

impl Dht {
    /// The address lookup that publishes to and resolves from the DHT.
    fn lookup(&self) -> iroh_mainline_address_lookup::Builder {
        let mut dht = n0_mainline::Dht::builder();
        if !self.bootstrap.is_empty() {
            dht.bootstrap(&self.bootstrap);
        }
        iroh_mainline_address_lookup::DhtAddressLookup::builder()
            .dht_builder(dht)
            // A publish right after a move may find the network not ready
            // yet; the next try comes a minute later, not an hour.
            .republish_delay(DHT_REPUBLISH_EVERY)
            // Direct addresses too: a device that moved is found at its
            // new address even with no relay.
            .addr_filter(iroh::address_lookup::AddrFilter::unfiltered())
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
    /// Publish and look up addresses in the Mainline DHT (`None`: off).
    pub dht: Option<Dht>,
    /// A catch-up connection a peer dialed is closed after this long with
    /// no new session on it ([`IDLE_CLOSE`]).
    pub idle_close: Duration,
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
            dht: None,
            idle_close: IDLE_CLOSE,
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
    /// The path the session ended on.
    pub path: Option<crate::view::Path>,
    /// Whether the session ran on the connection kept from the last one
    /// with this peer (no new handshake).
    pub reused: bool,
}

/// The store as the network reaches it: behind the node's lock, one short
/// operation at a time. The network does not call the node facade (only
/// [`Peer::start`] reads the device's key from it).
#[derive(Debug, Clone)]
pub(crate) struct StoreHandle(SharedNode);

/// The store, locked for one operation.
pub(crate) struct StoreGuard<'a>(MutexGuard<'a, Node>);

impl std::ops::Deref for StoreGuard<'_> {
    type Target = crate::store::Store;
    fn deref(&self) -> &crate::store::Store {
        self.0.store_ref()
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut crate::store::Store {
        self.0.store()
    }
}

impl StoreHandle {
    /// Locks the store for one operation (never across an await).
    pub(crate) fn lock(&self) -> StoreGuard<'_> {
        StoreGuard(lock(&self.0))
    }
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
                path: r.path,
            },
            Err(e) => crate::view::PeerSync {
                peer,
                ok: false,
                import: None,
                bytes_sent: 0,
                bytes_received: 0,
                error: Some(e.to_string()),
                path: None,
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

/// Longest a shutdown waits for protocols and connections to wind down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How many of the peers seen lately are asked every `check_every`.
const CHECK_PEERS: usize = 8;

/// Most catch-ups this node runs with others at once.
const OUTBOUND_SESSIONS: usize = 8;

/// The state the background tasks share.
#[derive(Debug)]
struct Inner {
    router: Router,
    store: StoreHandle,
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
    /// Catch-up connections kept for the next session with each peer.
    kept: pool::Pool,
    /// One catch-up with a peer at a time, however it was asked for (a
    /// second waits, then finds little left to do).
    per_peer: Mutex<std::collections::HashMap<DeviceId, Arc<tokio::sync::Mutex<()>>>>,
    /// Spaces peers showed they know.
    met: Mutex<live::Met>,
    /// Entries that came live, on their way to the store in batches.
    ingest: mpsc::Sender<live::Arrival>,
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
    /// The device-link offer this node serves, if any.
    offers: link::Offers,
}

/// A running node's network face.
#[derive(Debug)]
pub struct Peer {
    inner: Arc<Inner>,
    local_discovery: Result<(), String>,
    /// This process's hold on the home's network, let go at shutdown.
    home_lock: Mutex<Option<crate::node::HomeLock>>,
}

/// How this process names itself in the home's network lock: its
/// program's name.
fn process_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "another Starling process".to_string())
}

fn endpoint_id(device: &DeviceId) -> Option<iroh::EndpointId> {
    iroh::PublicKey::from_bytes(device.as_bytes()).ok()
}

fn device_of(id: &iroh::EndpointId) -> DeviceId {
    DeviceId(*id.as_bytes())
}

/// Binds an iroh endpoint with `secret` as `config` says (addresses,
/// relays), finding peers through `lookup`.
async fn bind(
    secret: SecretKey,
    config: &NetConfig,
    lookup: MemoryLookup,
) -> Result<Endpoint, NetError> {
    let relay = match &config.relay {
        Relay::Disabled => RelayMode::Disabled,
        Relay::Default => RelayMode::Default,
        Relay::Custom(url) => {
            let url: iroh::RelayUrl = url.parse().map_err(|_| NetError::BadRelay(url.clone()))?;
            RelayMode::Custom(url.into())
        }
    };
    let mut builder = Endpoint::builder(presets::Minimal)
        .secret_key(secret)
        .relay_mode(relay)
        .address_lookup(lookup);
    if let Some(dht) = &config.dht {
        builder = builder.address_lookup(dht.lookup());
    }
    if !config.bind.is_empty() {
        builder = builder.clear_ip_transports();
        for a in &config.bind {
            builder = builder
                .bind_addr(*a)
                .map_err(|e| NetError::Bind(e.to_string()))?;
        }
    }
    builder
        .bind()
        .await
        .map_err(|e| NetError::Bind(e.to_string()))
}

/// Dials `peer` for protocol `alpn`, giving up after the configured
/// connect timeout.
async fn connect(
    endpoint: &Endpoint,
    config: &NetConfig,
    peer: &PeerAddr,
    alpn: &[u8],
) -> Result<iroh::endpoint::Connection, NetError> {
    let short = peer.device.fmt_short();
    let fail = |reason: String| NetError::Connect {
        peer: short.clone(),
        reason,
    };
    let addr = endpoint_addr(peer).ok_or_else(|| fail("not a valid device key".into()))?;
    match tokio::time::timeout(config.connect_timeout, endpoint.connect(addr, alpn)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(fail(e.to_string())),
        Err(_) => Err(fail("no answer (offline or unreachable)".into())),
    }
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
        // One endpoint per device key: taken before anything binds.
        let home_lock = crate::node::HomeLock::acquire(lock(&node).home(), &process_name())?;
        let secret = SecretKey::from_bytes(&lock(&node).device_secret());
        let me = lock(&node).device();
        let lookup = MemoryLookup::new();
        let store = StoreHandle(node);
        for (p, _) in store.lock().peers()? {
            if let Some(addr) = endpoint_addr(&p).filter(|_| !p.addrs.is_empty()) {
                lookup.add_endpoint_info(addr);
            }
        }
        let endpoint = bind(secret, &config, lookup.clone()).await?;
        let (events, _) = broadcast::channel(4096);
        let gossip = Gossip::builder()
            .max_message_size(MAX_NOTICE)
            .spawn(endpoint.clone());
        let media = Media::new(&endpoint);
        let budget = catchup::Budget::new(UNVERIFIED_BUDGET);
        let handler = catchup::SyncHandler {
            cx: catchup::Context {
                store: store.clone(),
                budget: catchup::Budget::new(UNVERIFIED_BUDGET),
                events: events.clone(),
            },
            me,
            limits: config.limits,
            timeout: config.session_timeout,
            idle_close: config.idle_close,
            sessions: Default::default(),
        };
        let offers = link::Offers::default();
        let linker = link::LinkHandler {
            offers: offers.clone(),
            node: store.0.clone(),
            me,
        };
        let router = Router::builder(endpoint.clone())
            .accept(SYNC_ALPN, handler)
            .accept(crate::protocol::link::LINK_ALPN, linker)
            .accept(iroh_gossip::ALPN, gossip.clone())
            .accept(iroh_blobs::ALPN, media.protocol(store.clone()))
            .spawn();
        let (catch_up, requests) = mpsc::unbounded_channel();
        let (ingest, arrivals) = mpsc::channel(live::QUEUE);
        let inner = Arc::new(Inner {
            router,
            store,
            me,
            config,
            events,
            gossip,
            lookup,
            media,
            sources: Default::default(),
            budget,
            outbound: tokio::sync::Semaphore::new(OUTBOUND_SESSIONS),
            kept: Default::default(),
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
            offers,
        });
        let announcer = Announcer::starting_at(inner.store.lock().feed_heads(&me)?);
        inner.spawn(watch(inner.clone(), announcer));
        inner.spawn(catchup::schedule_catch_ups(inner.clone(), requests));
        inner.spawn(live::ingest(inner.clone(), arrivals));
        let local_discovery = if inner.config.local_discovery {
            discovery::start_local_discovery(&inner, &endpoint)
        } else {
            Err("turned off".to_string())
        };
        Ok(Self {
            inner,
            local_discovery,
            home_lock: Mutex::new(Some(home_lock)),
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

    /// Opens a device-link code valid for `valid_ms` (replacing any open
    /// one): the ticket to show the new device, and the request that
    /// arrives when one connects with it (answer it with
    /// [`LinkRequest::answer`] after the user compared the codes).
    pub fn link_offer(
        &self,
        valid_ms: u64,
    ) -> Result<(crate::ticket::Ticket, mpsc::Receiver<LinkRequest>), NetError> {
        if !lock(&self.inner.store.0).holds_identity_key() {
            return Err(crate::node::NodeError::NotTrusted.into());
        }
        let random = crate::node::random()?;
        let (ticket, requests) = link::offer(&self.inner.offers, self.addr(), random, valid_ms);
        Ok((crate::ticket::Ticket::Device(ticket), requests))
    }

    /// This node's address: its device id, bound sockets and home relay
    /// (once one answered: see [`Peer::online`]).
    pub fn addr(&self) -> PeerAddr {
        let ep = self.inner.router.endpoint();
        let known = ep.addr();
        // A socket bound to one address is dialable there; one bound to
        // 0.0.0.0 or :: is no address another device can dial: in its place,
        // the addresses iroh found on this machine's interfaces for it.
        let mut addrs: Vec<std::net::SocketAddr> = Vec::new();
        for bound in ep.bound_sockets() {
            let found: Vec<_> = if PeerAddr::dialable(&bound) {
                vec![bound]
            } else {
                known
                    .ip_addrs()
                    .filter(|a| a.port() == bound.port() && a.is_ipv4() == bound.is_ipv4())
                    .copied()
                    .collect()
            };
            for a in found {
                if PeerAddr::dialable(&a) && !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
        }
        PeerAddr {
            device: device_of(&ep.id()),
            addrs,
            relay: known.relay_urls().next().map(|u| u.to_string()),
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
            let store = self.inner.store.lock();
            if !peer.addrs.is_empty() || peer.relay.is_some() {
                store.add_peer(peer)?;
                if let Some(addr) = endpoint_addr(peer) {
                    self.inner.lookup.set_endpoint_info(addr);
                }
            }
            store.introduce_peer(&peer.device)?;
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
        let known = self.inner.store.lock().peers()?;
        let me = self.inner.me;
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

    /// Brings the account back on a device recovered from its phrase:
    /// catches up with `from` (a follower) or every known peer, restores
    /// the account from the newest backup that brought
    /// ([`Node::restore_account`](crate::Node::restore_account)), then
    /// catches up again for what it names (followed feeds, groups).
    pub async fn restore_account(
        &self,
        from: Option<&PeerAddr>,
    ) -> Result<crate::view::Restored, NetError> {
        let round = || async {
            match from {
                Some(p) => self.sync_with(p).await.map(|_| ()),
                None => self.sync_known().await.map(|_| ()),
            }
        };
        let first = round().await;
        let restored = lock(&self.inner.store.0).restore_account()?;
        if restored.found {
            // Best effort: what it names also comes at the next syncs.
            let _ = round().await;
        } else {
            first?;
        }
        Ok(restored)
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
        guard(&self.home_lock).take();
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

    /// The address to dial `device` at: what the peers table knows, or
    /// just its id (the endpoint then uses its lookups and live paths).
    fn address_of(&self, device: DeviceId) -> PeerAddr {
        let known = self.store.lock().peer(&device).ok().flatten();
        known.unwrap_or(PeerAddr::bare(device))
    }

    fn saw(&self, peer: DeviceId) {
        let mut recent = guard(&self.recent);
        recent.retain(|p| *p != peer);
        recent.insert(0, peer);
        recent.truncate(64);
    }

    /// Puts the peers table's addresses into the endpoint's lookup.
    fn refresh_lookup(&self) -> Result<(), NetError> {
        for (p, _) in self.store.lock().peers()? {
            if p.device != self.me
                && !p.addrs.is_empty()
                && let Some(addr) = endpoint_addr(&p)
            {
                // The store holds each peer's latest addresses: they replace
                // what the lookup had (a stale address may now be another
                // endpoint's, or a closing one that refuses).
                self.lookup.set_endpoint_info(addr);
            }
        }
        Ok(())
    }
}

/// Watches the store: announces news, joins new topics, refreshes peer
/// addresses and fetches missing images; wakes on a local change or every
/// `watch_every`.
async fn watch(inner: Arc<Inner>, mut announcer: Announcer) {
    let mut seen: Option<u64> = None;
    let mut woken = true;
    // The first round joins the topics of every space held at start.
    let mut started = false;
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
        let counter = inner.store.lock().change_counter().ok();
        if woken || counter.is_none() || counter != seen {
            seen = counter;
            let _ = inner.refresh_lookup();
            let _ = inner.join_topics(started);
            started = true;
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
