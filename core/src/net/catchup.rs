//! The catch-up protocol on the wire: the sans-IO [`Session`] driven over
//! one QUIC bi-stream, u32-LE length-prefixed frames, received entries
//! verified and committed in large chunks.

use std::time::Duration;

use iroh::Endpoint;
use iroh::endpoint::{Connection, RecvStream, SendStream};
use iroh::protocol::{AcceptError, ProtocolHandler};
use tokio::sync::{broadcast, mpsc};

use super::{NetConfig, NetError, NetEvent, SharedNode, SyncReport, endpoint_addr, lock};
use crate::entry::{Entry, KeyCache};
use crate::id::DeviceId;
use crate::store::{COMMIT_BATCH, ImportReport, Rejection, Verified};
use crate::sync::{Limits, Message, Outbox, Session, Step};
use crate::ticket::PeerAddr;

/// The ALPN of the catch-up protocol.
pub const SYNC_ALPN: &[u8] = b"starling/sync/1";
/// Largest protocol frame accepted.
pub const MAX_FRAME: usize = 8 << 20;

/// Opens a session with `peer` and catches up on every feed this node holds.
pub(super) async fn initiate(
    endpoint: &Endpoint,
    node: &SharedNode,
    config: &NetConfig,
    peer: &PeerAddr,
    events: &broadcast::Sender<NetEvent>,
) -> Result<SyncReport, NetError> {
    let short = peer.device.fmt_short();
    let addr = endpoint_addr(peer).ok_or_else(|| NetError::Connect {
        peer: short.clone(),
        reason: "not a valid device key".into(),
    })?;
    let connecting = endpoint.connect(addr, SYNC_ALPN);
    let conn = match tokio::time::timeout(config.connect_timeout, connecting).await {
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
    let (mut session, hello) = {
        let n = lock(node);
        let store = n.store_ref();
        let nerr = crate::node::NodeError::from;
        let mut spaces = store.synced_spaces().map_err(nerr)?;
        // The private account space, with this identity's other devices.
        if store.is_own_device(&peer.device).map_err(nerr)? {
            spaces.extend(store.account_space().map_err(nerr)?);
        }
        let asked = store.peer_asked(&peer.device).map_err(nerr)?;
        Session::initiate_with(
            &store.served_to(peer.device),
            &spaces,
            config.limits,
            asked.as_ref(),
        )
    };
    let mut report = SyncReport {
        peer: Some(peer.device),
        ..Default::default()
    };
    let mut tally = Tally::default();
    write_frame(&mut send, &hello, &mut tally, &short).await?;
    report.messages += tally.messages;
    report.bytes_sent += tally.bytes;
    run_session(
        node,
        &mut session,
        &mut send,
        &mut recv,
        &mut report,
        &peer.device,
        events,
    )
    .await?;
    conn.close(0u32.into(), b"done");
    Ok(report)
}

/// Received entries are committed in chunks of this many (one transaction
/// each), not one transaction per message.
const APPLY_CHUNK: usize = COMMIT_BATCH;
/// A progress event is sent each time this many more entries arrived.
const PROGRESS_EVERY: u64 = 2048;
/// Chunks received but not yet committed: reading stops (and the peer's
/// flow control holds it back) when the committer is this far behind.
const APPLY_QUEUE: usize = 2;

/// Frames and bytes one side wrote.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    messages: u64,
    bytes: u64,
}

/// What the reading half hands the writing half, in order.
enum Outgoing {
    Message(Message),
    Outbox(Outbox),
}

/// Runs a session until it finishes. Three things overlap: the reading
/// half steps the session and hands received entries to a committer
/// thread, which verifies and commits them in large chunks; the writing
/// half sends what the steps ask for, reading owed entries from the store
/// a batch at a time. Then it closes the sending side, waits (briefly) for
/// the peer to read it all, and notes when the peer was seen.
async fn run_session(
    node: &SharedNode,
    session: &mut Session,
    send: &mut SendStream,
    recv: &mut RecvStream,
    report: &mut SyncReport,
    remote: &DeviceId,
    events: &broadcast::Sender<NetEvent>,
) -> Result<(), NetError> {
    let short = remote.fmt_short();
    let peer = short.as_str();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let committer = Committer::start(node.clone());
    let reading = read_half(
        node, session, recv, report, remote, events, out_tx, committer,
    );
    let writing = write_half(node, send, out_rx, *remote, peer);
    let (import, tally) = tokio::try_join!(reading, writing)?;
    merge(&mut report.import, import);
    report.messages += tally.messages;
    report.bytes_sent += tally.bytes;
    send.finish().ok();
    let _ = tokio::time::timeout(Duration::from_secs(5), send.stopped()).await;
    lock(node)
        .store()
        .touch_peer(remote, crate::node::now_ms())
        .map_err(crate::node::NodeError::from)?;
    Ok(())
}

/// Reads frames and steps the session until it finishes; returns what the
/// committer imported.
#[allow(clippy::too_many_arguments)]
async fn read_half(
    node: &SharedNode,
    session: &mut Session,
    recv: &mut RecvStream,
    report: &mut SyncReport,
    remote: &DeviceId,
    events: &broadcast::Sender<NetEvent>,
    out: mpsc::UnboundedSender<Outgoing>,
    committer: Committer,
) -> Result<ImportReport, NetError> {
    let short = remote.fmt_short();
    let peer = short.as_str();
    let mut chunk: Vec<Vec<u8>> = Vec::new();
    let mut per_space: std::collections::BTreeMap<crate::id::SpaceId, u64> = Default::default();
    let mut total = 0u64;
    let mut reported = 0u64;
    while !session.is_finished() {
        let msg = read_frame(recv, report, peer).await?;
        let step: Step = {
            let n = lock(node);
            let step = session
                .handle(msg, &n.store_ref().served_to(*remote))
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
        for m in step.send {
            let _ = out.send(Outgoing::Message(m));
        }
        if !step.outbox.is_empty() {
            let _ = out.send(Outgoing::Outbox(step.outbox));
        }
        for (space, batch) in step.received {
            *per_space.entry(space).or_default() += batch.len() as u64;
            total += batch.len() as u64;
            chunk.extend(batch);
        }
        if chunk.len() >= APPLY_CHUNK && !committer.commit(std::mem::take(&mut chunk)).await {
            break;
        }
        if total >= reported + PROGRESS_EVERY {
            reported = total;
            let _ = events.send(NetEvent::Progress {
                peer: *remote,
                entries: total,
                bytes: report.bytes_received,
                per_space: per_space.iter().map(|(s, n)| (*s, *n)).collect(),
            });
        }
    }
    committer.commit(chunk).await;
    // The writing half ends once it has sent all that was handed to it.
    drop(out);
    committer.finish().await
}

/// Sends what the reading half hands over, in order, until it is done.
async fn write_half(
    node: &SharedNode,
    send: &mut SendStream,
    mut out: mpsc::UnboundedReceiver<Outgoing>,
    remote: DeviceId,
    peer: &str,
) -> Result<Tally, NetError> {
    let mut tally = Tally::default();
    while let Some(next) = out.recv().await {
        match next {
            Outgoing::Message(m) => write_frame(send, &m, &mut tally, peer).await?,
            Outgoing::Outbox(mut outbox) => loop {
                let m = outbox.next_message(&lock(node).store_ref().served_to(remote));
                let Some(m) = m else { break };
                write_frame(send, &m, &mut tally, peer).await?;
            },
        }
    }
    Ok(tally)
}

/// Verifies received entries on one blocking thread and commits them on
/// another, a chunk per transaction, while the session goes on reading.
struct Committer {
    chunks: mpsc::Sender<Vec<Vec<u8>>>,
    done: tokio::task::JoinHandle<Result<ImportReport, NetError>>,
}

impl Committer {
    fn start(node: SharedNode) -> Self {
        let (chunks, mut rx) = mpsc::channel::<Vec<Vec<u8>>>(APPLY_QUEUE);
        let done = tokio::task::spawn_blocking(move || {
            std::thread::scope(|s| {
                let (tx, verified) = std::sync::mpsc::sync_channel::<(Verified, Vec<Rejection>)>(1);
                s.spawn(move || {
                    let mut cache = KeyCache::default();
                    while let Some(raw) = rx.blocking_recv() {
                        let mut entries = Vec::with_capacity(raw.len());
                        let mut rejected = Vec::new();
                        for bytes in &raw {
                            match Entry::decode(bytes) {
                                Ok(e) => entries.push(e),
                                Err(err) => rejected.push(Rejection {
                                    id: None,
                                    reason: err.to_string(),
                                }),
                            }
                        }
                        let checked = Verified::check(entries, &mut cache);
                        if tx.send((checked, rejected)).is_err() {
                            break;
                        }
                    }
                });
                let mut report = ImportReport::default();
                for (checked, rejected) in verified {
                    report.rejected.extend(rejected);
                    if checked.is_empty() {
                        continue;
                    }
                    let r = lock(&node)
                        .store()
                        .import_verified(checked)
                        .map_err(crate::node::NodeError::from)?;
                    merge(&mut report, r);
                }
                Ok(report)
            })
        });
        Self { chunks, done }
    }
    /// Queues a chunk; false when the committer has stopped (its error
    /// comes out of [`Committer::finish`]).
    async fn commit(&self, chunk: Vec<Vec<u8>>) -> bool {
        chunk.is_empty() || self.chunks.send(chunk).await.is_ok()
    }

    /// Waits for every queued chunk to be committed.
    async fn finish(self) -> Result<ImportReport, NetError> {
        drop(self.chunks);
        match self.done.await {
            Ok(r) => r,
            Err(e) => Err(NetError::Stream {
                peer: "self".into(),
                reason: format!("committer stopped: {e}"),
            }),
        }
    }
}

pub(super) fn event(
    peer: DeviceId,
    initiated: bool,
    result: &Result<SyncReport, NetError>,
) -> NetEvent {
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
    tally: &mut Tally,
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
    tally.messages += 1;
    tally.bytes += frame.len() as u64;
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
pub(super) struct SyncHandler {
    pub(super) node: SharedNode,
    pub(super) limits: Limits,
    pub(super) timeout: Duration,
    pub(super) events: broadcast::Sender<NetEvent>,
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
