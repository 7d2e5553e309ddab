//! Live updates: one iroh-gossip topic per space (feeds, groups and
//! conversations; its id derives from the space's key: see
//! [`crate::space::AuthKey::topic`]).
//!
//! A node broadcasts the entries its own device appends on the topic of
//! their space; a receiver verifies and stores them like any other entry.
//! Gossip is best-effort (it drops messages under bursts), so it only
//! carries news: a receiver that sees a gap in a log, or a notice of a head
//! it does not hold, runs a catch-up session with the peer that delivered
//! it, and catch-up fills every gap.
//!
//! Gossip may also lose the last message of a log, which no later gap
//! reveals; so every few seconds a node also asks the peers it saw lately
//! (a catch-up that costs one round trip when nothing was missed).
//!
//! The decisions are sans-IO: [`Announcer`] picks what to broadcast from
//! the heads of this device's logs, [`CatchUps`] keeps at most one catch-up
//! per peer in flight. `net/live.rs` moves the bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::id::{DeviceId, SpaceId};

/// Largest gossip message sent or accepted (iroh-gossip's own default is 4 KiB).
pub const MAX_NOTICE: usize = 64 * 1024;

/// At most this many new entries of one log are broadcast one by one; past
/// that, one [`Notice::Head`] says where the log is and receivers catch up.
pub const MAX_ANNOUNCED: u64 = 64;

/// What travels on a space's topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notice {
    /// A new entry, encoded as on the wire.
    Entry(Vec<u8>),
    /// A log's head (sent instead of a burst of entries): the receiver
    /// catches up if it holds less.
    Head {
        /// The log's device.
        device: DeviceId,
        /// Its highest seq.
        seq: u64,
    },
    /// A peer holds this blob and serves it.
    Have {
        /// The blob.
        hash: crate::id::Hash,
        /// Who holds it.
        holder: DeviceId,
    },
}

/// A notice could not be read.
#[derive(Debug, thiserror::Error)]
#[error("unreadable gossip notice: {0}")]
pub struct NoticeError(String);

impl Notice {
    /// The notice's bytes.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Reads a notice; the whole input must be one notice.
    pub fn decode(bytes: &[u8]) -> Result<Self, NoticeError> {
        if bytes.len() > MAX_NOTICE {
            return Err(NoticeError(format!(
                "{} bytes is over the limit",
                bytes.len()
            )));
        }
        match postcard::take_from_bytes::<Notice>(bytes) {
            Ok((n, [])) => Ok(n),
            Ok(_) => Err(NoticeError("trailing bytes".into())),
            Err(e) => Err(NoticeError(e.to_string())),
        }
    }
}

/// What to broadcast for one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announce {
    /// Nothing new.
    Nothing,
    /// The entries with these seqs, one notice each.
    Entries {
        /// First seq (inclusive).
        from: u64,
        /// Last seq (inclusive).
        to: u64,
    },
    /// Too many to send one by one: only the head.
    Head(u64),
}

/// Remembers how far each of this device's logs has been announced.
#[derive(Debug, Default)]
pub struct Announcer {
    announced: BTreeMap<SpaceId, u64>,
}

impl Announcer {
    /// Starts from the given heads: what exists already is not news.
    pub fn starting_at(heads: impl IntoIterator<Item = (SpaceId, u64)>) -> Self {
        Self {
            announced: heads.into_iter().collect(),
        }
    }

    /// How far `space`'s log has been announced.
    pub fn announced(&self, space: SpaceId) -> u64 {
        self.announced.get(&space).copied().unwrap_or(0)
    }

    /// What to broadcast now that `space`'s log of this device is at `head`;
    /// the log counts as announced up to `head` afterwards.
    pub fn plan(&mut self, space: SpaceId, head: u64) -> Announce {
        let done = self.announced.entry(space).or_insert(0);
        if head <= *done {
            return Announce::Nothing;
        }
        let from = *done + 1;
        *done = head;
        if head - from + 1 > MAX_ANNOUNCED {
            Announce::Head(head)
        } else {
            Announce::Entries { from, to: head }
        }
    }
}

impl Announcer {
    /// The broadcast of `space`'s news failed: it counts as announced only
    /// up to `seq` again, so the next plan sends it.
    pub fn rewind(&mut self, space: SpaceId, seq: u64) {
        let done = self.announced.entry(space).or_insert(0);
        *done = (*done).min(seq);
    }
}

/// At most one catch-up per peer in flight; a request that arrives while
/// one runs makes it run once more when it ends (so nothing is missed and
/// nothing piles up).
#[derive(Debug, Default)]
pub struct CatchUps {
    running: BTreeSet<DeviceId>,
    again: BTreeSet<DeviceId>,
}

impl CatchUps {
    /// A catch-up with `peer` is wanted: true when it should start now.
    pub fn request(&mut self, peer: DeviceId) -> bool {
        if self.running.insert(peer) {
            true
        } else {
            self.again.insert(peer);
            false
        }
    }

    /// The catch-up with `peer` ended: true when it should run again.
    pub fn finished(&mut self, peer: DeviceId) -> bool {
        if self.again.remove(&peer) {
            true
        } else {
            self.running.remove(&peer);
            false
        }
    }

    /// Peers with a catch-up running.
    pub fn running(&self) -> usize {
        self.running.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(b: u8) -> SpaceId {
        SpaceId([b; 32])
    }

    #[test]
    fn announcer_sends_news_once_and_heads_for_bursts() {
        let mut a = Announcer::starting_at([(space(1), 5)]);
        assert_eq!(a.plan(space(1), 5), Announce::Nothing);
        assert_eq!(a.plan(space(1), 7), Announce::Entries { from: 6, to: 7 });
        assert_eq!(a.plan(space(1), 7), Announce::Nothing);
        assert_eq!(
            a.plan(space(1), 7 + MAX_ANNOUNCED),
            Announce::Entries {
                from: 8,
                to: 7 + MAX_ANNOUNCED
            }
        );
        assert_eq!(
            a.plan(space(1), 8 + 2 * MAX_ANNOUNCED),
            Announce::Head(8 + 2 * MAX_ANNOUNCED)
        );
        a.rewind(space(1), 7);
        assert_eq!(
            a.plan(space(1), 9 + 2 * MAX_ANNOUNCED),
            Announce::Head(9 + 2 * MAX_ANNOUNCED)
        );
        // A log it never saw starts at seq 1.
        assert_eq!(a.plan(space(2), 1), Announce::Entries { from: 1, to: 1 });
    }

    #[test]
    fn one_catch_up_per_peer_and_one_rerun() {
        let (p, q) = (DeviceId([1; 32]), DeviceId([2; 32]));
        let mut c = CatchUps::default();
        assert!(c.request(p));
        assert!(c.request(q));
        assert!(!c.request(p));
        assert!(!c.request(p));
        assert_eq!(c.running(), 2);
        assert!(c.finished(p), "asked again while running: one rerun");
        assert!(!c.finished(p));
        assert!(!c.finished(q));
        assert_eq!(c.running(), 0);
        assert!(c.request(p));
    }

    #[test]
    fn notices_round_trip_and_garbage_is_an_error() {
        for n in [
            Notice::Entry(vec![1, 2, 3]),
            Notice::Head {
                device: DeviceId([7; 32]),
                seq: 42,
            },
            Notice::Have {
                hash: crate::id::Hash([9; 32]),
                holder: DeviceId([3; 32]),
            },
        ] {
            assert_eq!(Notice::decode(&n.encode()).unwrap(), n);
        }
        assert!(Notice::decode(&[9, 9, 9]).is_err());
        let mut extra = Notice::Head {
            device: DeviceId([7; 32]),
            seq: 1,
        }
        .encode();
        extra.push(0);
        assert!(Notice::decode(&extra).is_err());
        assert!(Notice::decode(&vec![0; MAX_NOTICE + 1]).is_err());
    }
}
