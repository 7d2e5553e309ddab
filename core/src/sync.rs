//! Catch-up sync as a sans-IO state machine.
//!
//! Two peers compare, per space, the digest of their frontiers (device →
//! highest seq and its entry id); spaces already in sync cost one digest
//! each way and nothing more. For the spaces that differ, each side learns
//! the other's frontier and sends exactly the entries the other lacks, in
//! chain order. A peer answers only for spaces named to it, and says
//! [`Answer::NotServed`] for any it does not hold or will not serve: it never
//! lists what it holds.
//!
//! The machine does no I/O: the caller moves [`Message`]s over a transport
//! (an iroh stream, in the networking layer) and applies the entries handed
//! out in [`Step::received`] to its store. What the peer holds is read
//! through the [`Holdings`] trait.
//!
//! Peers that met before first compare one summary: the initiator remembers
//! which of the spaces it asked this peer about were served, the responder
//! remembers which spaces this peer asked about; a digest of that list and
//! one of all the frontier digests settle "everything is in sync" in a few
//! dozen bytes, whatever the number of spaces. Any mismatch falls back to the
//! full exchange below.
//!
//! ```text
//! initiator                         responder
//!  (Summary {list, state}       →
//!                               ←   AllInSync | NeedHello)
//!   Hello {space, digest}*      →
//!                               ←   Reply {space, InSync | Differs(frontier) | NotServed}*
//!   Have {space, frontier}*,
//!   Entries*, Done              →
//!                               ←   Entries*, Done
//! ```

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::id::{DeviceId, EntryId, SpaceId};

/// Bytes of a frontier digest.
pub const DIGEST_LEN: usize = 16;
/// Most spaces one session may name.
pub const MAX_SPACES: usize = 10_000;
/// Most entries read from the store at a time when sending.
pub const ENTRIES_PER_READ: usize = 2048;
/// Largest [`Message::Entries`] in bytes of entries (one entry larger than
/// this goes alone).
pub const MESSAGE_BYTES: usize = 1 << 20;

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
    /// Initiator: the spaces it wants to sync, each with its frontier digest.
    Hello {
        /// Space ids and digests.
        spaces: Vec<(SpaceId, [u8; DIGEST_LEN])>,
    },
    /// Responder: an answer per named space.
    Reply {
        /// Space ids and answers, in the order they were named.
        spaces: Vec<(SpaceId, Answer)>,
    },
    /// Initiator: its frontiers for the spaces that differ.
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

/// What a session learned that the caller should remember for next time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remember {
    /// Initiator: the spaces asked and whether the peer served each.
    Asked(Asked),
    /// Responder: the spaces the peer asked about.
    Named(Vec<SpaceId>),
}

fn list_digest<'a>(spaces: impl Iterator<Item = &'a SpaceId>) -> [u8; DIGEST_LEN] {
    let mut h = blake3::Hasher::new_derive_key("starling space list digest v1");
    for s in spaces {
        h.update(s.as_bytes());
    }
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&h.finalize().as_bytes()[..DIGEST_LEN]);
    out
}

fn state_digest<'a>(
    states: impl Iterator<Item = (&'a SpaceId, Option<[u8; DIGEST_LEN]>)>,
) -> [u8; DIGEST_LEN] {
    let mut h = blake3::Hasher::new_derive_key("starling summary state digest v1");
    for (s, d) in states {
        h.update(s.as_bytes());
        match d {
            Some(d) => h.update(&[1]).update(&d),
            None => h.update(&[0]),
        };
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
    /// Spaces in play and this side's frontier of each.
    mine: BTreeMap<SpaceId, Frontier>,
    /// Spaces whose entries this side may receive.
    open: BTreeMap<SpaceId, ()>,
    sent_done: bool,
    limits: Limits,
    got_entries: u64,
    got_bytes: u64,
    /// Initiator: the full Hello, kept in case a Summary is refused.
    hello: Vec<(SpaceId, [u8; DIGEST_LEN])>,
    /// Responder: the spaces this peer asked about last time.
    named: Option<Vec<SpaceId>>,
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

impl Session {
    /// Starts a session as the initiator, for `spaces`. Returns the session
    /// and the first message to send.
    pub fn initiate(
        holdings: &impl Holdings,
        spaces: &[SpaceId],
        limits: Limits,
    ) -> (Self, Message) {
        Self::initiate_with(holdings, spaces, limits, None)
    }

    /// Starts a session as the initiator with what was remembered of this
    /// peer: when the same spaces are wanted as last time, the first message
    /// is a [`Message::Summary`].
    pub fn initiate_with(
        holdings: &impl Holdings,
        spaces: &[SpaceId],
        limits: Limits,
        asked: Option<&Asked>,
    ) -> (Self, Message) {
        let mut mine = BTreeMap::new();
        let mut hello = Vec::new();
        let mut wanted: Vec<SpaceId> = spaces.iter().take(MAX_SPACES).copied().collect();
        wanted.sort();
        wanted.dedup();
        for s in &wanted {
            let f = holdings.frontier(s).unwrap_or_default();
            hello.push((*s, f.digest()));
            mine.insert(*s, f);
        }
        let mut session = Self {
            state: State::AwaitReply,
            initiator: true,
            mine,
            open: BTreeMap::new(),
            sent_done: false,
            limits,
            got_entries: 0,
            got_bytes: 0,
            hello,
            named: None,
        };
        let same_list = asked
            .is_some_and(|a| a.len() == wanted.len() && a.iter().map(|(s, _)| s).eq(wanted.iter()));
        match asked {
            Some(asked) if same_list && !asked.is_empty() => {
                let list = list_digest(asked.iter().map(|(s, _)| s));
                let state = state_digest(
                    asked
                        .iter()
                        .zip(&session.hello)
                        .map(|((s, served), (_, d))| (s, served.then_some(*d))),
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
    pub fn respond(limits: Limits) -> Self {
        Self::respond_with(limits, None)
    }

    /// A session that waits for an initiator, remembering the spaces it
    /// asked about last time (so a [`Message::Summary`] can be checked).
    pub fn respond_with(limits: Limits, named: Option<Vec<SpaceId>>) -> Self {
        Self {
            state: State::AwaitHello,
            initiator: false,
            mine: BTreeMap::new(),
            open: BTreeMap::new(),
            sent_done: false,
            limits,
            got_entries: 0,
            got_bytes: 0,
            hello: Vec::new(),
            named,
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
                let in_sync = self.named.as_ref().is_some_and(|named| {
                    list_digest(named.iter()) == list
                        && state_digest(
                            named
                                .iter()
                                .map(|s| (s, holdings.frontier(s).map(|f| f.digest()))),
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
                if spaces.len() > MAX_SPACES {
                    return Err(SyncError::TooManySpaces(spaces.len()));
                }
                step.remember = Some(Remember::Named(spaces.iter().map(|(s, _)| *s).collect()));
                let mut reply = Vec::with_capacity(spaces.len());
                for (space, digest) in spaces {
                    let answer = match holdings.frontier(&space) {
                        None => Answer::NotServed,
                        Some(f) if f.digest() == digest => Answer::InSync,
                        Some(f) => {
                            self.mine.insert(space, f.clone());
                            self.open.insert(space, ());
                            Answer::Differs(f)
                        }
                    };
                    reply.push((space, answer));
                }
                step.send.push(Message::Reply { spaces: reply });
                if self.mine.is_empty() {
                    self.state = State::Finished;
                    step.finished = true;
                } else {
                    self.state = State::AwaitHave;
                }
            }
            (State::AwaitReply, Message::Reply { spaces }) => {
                let mut have = Vec::new();
                let mut asked: Asked = Vec::with_capacity(spaces.len());
                for (space, answer) in spaces {
                    let Some(mine) = self.mine.get(&space) else {
                        return Err(SyncError::UnaskedSpace(space.fmt_short()));
                    };
                    asked.push((space, answer != Answer::NotServed));
                    if let Answer::Differs(theirs) = answer {
                        self.open.insert(space, ());
                        have.push((space, mine.clone()));
                        step.outbox.owe(space, mine, &theirs);
                    }
                }
                asked.sort();
                step.remember = Some(Remember::Asked(asked));
                if self.open.is_empty() {
                    // Everything in sync (or not served): one round trip.
                    self.state = State::Finished;
                    step.finished = true;
                } else {
                    step.send.push(Message::Have { spaces: have });
                    step.outbox.tail.push_back(Message::Done);
                    self.sent_done = true;
                    self.state = State::Receiving;
                }
            }
            (State::AwaitHave, Message::Have { spaces }) => {
                for (space, theirs) in spaces {
                    let Some(mine) = self.mine.get(&space) else {
                        return Err(SyncError::UnaskedSpace(space.fmt_short()));
                    };
                    step.outbox.owe(space, mine, &theirs);
                }
                self.state = State::Receiving;
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
}

#[cfg(test)]
mod tests;
