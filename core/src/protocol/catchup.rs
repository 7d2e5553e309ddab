//! Catch-up sync as a sans-IO state machine.
//!
//! Two peers compare, per space, the digest of their frontiers (device →
//! highest seq and its entry id); spaces already in sync cost one digest
//! each way and nothing more. For the spaces that differ, each side learns
//! the other's frontier and sends exactly the entries the other lacks, in
//! chain order.
//!
//! Spaces are never named by id. The initiator names each by a
//! [`Handle`]: a MAC under the space's auth key over both devices and the
//! space ([`crate::space::AuthKey::handle`]). A responder recognises only
//! handles of spaces whose key it holds, which also proves that the
//! initiator holds it: a peer without a space's key learns nothing of it,
//! and a handle means nothing in any other session. Answers come back in
//! the order the handles were named, so the responder never lists what it
//! holds, and says [`Answer::NotServed`] for whatever it does not recognise
//! or will not serve.
//!
//! The machine does no I/O: the caller moves [`Message`]s over a transport
//! (an iroh stream, in the networking layer) and applies the entries handed
//! out in [`Step::received`] to its store. What a side holds is read
//! through the [`Holdings`] trait. Every message is bounded: answers and
//! frontiers go in several messages when they are many.
//!
//! Peers that met before first compare one summary: the initiator remembers
//! which of the spaces it asked this peer about were served, the responder
//! a digest of the handles it was sent and which of them it recognised; a
//! digest of the handle list and one of the served spaces' frontier digests
//! settle "everything is in sync" in a few dozen bytes, whatever the number
//! of spaces. Any mismatch falls back to the full exchange below. (A
//! responder that gains the key of a space forgets what its peers named,
//! so its next session with each is a full exchange: store/project.rs.)
//!
//! ```text
//! initiator                         responder
//!  (Summary {list, state}       →
//!                               ←   AllInSync | NeedHello)
//!   Hello {handle, digest}*     →
//!                               ←   Reply {InSync | Differs(frontier) | NotServed}* (in order)
//!   Have {space, frontier}*,
//!   Entries*, Done              →
//!                               ←   Entries*, Done
//! ```

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::id::{DeviceId, EntryId, SpaceId};
use crate::space::{AuthKey, Handle};

/// Bytes of a frontier digest.
pub const DIGEST_LEN: usize = 16;
/// Most spaces one session may name.
pub const MAX_SPACES: usize = 10_000;
/// Most entries read from the store at a time when sending.
pub const ENTRIES_PER_READ: usize = 2048;
/// Largest [`Message::Entries`] in bytes of entries (one entry larger than
/// this goes alone), and about the most a [`Message::Reply`] or
/// [`Message::Have`] holds before the rest goes in another.
pub const MESSAGE_BYTES: usize = 1 << 20;
/// Most logs a frontier on the wire may name (a store keeps at most
/// [`crate::store::MAX_LOGS_PER_SPACE`] per space).
pub const MAX_FRONTIER_LOGS: usize = 10_000;

/// A sync session went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The peer sent a message that does not fit the protocol's state.
    #[error("unexpected {got} while {state}")]
    Unexpected {
        /// The message kind received.
        got: &'static str,
        /// What this side was waiting for.
        state: &'static str,
    },
    /// The peer answered for, or sent, a space it was not asked about.
    #[error("peer sent data for space {0} that was not asked for")]
    UnaskedSpace(String),
    /// The peer sent more answers than spaces were named.
    #[error("peer answered {got} spaces, {named} were named")]
    TooManyAnswers {
        /// Answers received.
        got: usize,
        /// Spaces named.
        named: usize,
    },
    /// The peer named one space twice.
    #[error("peer named a space twice")]
    DuplicateSpace,
    /// A frontier names more logs than a space may hold.
    #[error("peer sent a frontier of {0} logs, more than {MAX_FRONTIER_LOGS}")]
    FrontierTooLarge(usize),
    /// The peer named more spaces than allowed.
    #[error("peer named {0} spaces, more than {MAX_SPACES}")]
    TooManySpaces(usize),
    /// The peer sent more than this session accepts.
    #[error("peer sent over the session limit of {limit} {what}")]
    LimitExceeded {
        /// Entries or bytes.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// A message did not decode.
    #[error("malformed sync message: {0}")]
    Malformed(String),
}

/// For each device log in a space: the highest seq held and that entry's id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frontier {
    logs: BTreeMap<DeviceId, (u64, EntryId)>,
}

impl Frontier {
    /// Records that `device`'s log is held up to `seq`, whose entry is `head`.
    pub fn insert(&mut self, device: DeviceId, seq: u64, head: EntryId) {
        self.logs.insert(device, (seq, head));
    }

    /// The highest seq held of `device`'s log (0 when none).
    pub fn seq(&self, device: &DeviceId) -> u64 {
        self.logs.get(device).map_or(0, |(s, _)| *s)
    }

    /// A digest of the whole frontier: equal digests mean equal logs.
    pub fn digest(&self) -> [u8; DIGEST_LEN] {
        let mut h = blake3::Hasher::new_derive_key("starling frontier digest v1");
        for (device, (seq, head)) in &self.logs {
            h.update(device.as_bytes());
            h.update(&seq.to_le_bytes());
            h.update(head.as_bytes());
        }
        let mut out = [0u8; DIGEST_LEN];
        out.copy_from_slice(&h.finalize().as_bytes()[..DIGEST_LEN]);
        out
    }

    /// The logs in which `self` is ahead of `other`: (device, seq `other`
    /// holds up to). Entries after that seq are what `other` lacks.
    pub fn ahead_of(&self, other: &Frontier) -> Vec<(DeviceId, u64)> {
        self.logs
            .iter()
            .filter(|(d, (seq, _))| *seq > other.seq(d))
            .map(|(d, _)| (*d, other.seq(d)))
            .collect()
    }

    /// Number of logs.
    pub fn len(&self) -> usize {
        self.logs.len()
    }

    /// About how many bytes it takes on the wire.
    fn wire_size(&self) -> usize {
        8 + self.logs.len() * 80
    }

    /// Whether no log is held.
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }
}

/// The responder's answer for one space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// Both frontiers have the same digest: nothing to do.
    InSync,
    /// The frontiers differ; here is the responder's.
    Differs(Frontier),
    /// The responder does not hold or serve this space.
    NotServed,
}

/// What peers say to each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Initiator: the spaces it wants to sync, each by its handle for this
    /// pair of devices and with its frontier digest.
    Hello {
        /// Handles and digests.
        spaces: Vec<(Handle, [u8; DIGEST_LEN])>,
    },
    /// Responder: answers for the named spaces, in the order they were
    /// named (several messages when they are many).
    Reply {
        /// The next answers.
        answers: Vec<Answer>,
    },
    /// Initiator: its frontiers for the spaces that differ (several
    /// messages when they are large).
    Have {
        /// Space ids and frontiers.
        spaces: Vec<(SpaceId, Frontier)>,
    },
    /// Encoded entries of one space, each log's in seq order.
    Entries {
        /// The space they belong to.
        space: SpaceId,
        /// Encoded entries.
        entries: Vec<Vec<u8>>,
    },
    /// The sender has sent everything it will send.
    Done,
    /// Initiator, to a peer it met before: a digest of the spaces it asked
    /// last time and one of their frontiers (served ones) or "not served".
    Summary {
        /// Digest of the space list.
        list: [u8; DIGEST_LEN],
        /// Digest of the per-space states.
        state: [u8; DIGEST_LEN],
    },
    /// Responder: the summary matches; nothing to do.
    AllInSync,
    /// Responder: the summary does not match; send the full `Hello`.
    NeedHello,
}

impl Message {
    /// Encodes for the wire.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Decodes from the wire.
    pub fn decode(bytes: &[u8]) -> Result<Self, SyncError> {
        postcard::from_bytes(bytes).map_err(|e| SyncError::Malformed(e.to_string()))
    }

    fn kind(&self) -> &'static str {
        match self {
            Message::Hello { .. } => "Hello",
            Message::Reply { .. } => "Reply",
            Message::Have { .. } => "Have",
            Message::Entries { .. } => "Entries",
            Message::Done => "Done",
            Message::Summary { .. } => "Summary",
            Message::AllInSync => "AllInSync",
            Message::NeedHello => "NeedHello",
        }
    }
}

/// What a side holds, as the sync machine needs to read it.
pub trait Holdings {
    /// The frontier of `space`, or `None` if it is not held or not served
    /// to this peer.
    fn frontier(&self, space: &SpaceId) -> Option<Frontier>;

    /// Encoded entries of `device`'s log in `space` after seq `after`, in seq
    /// order, at most `limit`.
    fn entries_after(
        &self,
        space: &SpaceId,
        device: &DeviceId,
        after: u64,
        limit: usize,
    ) -> Vec<Vec<u8>>;

    /// The spaces this side would serve to the peer, with their auth keys
    /// (a responder recognises the peer's handles among these).
    fn servable(&self) -> Vec<(SpaceId, AuthKey)>;
}

/// The two devices of a session: the one that started it and the one that
/// answers. Handles are made for this pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// The device that started the session.
    pub initiator: DeviceId,
    /// The device that answers.
    pub responder: DeviceId,
}

/// Limits on what one session accepts from a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries accepted.
    pub max_entries: u64,
    /// Most entry bytes accepted.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 1_000_000,
            max_bytes: 1 << 30,
        }
    }
}

/// What an initiator remembers of a peer: the spaces it asked about last
/// time and whether each was served.
pub type Asked = Vec<(SpaceId, bool)>;

/// What a responder remembers of a peer: a digest of the handles it named
/// last time, and the spaces among them this side recognised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// Digest of every handle named, in order.
    pub list: [u8; DIGEST_LEN],
    /// The named spaces this side recognised.
    pub spaces: Vec<SpaceId>,
}

/// What a session learned that the caller should remember for next time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remember {
    /// Initiator: the spaces asked and whether the peer served each.
    Asked(Asked),
    /// Responder: what the peer named.
    Named(Named),
}

fn list_digest<'a>(handles: impl Iterator<Item = &'a Handle>) -> [u8; DIGEST_LEN] {
    let mut h = blake3::Hasher::new_derive_key("starling handle list digest v1");
    for x in handles {
        h.update(&x.0);
    }
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&h.finalize().as_bytes()[..DIGEST_LEN]);
    out
}

/// A digest of the served spaces' frontier digests, by space id.
fn state_digest(mut served: Vec<(SpaceId, [u8; DIGEST_LEN])>) -> [u8; DIGEST_LEN] {
    served.sort();
    let mut h = blake3::Hasher::new_derive_key("starling summary state digest v2");
    for (s, d) in served {
        h.update(s.as_bytes());
        h.update(&d);
    }
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&h.finalize().as_bytes()[..DIGEST_LEN]);
    out
}

/// The outcome of handling one message.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Messages to send to the peer, in order.
    pub send: Vec<Message>,
    /// Then these: entries read as they are sent, and closing messages.
    pub outbox: Outbox,
    /// Entries received, to verify and apply, with their space.
    pub received: Vec<(SpaceId, Vec<Vec<u8>>)>,
    /// Whether the session is over for this side.
    pub finished: bool,
    /// What to remember of this peer for the next session.
    pub remember: Option<Remember>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitSummaryAnswer,
    AwaitReply,
    AwaitHello,
    AwaitHave,
    Receiving,
    Finished,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::AwaitSummaryAnswer => "waiting for an answer to Summary",
            State::AwaitReply => "waiting for Reply",
            State::AwaitHello => "waiting for Hello",
            State::AwaitHave => "waiting for Have",
            State::Receiving => "receiving entries",
            State::Finished => "finished",
        }
    }
}

/// One side of a sync session.
#[derive(Debug)]
pub struct Session {
    state: State,
    initiator: bool,
    pair: Pair,
    /// Spaces in play and this side's frontier of each.
    mine: BTreeMap<SpaceId, Frontier>,
    /// Spaces whose entries this side may receive.
    open: BTreeMap<SpaceId, ()>,
    sent_done: bool,
    limits: Limits,
    got_entries: u64,
    got_bytes: u64,
    /// Initiator: the full Hello, kept in case a Summary is refused, and
    /// the spaces it names, in order.
    hello: Vec<(Handle, [u8; DIGEST_LEN])>,
    named: Vec<SpaceId>,
    /// Initiator: answers received so far, and what they said.
    answered: Asked,
    /// Initiator: frontiers to send in `Have`.
    have: Vec<(SpaceId, Frontier)>,
    /// Responder: the spaces this peer asked about last time.
    named_before: Option<Named>,
    /// Responder: spaces answered `Differs` whose `Have` has not come yet.
    awaiting_have: BTreeMap<SpaceId, ()>,
}

/// One log's entries owed to the peer: seqs `after + 1 ..= top`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owed {
    space: SpaceId,
    device: DeviceId,
    after: u64,
    top: u64,
}

/// What one step leaves to send after [`Step::send`]: the entries the peer
/// lacks, read from the store one batch at a time as they are sent (so
/// reading, sending and the peer's verifying overlap), then closing
/// messages.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outbox {
    owed: VecDeque<Owed>,
    /// Entries read but not yet sent, and their space.
    read: Option<(SpaceId, VecDeque<Vec<u8>>)>,
    tail: VecDeque<Message>,
}

impl Outbox {
    /// Owes the entries of `space` that `theirs` lacks and `mine` holds.
    fn owe(&mut self, space: SpaceId, mine: &Frontier, theirs: &Frontier) {
        for (device, after) in mine.ahead_of(theirs) {
            self.owed.push_back(Owed {
                space,
                device,
                after,
                top: mine.seq(&device),
            });
        }
    }

    /// Whether nothing is left to send.
    pub fn is_empty(&self) -> bool {
        self.owed.is_empty() && self.read.is_none() && self.tail.is_empty()
    }

    /// The next message to send, reading entries from `holdings` as
    /// needed; `None` when everything is sent. Entries go in chain order,
    /// at most [`MESSAGE_BYTES`] of them per message.
    pub fn next_message(&mut self, holdings: &impl Holdings) -> Option<Message> {
        loop {
            if let Some((space, read)) = &mut self.read {
                let space = *space;
                let mut entries = Vec::new();
                let mut bytes = 0;
                while let Some(e) = read.front() {
                    if !entries.is_empty() && bytes + e.len() > MESSAGE_BYTES {
                        break;
                    }
                    bytes += e.len();
                    entries.extend(read.pop_front());
                }
                if read.is_empty() {
                    self.read = None;
                }
                return Some(Message::Entries { space, entries });
            }
            let Some(owed) = self.owed.front_mut() else {
                return self.tail.pop_front();
            };
            // Never past the frontier the peer was told about, even if the
            // log grew since.
            let want = (owed.top.saturating_sub(owed.after)).min(ENTRIES_PER_READ as u64) as usize;
            let batch = if want == 0 {
                Vec::new()
            } else {
                holdings.entries_after(&owed.space, &owed.device, owed.after, want)
            };
            if batch.is_empty() {
                self.owed.pop_front();
                continue;
            }
            owed.after += batch.len() as u64;
            self.read = Some((owed.space, batch.into_iter().take(want).collect()));
        }
    }

    /// Every message left, at once (for transports that need no streaming,
    /// such as tests).
    pub fn drain(&mut self, holdings: &impl Holdings) -> Vec<Message> {
        std::iter::from_fn(|| self.next_message(holdings)).collect()
    }
}

/// Splits `items` into messages of about [`MESSAGE_BYTES`] each (at least
/// one item per message; none when there are no items).
fn chunked<T>(
    items: Vec<T>,
    size: impl Fn(&T) -> usize,
    wrap: impl Fn(Vec<T>) -> Message,
) -> Vec<Message> {
    let mut out = Vec::new();
    let mut part = Vec::new();
    let mut bytes = 0;
    for item in items {
        let n = size(&item);
        if !part.is_empty() && bytes + n > MESSAGE_BYTES {
            out.push(wrap(std::mem::take(&mut part)));
            bytes = 0;
        }
        bytes += n;
        part.push(item);
    }
    if !part.is_empty() {
        out.push(wrap(part));
    }
    out
}

fn answer_size(a: &Answer) -> usize {
    match a {
        Answer::Differs(f) => f.wire_size(),
        _ => 1,
    }
}

impl Session {
    /// Starts a session as the initiator with `pair.responder`, for the
    /// `spaces` given with their auth keys. Returns the session and the
    /// first message to send.
    pub fn initiate(
        holdings: &impl Holdings,
        pair: Pair,
        spaces: &[(SpaceId, AuthKey)],
        limits: Limits,
    ) -> (Self, Message) {
        Self::initiate_with(holdings, pair, spaces, limits, None)
    }

    /// Starts a session as the initiator with what was remembered of this
    /// peer: when the same spaces are wanted as last time, the first message
    /// is a [`Message::Summary`].
    pub fn initiate_with(
        holdings: &impl Holdings,
        pair: Pair,
        spaces: &[(SpaceId, AuthKey)],
        limits: Limits,
        asked: Option<&Asked>,
    ) -> (Self, Message) {
        let mut wanted: Vec<&(SpaceId, AuthKey)> = spaces.iter().collect();
        wanted.sort_by_key(|(s, _)| *s);
        wanted.dedup_by_key(|(s, _)| *s);
        wanted.truncate(MAX_SPACES);
        let mut mine = BTreeMap::new();
        let mut hello = Vec::with_capacity(wanted.len());
        let mut named = Vec::with_capacity(wanted.len());
        for (s, auth) in wanted {
            let f = holdings.frontier(s).unwrap_or_default();
            hello.push((auth.handle(&pair.initiator, &pair.responder, s), f.digest()));
            named.push(*s);
            mine.insert(*s, f);
        }
        let mut session = Self {
            state: State::AwaitReply,
            initiator: true,
            pair,
            mine,
            open: BTreeMap::new(),
            sent_done: false,
            limits,
            got_entries: 0,
            got_bytes: 0,
            hello,
            named,
            answered: Vec::new(),
            have: Vec::new(),
            named_before: None,
            awaiting_have: BTreeMap::new(),
        };
        let same_list = asked.is_some_and(|a| {
            a.len() == session.named.len() && a.iter().map(|(s, _)| s).eq(session.named.iter())
        });
        match asked {
            Some(asked) if same_list && !asked.is_empty() => {
                let list = list_digest(session.hello.iter().map(|(h, _)| h));
                let state = state_digest(
                    asked
                        .iter()
                        .zip(&session.hello)
                        .filter(|((_, served), _)| *served)
                        .map(|((s, _), (_, d))| (*s, *d))
                        .collect(),
                );
                session.state = State::AwaitSummaryAnswer;
                (session, Message::Summary { list, state })
            }
            _ => {
                let hello = session.hello.clone();
                (session, Message::Hello { spaces: hello })
            }
        }
    }

    /// A session that waits for an initiator's `Hello`.
    pub fn respond(pair: Pair, limits: Limits) -> Self {
        Self::respond_with(pair, limits, None)
    }

    /// A session that waits for an initiator, remembering the spaces it
    /// asked about last time (so a [`Message::Summary`] can be checked).
    pub fn respond_with(pair: Pair, limits: Limits, named: Option<Named>) -> Self {
        Self {
            state: State::AwaitHello,
            initiator: false,
            pair,
            mine: BTreeMap::new(),
            open: BTreeMap::new(),
            sent_done: false,
            limits,
            got_entries: 0,
            got_bytes: 0,
            hello: Vec::new(),
            named: Vec::new(),
            answered: Vec::new(),
            have: Vec::new(),
            named_before: named,
            awaiting_have: BTreeMap::new(),
        }
    }

    /// Whether the session is over.
    pub fn is_finished(&self) -> bool {
        self.state == State::Finished
    }

    /// Handles one message from the peer.
    pub fn handle(&mut self, msg: Message, holdings: &impl Holdings) -> Result<Step, SyncError> {
        let mut step = Step::default();
        let unexpected = |state: State, msg: &Message| SyncError::Unexpected {
            got: msg.kind(),
            state: state.name(),
        };
        match (self.state, msg) {
            (State::AwaitHello, Message::Summary { list, state }) => {
                let in_sync = self.named_before.as_ref().is_some_and(|named| {
                    named.list == list
                        && state_digest(
                            named
                                .spaces
                                .iter()
                                .filter_map(|s| holdings.frontier(s).map(|f| (*s, f.digest())))
                                .collect(),
                        ) == state
                });
                if in_sync {
                    step.send.push(Message::AllInSync);
                    self.state = State::Finished;
                    step.finished = true;
                } else {
                    step.send.push(Message::NeedHello);
                }
            }
            (State::AwaitSummaryAnswer, Message::AllInSync) => {
                self.state = State::Finished;
                step.finished = true;
            }
            (State::AwaitSummaryAnswer, Message::NeedHello) => {
                step.send.push(Message::Hello {
                    spaces: self.hello.clone(),
                });
                self.state = State::AwaitReply;
            }
            (State::AwaitHello, Message::Hello { spaces }) => {
                self.on_hello(spaces, holdings, &mut step)?;
            }
            (State::AwaitReply, Message::Reply { answers }) => {
                self.on_reply(answers, &mut step)?;
            }
            (State::AwaitHave | State::Receiving, Message::Have { spaces }) if !self.initiator => {
                for (space, theirs) in spaces {
                    if self.awaiting_have.remove(&space).is_none() {
                        return Err(SyncError::UnaskedSpace(space.fmt_short()));
                    }
                    if theirs.len() > MAX_FRONTIER_LOGS {
                        return Err(SyncError::FrontierTooLarge(theirs.len()));
                    }
                    if let Some(mine) = self.mine.get(&space) {
                        step.outbox.owe(space, mine, &theirs);
                    }
                }
                if self.awaiting_have.is_empty() {
                    self.state = State::Receiving;
                }
            }
            (State::AwaitHave | State::Receiving, Message::Entries { space, entries }) => {
                if !self.open.contains_key(&space) {
                    return Err(SyncError::UnaskedSpace(space.fmt_short()));
                }
                self.got_entries += entries.len() as u64;
                self.got_bytes += entries.iter().map(|e| e.len() as u64).sum::<u64>();
                if self.got_entries > self.limits.max_entries {
                    return Err(SyncError::LimitExceeded {
                        what: "entries",
                        limit: self.limits.max_entries,
                    });
                }
                if self.got_bytes > self.limits.max_bytes {
                    return Err(SyncError::LimitExceeded {
                        what: "bytes",
                        limit: self.limits.max_bytes,
                    });
                }
                step.received.push((space, entries));
            }
            (State::AwaitHave | State::Receiving, Message::Done) => {
                if !self.initiator && !self.sent_done {
                    step.send.push(Message::Done);
                    self.sent_done = true;
                }
                self.state = State::Finished;
                step.finished = true;
            }
            (state, msg) => return Err(unexpected(state, &msg)),
        }
        Ok(step)
    }

    /// Responder: recognises the handles it can, answers each in order.
    fn on_hello(
        &mut self,
        spaces: Vec<(Handle, [u8; DIGEST_LEN])>,
        holdings: &impl Holdings,
        step: &mut Step,
    ) -> Result<(), SyncError> {
        if spaces.len() > MAX_SPACES {
            return Err(SyncError::TooManySpaces(spaces.len()));
        }
        let mut seen = std::collections::BTreeSet::new();
        if !spaces.iter().all(|(h, _)| seen.insert(*h)) {
            return Err(SyncError::DuplicateSpace);
        }
        let known: BTreeMap<Handle, SpaceId> = if spaces.is_empty() {
            BTreeMap::new()
        } else {
            holdings
                .servable()
                .into_iter()
                .map(|(s, auth)| {
                    (
                        auth.handle(&self.pair.initiator, &self.pair.responder, &s),
                        s,
                    )
                })
                .collect()
        };
        let mut answers = Vec::with_capacity(spaces.len());
        let mut named = Vec::new();
        let list = list_digest(spaces.iter().map(|(h, _)| h));
        for (handle, digest) in spaces {
            let space = known.get(&handle).copied();
            let frontier = space.and_then(|s| holdings.frontier(&s));
            let answer = match (space, frontier) {
                (Some(space), Some(f)) => {
                    named.push(space);
                    if f.digest() == digest {
                        Answer::InSync
                    } else {
                        self.mine.insert(space, f.clone());
                        self.open.insert(space, ());
                        self.awaiting_have.insert(space, ());
                        Answer::Differs(f)
                    }
                }
                (Some(space), None) => {
                    named.push(space);
                    Answer::NotServed
                }
                _ => Answer::NotServed,
            };
            answers.push(answer);
        }
        named.sort();
        named.dedup();
        step.remember = Some(Remember::Named(Named {
            list,
            spaces: named,
        }));
        step.send = chunked(answers, answer_size, |answers| Message::Reply { answers });
        if step.send.is_empty() {
            step.send.push(Message::Reply {
                answers: Vec::new(),
            });
        }
        if self.open.is_empty() {
            self.state = State::Finished;
            step.finished = true;
        } else {
            self.state = State::AwaitHave;
        }
        Ok(())
    }

    /// Initiator: takes answers in the order it named the spaces; once all
    /// are in, sends its frontiers and what the peer lacks.
    fn on_reply(&mut self, answers: Vec<Answer>, step: &mut Step) -> Result<(), SyncError> {
        let got = self.answered.len() + answers.len();
        if got > self.named.len() {
            return Err(SyncError::TooManyAnswers {
                got,
                named: self.named.len(),
            });
        }
        for answer in answers {
            let space = self.named[self.answered.len()];
            self.answered.push((space, answer != Answer::NotServed));
            if let Answer::Differs(theirs) = answer {
                if theirs.len() > MAX_FRONTIER_LOGS {
                    return Err(SyncError::FrontierTooLarge(theirs.len()));
                }
                let mine = self.mine.get(&space).cloned().unwrap_or_default();
                self.open.insert(space, ());
                step.outbox.owe(space, &mine, &theirs);
                self.have.push((space, mine));
            }
        }
        if self.answered.len() < self.named.len() {
            return Ok(());
        }
        let mut asked = std::mem::take(&mut self.answered);
        asked.sort();
        step.remember = Some(Remember::Asked(asked));
        if self.open.is_empty() {
            // Everything in sync (or not served): one round trip.
            self.state = State::Finished;
            step.finished = true;
        } else {
            let have = std::mem::take(&mut self.have);
            step.send = chunked(
                have,
                |(_, f)| f.wire_size(),
                |spaces| Message::Have { spaces },
            );
            step.outbox.tail.push_back(Message::Done);
            self.sent_done = true;
            self.state = State::Receiving;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
