//! Networking: one iroh endpoint per running node, keyed by the device key
//! (device id == endpoint id), serving the catch-up protocol
//! [`SYNC_ALPN`]. The protocol logic is the sans-IO [`crate::sync::Session`];
//! this module only moves its messages over a QUIC stream, length-prefixed,
//! and hands received entries to the store, which verifies each batch and
//! commits it in one transaction.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use iroh::endpoint::{Connection, RecvStream, SendStream, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, RelayMode, SecretKey, TransportAddr};

use crate::entry::Entry;
use crate::id::DeviceId;
use crate::node::Node;
use crate::store::ImportReport;
use crate::sync::{Limits, Message, Session, Step, SyncError};
use crate::ticket::PeerAddr;

/// The ALPN of the catch-up protocol.
pub const SYNC_ALPN: &[u8] = b"starling/sync/1";
/// Largest protocol frame accepted.
pub const MAX_FRAME: usize = 8 << 20;

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
}

impl NetConfig {
    /// Loopback only, no relays: for tests.
    pub fn loopback() -> Self {
        Self {
            bind: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            relay: Relay::Disabled,
            limits: Limits::default(),
            session_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
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

/// Something that happened on the network, for a running node to show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetEvent {
    /// A sync session with a peer finished.
    Synced {
        /// The peer.
        peer: DeviceId,
        /// Whether this side started it.
        initiated: bool,
        /// Entries newly accepted from the peer.
        accepted: u64,
        /// Entries refused.
        rejected: u64,
        /// Bytes received.
        bytes_received: u64,
    },
    /// A long catch-up is under way: what has been received so far.
    Progress {
        /// The peer.
        peer: DeviceId,
        /// Entries received so far in this session.
        entries: u64,
        /// Bytes received so far.
        bytes: u64,
        /// Entries received so far per space.
        per_space: Vec<(crate::id::SpaceId, u64)>,
    },
    /// A session with a peer failed.
    SyncFailed {
        /// The peer.
        peer: DeviceId,
        /// Why.
        error: String,
    },
}

/// A running node's network face.
#[derive(Debug)]
pub struct Peer {
    router: Router,
    node: SharedNode,
    config: NetConfig,
    events: tokio::sync::broadcast::Sender<NetEvent>,
}

impl Peer {
    /// Binds the endpoint with the node's device key and starts serving.
    pub async fn start(node: SharedNode, config: NetConfig) -> Result<Self, NetError> {
        let secret = SecretKey::from_bytes(&lock(&node).device_secret());
        let relay = match &config.relay {
            Relay::Disabled => RelayMode::Disabled,
            Relay::Default => RelayMode::Default,
            Relay::Custom(url) => {
                let url: iroh::RelayUrl =
                    url.parse().map_err(|_| NetError::BadRelay(url.clone()))?;
                RelayMode::Custom(url.into())
            }
        };
        let mut builder = Endpoint::builder(presets::Minimal)
            .secret_key(secret)
            .relay_mode(relay)
            .alpns(vec![SYNC_ALPN.to_vec()]);
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
        let (events, _) = tokio::sync::broadcast::channel(1024);
        let handler = SyncHandler {
            node: node.clone(),
            limits: config.limits,
            timeout: config.session_timeout,
            events: events.clone(),
        };
        let router = Router::builder(endpoint).accept(SYNC_ALPN, handler).spawn();
        Ok(Self {
            router,
            node,
            config,
            events,
        })
    }

    /// Events from now on (a slow reader misses the oldest).
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<NetEvent> {
        self.events.subscribe()
    }

    /// This node's address: its device id and bound sockets.
    pub fn addr(&self) -> PeerAddr {
        let ep = self.router.endpoint();
        PeerAddr {
            device: DeviceId(*ep.id().as_bytes()),
            addrs: ep.bound_sockets(),
        }
    }

    /// The node this peer serves.
    pub fn node(&self) -> &SharedNode {
        &self.node
    }

    /// Catches up with `peer` on every feed this node holds.
    pub async fn sync_with(&self, peer: &PeerAddr) -> Result<SyncReport, NetError> {
        let short = peer.device.fmt_short();
        let fut = self.sync_inner(peer);
        let result = match tokio::time::timeout(self.config.session_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(NetError::Timeout(short)),
        };
        let _ = self.events.send(event(peer.device, true, &result));
        result
    }

    async fn sync_inner(&self, peer: &PeerAddr) -> Result<SyncReport, NetError> {
        let short = peer.device.fmt_short();
        let id =
            iroh::PublicKey::from_bytes(peer.device.as_bytes()).map_err(|e| NetError::Connect {
                peer: short.clone(),
                reason: e.to_string(),
            })?;
        let addr = EndpointAddr::from_parts(id, peer.addrs.iter().map(|a| TransportAddr::Ip(*a)));
        let connecting = self.router.endpoint().connect(addr, SYNC_ALPN);
        let conn = match tokio::time::timeout(self.config.connect_timeout, connecting).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => {
                return Err(NetError::Connect {
                    peer: short,
                    reason: e.to_string(),
                });
            }
            Err(_) => {
                return Err(NetError::Connect {
                    peer: short,
                    reason: "no answer (offline or unreachable)".into(),
                });
            }
        };
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| NetError::Stream {
            peer: short.clone(),
            reason: e.to_string(),
        })?;
        let spaces = lock(&self.node)
            .store()
            .feed_spaces()
            .map_err(crate::node::NodeError::from)?;
        let (mut session, hello) = {
            let n = lock(&self.node);
            let asked = n
                .store_ref()
                .peer_asked(&peer.device)
                .map_err(crate::node::NodeError::from)?;
            Session::initiate_with(n.store_ref(), &spaces, self.config.limits, asked.as_ref())
        };
        let mut report = SyncReport {
            peer: Some(peer.device),
            ..Default::default()
        };
        write_frame(&mut send, &hello, &mut report, &short).await?;
        run_session(
            &self.node,
            &mut session,
            &mut send,
            &mut recv,
            &mut report,
            &peer.device,
            &self.events,
        )
        .await?;
        conn.close(0u32.into(), b"done");
        Ok(report)
    }

    /// Stops serving and closes the endpoint.
    pub async fn shutdown(self) {
        let _ = self.router.shutdown().await;
    }
}

/// Received entries are committed in chunks of this many (one transaction
/// each), not one transaction per message.
const APPLY_CHUNK: usize = 8192;

/// Runs a session until it finishes: read a frame, step, send; received
/// entries are verified and committed in large chunks, and whatever is left
/// when the session ends. Then closes the sending side, waits (briefly) for
/// the peer to read it all, and notes when the peer was seen.
async fn run_session(
    node: &SharedNode,
    session: &mut Session,
    send: &mut SendStream,
    recv: &mut RecvStream,
    report: &mut SyncReport,
    remote: &DeviceId,
    events: &tokio::sync::broadcast::Sender<NetEvent>,
) -> Result<(), NetError> {
    let short = remote.fmt_short();
    let peer = short.as_str();
    let mut received: Vec<Entry> = Vec::new();
    let mut per_space: std::collections::BTreeMap<crate::id::SpaceId, u64> = Default::default();
    let mut total = 0u64;
    while !session.is_finished() {
        let msg = read_frame(recv, report, peer).await?;
        let step: Step = {
            let n = lock(node);
            let step = session
                .handle(msg, n.store_ref())
                .map_err(|error| NetError::Protocol {
                    peer: peer.to_string(),
                    error,
                })?;
            if let Some(what) = &step.remember {
                n.store_ref()
                    .remember_peer(remote, what)
                    .map_err(crate::node::NodeError::from)?;
            }
            step
        };
        for (space, batch) in &step.received {
            *per_space.entry(*space).or_default() += batch.len() as u64;
            total += batch.len() as u64;
            for bytes in batch {
                match Entry::decode(bytes) {
                    Ok(e) => received.push(e),
                    Err(err) => report.import.rejected.push(crate::store::Rejection {
                        id: None,
                        reason: err.to_string(),
                    }),
                }
            }
        }
        if received.len() >= APPLY_CHUNK {
            apply(node, &mut received, report)?;
            let _ = events.send(NetEvent::Progress {
                peer: *remote,
                entries: total,
                bytes: report.bytes_received,
                per_space: per_space.iter().map(|(s, n)| (*s, *n)).collect(),
            });
        }
        for m in &step.send {
            write_frame(send, m, report, peer).await?;
        }
    }
    apply(node, &mut received, report)?;
    send.finish().ok();
    let _ = tokio::time::timeout(Duration::from_secs(5), send.stopped()).await;
    lock(node)
        .store()
        .touch_peer(remote, crate::node::now_ms())
        .map_err(crate::node::NodeError::from)?;
    Ok(())
}

fn apply(
    node: &SharedNode,
    received: &mut Vec<Entry>,
    report: &mut SyncReport,
) -> Result<(), NetError> {
    if received.is_empty() {
        return Ok(());
    }
    let r = lock(node)
        .store()
        .import_entries(std::mem::take(received))
        .map_err(crate::node::NodeError::from)?;
    merge(&mut report.import, r);
    Ok(())
}

fn event(peer: DeviceId, initiated: bool, result: &Result<SyncReport, NetError>) -> NetEvent {
    match result {
        Ok(r) => NetEvent::Synced {
            peer,
            initiated,
            accepted: r.import.accepted,
            rejected: r.import.rejected.len() as u64,
            bytes_received: r.bytes_received,
        },
        Err(e) => NetEvent::SyncFailed {
            peer,
            error: e.to_string(),
        },
    }
}

fn merge(into: &mut ImportReport, r: ImportReport) {
    into.accepted += r.accepted;
    into.known += r.known;
    into.pending += r.pending;
    into.blobs += r.blobs;
    into.rejected.extend(r.rejected);
}

async fn write_frame(
    send: &mut SendStream,
    msg: &Message,
    report: &mut SyncReport,
    peer: &str,
) -> Result<(), NetError> {
    let bytes = msg.encode();
    let mut frame = Vec::with_capacity(4 + bytes.len());
    frame.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    frame.extend_from_slice(&bytes);
    send.write_all(&frame).await.map_err(|e| NetError::Stream {
        peer: peer.to_string(),
        reason: e.to_string(),
    })?;
    report.messages += 1;
    report.bytes_sent += frame.len() as u64;
    Ok(())
}

async fn read_frame(
    recv: &mut RecvStream,
    report: &mut SyncReport,
    peer: &str,
) -> Result<Message, NetError> {
    let stream_err = |e: String| NetError::Stream {
        peer: peer.to_string(),
        reason: e,
    };
    let mut len = [0u8; 4];
    recv.read_exact(&mut len)
        .await
        .map_err(|e| stream_err(e.to_string()))?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(stream_err(format!(
            "frame of {len} bytes is over the {MAX_FRAME}-byte limit"
        )));
    }
    let mut buf = vec![0u8; len];
    recv.read_exact(&mut buf)
        .await
        .map_err(|e| stream_err(e.to_string()))?;
    report.messages += 1;
    report.bytes_received += 4 + len as u64;
    Message::decode(&buf).map_err(|error| NetError::Protocol {
        peer: peer.to_string(),
        error,
    })
}

/// Serves the catch-up protocol to peers that connect.
#[derive(Debug, Clone)]
struct SyncHandler {
    node: SharedNode,
    limits: Limits,
    timeout: Duration,
    events: tokio::sync::broadcast::Sender<NetEvent>,
}

impl ProtocolHandler for SyncHandler {
    async fn accept(&self, connection: Connection) -> Result<(), AcceptError> {
        let remote = DeviceId(*connection.remote_id().as_bytes());
        let short = remote.fmt_short();
        let work = async {
            let (mut send, mut recv) =
                connection.accept_bi().await.map_err(|e| NetError::Stream {
                    peer: short.clone(),
                    reason: e.to_string(),
                })?;
            let named = lock(&self.node)
                .store_ref()
                .peer_named(&remote)
                .map_err(crate::node::NodeError::from)?;
            let mut session = Session::respond_with(self.limits, named);
            let mut report = SyncReport {
                peer: Some(remote),
                ..Default::default()
            };
            run_session(
                &self.node,
                &mut session,
                &mut send,
                &mut recv,
                &mut report,
                &remote,
                &self.events,
            )
            .await?;
            Ok::<_, NetError>(report)
        };
        let result = match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(NetError::Timeout(short)),
        };
        if result.is_err() {
            connection.close(1u32.into(), b"sync failed");
        }
        let _ = self.events.send(event(remote, false, &result));
        Ok(())
    }
}
