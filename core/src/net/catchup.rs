//! The catch-up protocol on the wire: the sans-IO [`Session`] driven over
//! one QUIC bi-stream, u32-LE length-prefixed frames, received entries
//! verified and committed in large chunks.
//!
//! What a peer can make this node spend is bounded: a frame is at most
//! [`MAX_FRAME`] and is read as its bytes arrive, against a budget of
//! unverified bytes shared by every session peers open ([`Budget`]; the
//! sessions this node opens have their own, so peers cannot starve them);
//! received entries wait in chunks of at most [`CHUNK_BYTES`], and a chunk
//! that stops growing is committed after [`IDLE_FLUSH`], so an idle peer
//! holds no budget; a peer may hold at most [`SESSIONS_PER_PEER`] sessions
//! here and everyone together [`MAX_SESSIONS`]; a frame that stalls ends
//! the session, and so do [`MAX_REFUSED_PER_SESSION`] entries no honest
//! peer sends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::Endpoint;
use iroh::endpoint::{Connection, RecvStream, SendStream};
use iroh::protocol::{AcceptError, ProtocolHandler};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, mpsc};

use super::pool::Pool;
use super::{Event, Inner, NetConfig, NetError, StoreHandle, SyncReport, guard};
use crate::entry::Entry;
use crate::id::{DeviceId, SpaceId};
use crate::protocol::catchup::{Limits, Message, Outbox, Pair, Session, Step};
use crate::protocol::live::CatchUps;
use crate::space::AuthKey;
use crate::store::{COMMIT_BATCH, ImportReport, Rejection};
use crate::ticket::PeerAddr;

/// The ALPN of the catch-up protocol (version 2: spaces named by handle).
pub const SYNC_ALPN: &[u8] = b"starling/sync/2";
/// Largest protocol frame accepted.
pub const MAX_FRAME: usize = 2 << 20;
/// Unverified bytes all sessions peers open may hold together (frames
/// being read, entries waiting to be verified and committed); the sessions
/// this node opens have as much again.
pub const UNVERIFIED_BUDGET: usize = 64 << 20;
/// A chunk of received entries that has not grown for this long is
/// committed as it is.
pub const IDLE_FLUSH: Duration = Duration::from_millis(250);
/// Most bytes of received entries a session gathers before handing them
/// to its committer.
pub const CHUNK_BYTES: usize = 4 << 20;
/// Most sessions one peer may hold open with this node at once.
pub const SESSIONS_PER_PEER: usize = 2;
/// Most sessions peers may hold open with this node at once.
pub const MAX_SESSIONS: usize = 16;
/// Most connections peers dialed that are kept open between sessions
/// (each closes after [`super::IDLE_CLOSE`] without one); past this, a
/// connection serves one session and closes.
pub const MAX_KEPT_ACCEPTED: usize = 256;
/// Longest a frame's next bytes may take to arrive.
pub const FRAME_STALL: Duration = Duration::from_secs(20);
/// Bytes read (and budgeted) at a time.
const PIECE: usize = 64 << 10;
/// A peer that sends more entries than this that no honest peer sends
/// (junk, forgeries, entries it may not write) in one session is cut off.
/// (Refusals an honest peer may cause — a revocation or removal it has not
/// heard of — do not count.)
pub const MAX_REFUSED_PER_SESSION: u64 = 10_000;

/// The budget of unverified bytes, shared by all sessions of a node.
#[derive(Debug, Clone)]
pub(crate) struct Budget(Arc<Semaphore>);

impl Budget {
    pub(crate) fn new(bytes: usize) -> Self {
        Self(Arc::new(Semaphore::new(bytes)))
    }

    async fn take(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        self.0.clone().acquire_many_owned(bytes as u32).await.ok()
    }
}

/// Inbound sessions open now, per peer and in all, and the connections
/// kept open for a peer's next session.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    per_peer: HashMap<DeviceId, usize>,
    total: usize,
    kept: usize,
}

impl Sessions {
    /// Takes a place to keep a connection open for its next session;
    /// false when [`MAX_KEPT_ACCEPTED`] are kept.
    fn keep(&mut self) -> bool {
        if self.kept >= MAX_KEPT_ACCEPTED {
            return false;
        }
        self.kept += 1;
        true
    }

    fn let_go(&mut self) {
        self.kept = self.kept.saturating_sub(1);
    }

    /// Takes a place for a session with `peer`; false when full.
    fn enter(&mut self, peer: DeviceId) -> bool {
        let n = self.per_peer.entry(peer).or_default();
        if *n >= SESSIONS_PER_PEER || self.total >= MAX_SESSIONS {
            return false;
        }
        *n += 1;
        self.total += 1;
        true
    }

    fn leave(&mut self, peer: &DeviceId) {
        if let Some(n) = self.per_peer.get_mut(peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(peer);
            }
            self.total -= 1;
        }
    }
}

/// What a session needs from its node.
#[derive(Debug, Clone)]
pub(super) struct Context {
    pub(super) store: StoreHandle,
    pub(super) budget: Budget,
    pub(super) events: broadcast::Sender<Event>,
}

/// Catches up with `peer` on `spaces`: on the connection kept from the
/// last session with it if that one is still open, else on a new one; the
/// connection is kept for the next session.
pub(super) async fn initiate(
    endpoint: &Endpoint,
    pool: &Pool,
    cx: &Context,
    config: &NetConfig,
    peer: &PeerAddr,
    spaces: Vec<(SpaceId, AuthKey)>,
) -> Result<SyncReport, NetError> {
    if let Some(conn) = pool.take(&peer.device) {
        let mut report = SyncReport::default();
        match session_on(
            &conn,
            endpoint,
            cx,
            config,
            peer,
            spaces.clone(),
            &mut report,
        )
        .await
        {
            Ok(()) => {
                pool.give_back(peer.device, conn);
                report.reused = true;
                return Ok(report);
            }
            // The peer closed the kept connection (idle, or older software
            // that serves one session per connection) before it answered:
            // nothing happened, so dial again.
            Err(_) if report.bytes_received == 0 => {}
            Err(e) => return Err(e),
        }
    }
    let conn = super::connect(endpoint, config, peer, SYNC_ALPN).await?;
    let mut report = SyncReport::default();
    session_on(&conn, endpoint, cx, config, peer, spaces, &mut report).await?;
    pool.give_back(peer.device, conn);
    Ok(report)
}

/// One catch-up session with `peer` on a new stream of `conn`.
async fn session_on(
    conn: &Connection,
    endpoint: &Endpoint,
    cx: &Context,
    config: &NetConfig,
    peer: &PeerAddr,
    spaces: Vec<(SpaceId, AuthKey)>,
    report: &mut SyncReport,
) -> Result<(), NetError> {
    let short = peer.device.fmt_short();
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| NetError::Stream {
        peer: short.clone(),
        reason: e.to_string(),
    })?;
    let pair = Pair {
        initiator: device_of_endpoint(endpoint),
        responder: peer.device,
    };
    let (mut session, hello) = {
        let store = cx.store.lock();
        let asked = store
            .peer_asked(&peer.device)
            .map_err(crate::node::NodeError::from)?;
        Session::initiate_with(
            &store.served_to(peer.device),
            pair,
            &spaces,
            config.limits,
            asked.as_ref(),
        )
    };
    *report = SyncReport {
        peer: Some(peer.device),
        ..Default::default()
    };
    let mut tally = Tally::default();
    write_frame(&mut send, &hello, &mut tally, &short).await?;
    report.messages += tally.messages;
    report.bytes_sent += tally.bytes;
    run_session(cx, &mut session, &mut send, &mut recv, report, &peer.device).await?;
    note_path(cx, conn, &peer.device, report);
    Ok(())
}

/// The path a connection uses now (its selected path, direct or
/// relayed) and that path's round-trip time.
fn path_of(conn: &Connection) -> Option<(crate::view::Path, Duration)> {
    let paths = conn.paths();
    let selected = paths.iter().find(|p| p.is_selected())?;
    let path = if selected.is_relay() {
        crate::view::Path::Relay
    } else {
        crate::view::Path::Direct
    };
    Some((path, selected.rtt()))
}

/// Puts the path a session ended on in its report and in the peer's row.
fn note_path(cx: &Context, conn: &Connection, remote: &DeviceId, report: &mut SyncReport) {
    if let Some((path, rtt)) = path_of(conn) {
        report.path = Some(path);
        let rtt_ms = u64::try_from(rtt.as_millis()).unwrap_or(u64::MAX);
        // Only a note for the peers list: a failure to write it is not
        // the session's.
        let _ = cx.store.lock().note_path(remote, path, rtt_ms);
    }
}

fn device_of_endpoint(endpoint: &Endpoint) -> DeviceId {
    DeviceId(*endpoint.id().as_bytes())
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

/// Entries received and not yet committed, with their space (each entry
/// must be of the space its message named) and the budget they hold.
#[derive(Default)]
struct Chunk {
    entries: Vec<(SpaceId, Vec<u8>)>,
    bytes: usize,
    held: Option<OwnedSemaphorePermit>,
}

impl Chunk {
    fn add(&mut self, space: SpaceId, batch: Vec<Vec<u8>>, held: Option<OwnedSemaphorePermit>) {
        for e in batch {
            self.bytes += e.len();
            self.entries.push((space, e));
        }
        match (&mut self.held, held) {
            (Some(mine), Some(more)) => mine.merge(more),
            (mine @ None, more) => *mine = more,
            _ => {}
        }
    }

    fn full(&self) -> bool {
        self.entries.len() >= APPLY_CHUNK || self.bytes >= CHUNK_BYTES
    }
}

/// Runs a session until it finishes. Three things overlap: the reading
/// half steps the session and hands received entries to a committer
/// thread, which verifies and commits them in large chunks; the writing
/// half sends what the steps ask for, reading owed entries from the store
/// a batch at a time. Then it closes the sending side, waits (briefly) for
/// the peer to read it all, and notes when the peer was seen.
async fn run_session(
    cx: &Context,
    session: &mut Session,
    send: &mut SendStream,
    recv: &mut RecvStream,
    report: &mut SyncReport,
    remote: &DeviceId,
) -> Result<(), NetError> {
    let short = remote.fmt_short();
    let peer = short.as_str();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let committer = Committer::start(cx.store.clone());
    let reading = read_half(cx, session, recv, report, remote, out_tx, committer);
    let writing = write_half(&cx.store, send, out_rx, *remote, peer);
    let (import, tally) = tokio::try_join!(reading, writing)?;
    report.import.merge(import);
    report.messages += tally.messages;
    report.bytes_sent += tally.bytes;
    send.finish().ok();
    let _ = tokio::time::timeout(Duration::from_secs(5), send.stopped()).await;
    cx.store
        .lock()
        .touch_peer(remote, crate::node::now_ms())
        .map_err(crate::node::NodeError::from)?;
    Ok(())
}

/// Reads frames and steps the session until it finishes; returns what the
/// committer imported.
async fn read_half(
    cx: &Context,
    session: &mut Session,
    recv: &mut RecvStream,
    report: &mut SyncReport,
    remote: &DeviceId,
    out: mpsc::UnboundedSender<Outgoing>,
    committer: Committer,
) -> Result<ImportReport, NetError> {
    let short = remote.fmt_short();
    let peer = short.as_str();
    let mut chunk = Chunk::default();
    let mut per_space: std::collections::BTreeMap<SpaceId, u64> = Default::default();
    let mut total = 0u64;
    let mut reported = 0u64;
    let mut frames = FrameReader::default();
    let mut last_done = None;
    while !session.is_finished() {
        let next = if chunk.entries.is_empty() {
            frames.next(recv, &cx.budget, report, peer).await
        } else {
            tokio::select! {
                next = frames.next(recv, &cx.budget, report, peer) => next,
                () = tokio::time::sleep(IDLE_FLUSH) => {
                    // The peer went quiet: commit what it sent, so that it
                    // holds no budget while it waits.
                    if !committer.commit(std::mem::take(&mut chunk)).await {
                        break;
                    }
                    continue;
                }
            }
        };
        let (msg, held) = next?;
        let step: Step = {
            let store = cx.store.lock();
            let step = session
                .handle(msg, &store.served_to(*remote))
                .map_err(|error| NetError::Protocol {
                    peer: peer.to_string(),
                    error,
                })?;
            if let Some(what) = &step.remember {
                store
                    .remember_peer(remote, what)
                    .map_err(crate::node::NodeError::from)?;
            }
            step
        };
        for m in step.send {
            // The session's last Done says that all the peer sent was
            // taken: it waits for the committer (which may yet cut the
            // session for the entries it refuses).
            if step.finished && m == Message::Done {
                last_done = Some(m);
            } else {
                let _ = out.send(Outgoing::Message(m));
            }
        }
        if !step.outbox.is_empty() {
            let _ = out.send(Outgoing::Outbox(step.outbox));
        }
        let mut held = Some(held);
        for (space, batch) in step.received {
            *per_space.entry(space).or_default() += batch.len() as u64;
            total += batch.len() as u64;
            chunk.add(space, batch, held.take());
        }
        if committer.stopped()
            || (chunk.full() && !committer.commit(std::mem::take(&mut chunk)).await)
        {
            break;
        }
        if total >= reported + PROGRESS_EVERY {
            reported = total;
            let _ = cx.events.send(Event::Progress {
                peer: *remote,
                entries: total,
                bytes: report.bytes_received,
                spaces: per_space
                    .iter()
                    .map(|(s, n)| crate::view::SpaceCount {
                        space: *s,
                        entries: *n,
                    })
                    .collect(),
            });
        }
    }
    committer.commit(chunk).await;
    let import = committer.finish().await;
    if let (Ok(_), Some(done)) = (&import, last_done) {
        let _ = out.send(Outgoing::Message(done));
    }
    // The writing half ends once it has sent all that was handed to it.
    drop(out);
    import
}

/// Sends what the reading half hands over, in order, until it is done.
async fn write_half(
    store: &StoreHandle,
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
                let m = outbox.next_message(&store.lock().served_to(remote));
                let Some(m) = m else { break };
                write_frame(send, &m, &mut tally, peer).await?;
            },
        }
    }
    Ok(tally)
}

/// Verifies received entries on one blocking thread and commits them on
/// another, a chunk per transaction, while the session goes on reading.
/// An entry that is not of the space its message named is refused.
struct Committer {
    chunks: mpsc::Sender<Chunk>,
    done: tokio::task::JoinHandle<Result<ImportReport, NetError>>,
    /// Set when committing failed (or the peer was cut off): the session
    /// stops reading at once.
    stopped: Arc<std::sync::atomic::AtomicBool>,
}

/// Decodes a chunk's entries, refusing those not of their message's space.
fn decode_chunk(raw: &[(SpaceId, Vec<u8>)]) -> (Vec<Entry>, Vec<Rejection>) {
    let mut entries = Vec::with_capacity(raw.len());
    let mut rejected = Vec::new();
    for (space, bytes) in raw {
        match Entry::decode(bytes) {
            Ok(e) if e.header().space == *space => entries.push(e),
            Ok(e) => rejected.push(Rejection {
                id: Some(e.id()),
                reason: format!(
                    "entry of space {} sent as one of space {}",
                    e.header().space.fmt_short(),
                    space.fmt_short()
                ),
            }),
            Err(err) => rejected.push(Rejection {
                id: None,
                reason: err.to_string(),
            }),
        }
    }
    (entries, rejected)
}

impl Committer {
    fn start(store: StoreHandle) -> Self {
        let (chunks, mut rx) = mpsc::channel::<Chunk>(APPLY_QUEUE);
        let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = stopped.clone();
        let done = tokio::task::spawn_blocking(move || Self::run(store, &mut rx, &stop));
        Self {
            chunks,
            done,
            stopped,
        }
    }

    /// Whether committing failed (the session should stop).
    fn stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Verifies (on one thread) and commits (on this one) what comes in
    /// `rx`, until it closes; on an error it sets `stop` at once (the
    /// reading half then closes `rx`, which ends the verifying thread).
    fn run(
        store: StoreHandle,
        rx: &mut mpsc::Receiver<Chunk>,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<ImportReport, NetError> {
        // Decoded (and checked against the space their message named) on
        // the checking thread; the budget they hold is given back once
        // they are committed.
        let chunks = std::iter::from_fn(|| rx.blocking_recv()).map(|chunk| {
            let (entries, rejected) = decode_chunk(&chunk.entries);
            (entries, (rejected, chunk.held))
        });
        let mut report = ImportReport::default();
        let r = crate::store::pipeline(chunks, |checked, (rejected, held)| {
            for r in rejected {
                report.refuse(r);
            }
            if !checked.is_empty() {
                let r = store
                    .lock()
                    .import_verified(checked)
                    .map_err(crate::node::NodeError::from);
                match r {
                    Ok(r) => report.merge(r),
                    Err(e) => {
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                        return Err(NetError::from(e));
                    }
                }
            }
            drop(held);
            if report.invalid > MAX_REFUSED_PER_SESSION {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                return Err(NetError::Stream {
                    peer: "peer".into(),
                    reason: format!(
                        "sent {} entries no honest peer sends; session ended",
                        report.invalid
                    ),
                });
            }
            Ok(())
        })
        .map(|()| report);
        if r.is_err() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        r
    }

    /// Queues a chunk; false when the committer has stopped (its error
    /// comes out of [`Committer::finish`]).
    async fn commit(&self, chunk: Chunk) -> bool {
        !self.stopped() && (chunk.entries.is_empty() || self.chunks.send(chunk).await.is_ok())
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
) -> Event {
    match result {
        Ok(r) => Event::Synced {
            peer,
            initiated,
            accepted: r.import.accepted,
            refused: r.import.refused,
            bytes_received: r.bytes_received,
            path: r.path,
        },
        Err(e) => Event::SyncFailed {
            peer,
            error: e.to_string(),
        },
    }
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

/// Reads frames as their bytes arrive, taking budget for each piece
/// before reading it. Its state lives here, so waiting for a frame can be
/// given up and taken up again without losing bytes (the reading half
/// stops waiting to commit what it holds); a frame's bytes must keep
/// coming, [`FRAME_STALL`] at most apart.
#[derive(Default)]
struct FrameReader {
    head: [u8; 4],
    head_got: usize,
    len: Option<usize>,
    body: Vec<u8>,
    held: Option<OwnedSemaphorePermit>,
    /// Budget taken for the next piece, not yet filled.
    room: usize,
    /// Where a piece is read to (a read given up leaves `body` as it was).
    scratch: Vec<u8>,
    /// When the bytes awaited now must have come.
    deadline: Option<tokio::time::Instant>,
}

impl FrameReader {
    /// The next whole frame: its message and the budget its bytes hold.
    async fn next(
        &mut self,
        recv: &mut RecvStream,
        budget: &Budget,
        report: &mut SyncReport,
        peer: &str,
    ) -> Result<(Message, OwnedSemaphorePermit), NetError> {
        let stream_err = |e: String| NetError::Stream {
            peer: peer.to_string(),
            reason: e,
        };
        let stalled = || stream_err(format!("no data for {} s", FRAME_STALL.as_secs()));
        loop {
            let deadline = *self
                .deadline
                .get_or_insert_with(|| tokio::time::Instant::now() + FRAME_STALL);
            let len = match self.len {
                Some(len) => len,
                None if self.head_got < 4 => {
                    let n = tokio::time::timeout_at(
                        deadline,
                        recv.read(&mut self.head[self.head_got..]),
                    )
                    .await
                    .map_err(|_| stalled())?
                    .map_err(|e| stream_err(e.to_string()))?
                    .ok_or_else(|| stream_err("the stream ended".into()))?;
                    self.head_got += n;
                    self.deadline = None;
                    continue;
                }
                None => {
                    let len = u32::from_le_bytes(self.head) as usize;
                    if len > MAX_FRAME {
                        return Err(stream_err(format!(
                            "frame of {len} bytes is over the {MAX_FRAME}-byte limit"
                        )));
                    }
                    self.len = Some(len);
                    self.body = Vec::with_capacity(len.min(PIECE));
                    len
                }
            };
            if self.body.len() == len {
                break;
            }
            if self.room == 0 {
                let want = PIECE.min(len - self.body.len());
                let more = tokio::time::timeout_at(deadline, budget.take(want))
                    .await
                    .map_err(|_| stream_err("this node is busy with other peers' data".into()))?
                    .ok_or_else(|| stream_err("shutting down".into()))?;
                match &mut self.held {
                    Some(h) => h.merge(more),
                    h @ None => *h = Some(more),
                }
                self.room = want;
            }
            if self.scratch.len() < PIECE {
                self.scratch.resize(PIECE, 0);
            }
            let room = self.room;
            let n = tokio::time::timeout_at(deadline, recv.read(&mut self.scratch[..room]))
                .await
                .map_err(|_| stalled())?
                .map_err(|e| stream_err(e.to_string()))?
                .ok_or_else(|| stream_err("the stream ended mid-frame".into()))?;
            self.body.extend_from_slice(&self.scratch[..n]);
            self.room -= n;
            self.deadline = None;
        }
        let len = self.body.len();
        let body = std::mem::take(&mut self.body);
        let held = match self.held.take() {
            Some(h) => h,
            None => budget
                .take(0)
                .await
                .ok_or_else(|| stream_err("shutting down".into()))?,
        };
        let scratch = std::mem::take(&mut self.scratch);
        *self = Self {
            scratch,
            ..Self::default()
        };
        report.messages += 1;
        report.bytes_received += 4 + len as u64;
        let msg = Message::decode(&body).map_err(|error| NetError::Protocol {
            peer: peer.to_string(),
            error,
        })?;
        Ok((msg, held))
    }
}

/// Serves the catch-up protocol to peers that connect.
#[derive(Debug, Clone)]
pub(super) struct SyncHandler {
    pub(super) cx: Context,
    pub(super) me: DeviceId,
    pub(super) limits: Limits,
    pub(super) timeout: Duration,
    pub(super) idle_close: Duration,
    pub(super) sessions: Arc<Mutex<Sessions>>,
}

impl ProtocolHandler for SyncHandler {
    async fn accept(&self, connection: Connection) -> Result<(), AcceptError> {
        let remote = DeviceId(*connection.remote_id().as_bytes());
        // Sessions come one after another on one connection: the first
        // within the session timeout, each next one within `idle_close` of
        // the last (the dialer keeps the connection for its next check),
        // while there is room to keep connections; then it is closed.
        let mut kept = false;
        let mut first = true;
        loop {
            let wait = if first { self.timeout } else { self.idle_close };
            let streams = match tokio::time::timeout(wait, connection.accept_bi()).await {
                Ok(Ok(streams)) => streams,
                Ok(Err(_)) | Err(_) if !first => break,
                Ok(Err(e)) => {
                    let error = NetError::Stream {
                        peer: remote.fmt_short(),
                        reason: e.to_string(),
                    };
                    let _ = self.cx.events.send(event(remote, false, &Err(error)));
                    break;
                }
                Err(_) => {
                    let error = NetError::Timeout(remote.fmt_short());
                    let _ = self.cx.events.send(event(remote, false, &Err(error)));
                    break;
                }
            };
            first = false;
            if !guard(&self.sessions).enter(remote) {
                connection.close(2u32.into(), b"busy");
                break;
            }
            let result = self.serve(&connection, remote, streams).await;
            guard(&self.sessions).leave(&remote);
            let failed = result.is_err();
            let _ = self.cx.events.send(event(remote, false, &result));
            if failed {
                connection.close(1u32.into(), b"sync failed");
                break;
            }
            if !kept {
                kept = guard(&self.sessions).keep();
                if !kept {
                    break;
                }
            }
        }
        if kept {
            guard(&self.sessions).let_go();
        }
        Ok(())
    }
}

impl SyncHandler {
    async fn serve(
        &self,
        connection: &Connection,
        remote: DeviceId,
        (mut send, mut recv): (SendStream, RecvStream),
    ) -> Result<SyncReport, NetError> {
        let short = remote.fmt_short();
        let me = self.me;
        let work = async {
            let named = self
                .cx
                .store
                .lock()
                .peer_named(&remote)
                .map_err(crate::node::NodeError::from)?;
            let pair = Pair {
                initiator: remote,
                responder: me,
            };
            let mut session = Session::respond_with(pair, self.limits, named);
            let mut report = SyncReport {
                peer: Some(remote),
                ..Default::default()
            };
            run_session(
                &self.cx,
                &mut session,
                &mut send,
                &mut recv,
                &mut report,
                &remote,
            )
            .await?;
            note_path(&self.cx, connection, &remote, &mut report);
            Ok::<_, NetError>(report)
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(NetError::Timeout(short)),
        }
    }
}

impl Inner {
    /// The spaces a catch-up with `peer` names: everything held (the
    /// account space too for this identity's own devices) when the peer is
    /// a relation — a ticket came with it, or it writes in a space held
    /// here — else only spaces it showed it knows: topics it was met on,
    /// spaces it asked about (with proof of their key).
    pub(super) fn spaces_for(
        &self,
        peer: &DeviceId,
    ) -> Result<Vec<(SpaceId, crate::space::AuthKey)>, NetError> {
        let store = self.store.lock();
        let own = store.is_own_device(peer)?;
        let all = store.sync_spaces(own)?;
        if own || store.is_related(peer)? {
            return Ok(all);
        }
        let mut known = guard(&self.met).of(peer);
        known.extend(store.peer_named(peer)?.unwrap_or_default().spaces);
        Ok(all.into_iter().filter(|(s, _)| known.contains(s)).collect())
    }

    pub(super) async fn sync_with(
        self: &Arc<Self>,
        peer: &PeerAddr,
    ) -> Result<SyncReport, NetError> {
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
        let cx = Context {
            store: self.store.clone(),
            budget: self.budget.clone(),
            events: self.events.clone(),
        };
        let fut = initiate(
            self.router.endpoint(),
            &self.kept,
            &cx,
            &self.config,
            peer,
            spaces,
        );
        let result = match tokio::time::timeout(self.config.session_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(NetError::Timeout(short)),
        };
        self.emit(event(peer.device, true, &result));
        if let Ok(r) = &result {
            // The peer is online and holds what it just sent, images too.
            self.saw(peer.device);
            let _ = self.fetch_wanted(Some(peer.device));
            if r.import.accepted > 0 {
                // Keys the account keeps (a conversation or group another
                // device of this identity opened) are taken now; what they
                // open comes at the next catch-up. Best effort.
                // So too a new batch of this device's one-time keys, once
                // others used half of them.
                let mut node = super::lock(&self.store.0);
                let _ = node.tend_keys();
                let _ = node.tend_device_keys();
            }
        }
        result
    }
}

/// Runs catch-ups as they are asked for, at most one per peer at a time.
pub(super) async fn schedule_catch_ups(
    inner: Arc<Inner>,
    mut requests: mpsc::UnboundedReceiver<DeviceId>,
) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_capped_per_peer_and_in_all() {
        let mut s = Sessions::default();
        let p = DeviceId([1; 32]);
        for _ in 0..SESSIONS_PER_PEER {
            assert!(s.enter(p));
        }
        assert!(!s.enter(p));
        for i in 2..(MAX_SESSIONS as u8 - SESSIONS_PER_PEER as u8 + 2) {
            assert!(s.enter(DeviceId([i; 32])), "{i}");
        }
        assert!(!s.enter(DeviceId([200; 32])));
        s.leave(&p);
        assert!(s.enter(DeviceId([200; 32])));
        assert!(!s.enter(p));
    }

    #[test]
    fn connections_kept_between_sessions_are_capped() {
        let mut s = Sessions::default();
        for _ in 0..MAX_KEPT_ACCEPTED {
            assert!(s.keep());
        }
        assert!(!s.keep(), "past the cap a connection serves one session");
        s.let_go();
        assert!(s.keep());
    }

    #[test]
    fn entries_of_another_space_are_refused() {
        let mut a = crate::synth::SynthAuthor::new(1);
        let e = a.cert(1);
        let own = e.header().space;
        let other = SpaceId([9; 32]);
        let (ok, bad) = decode_chunk(&[(own, e.encode()), (other, e.encode())]);
        assert_eq!(ok.len(), 1);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].reason.contains("sent as one of space"));
    }
}
