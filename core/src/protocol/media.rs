//! Images: where to fetch a blob from, and how many copies of one to hand
//! out, sans-IO (time passed in). `net/media.rs` moves the bytes over
//! iroh-blobs.
//!
//! [`Sources`] orders who to ask: peers that said they hold the blob, then
//! the peer the post came from, then other recently seen peers, the author
//! last, so that followers fetch from each other rather than all from the
//! author. [`Uploads`] caps the copies of one blob a node hands out at once
//! and per window, like a BitTorrent super-seed.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::id::{DeviceId, Hash};

/// Most blobs whose holders are tracked at once.
const MAX_TRACKED: usize = 4096;
/// Most peers that are asked for one blob.
pub const MAX_SOURCES: usize = 8;
/// Most uploads of one blob a node runs at once, and most it starts within
/// [`COPIES_WINDOW`]; further requests are refused as busy, and the asker
/// turns to the peers that got the copies (they say `Have`). Like a
/// BitTorrent super-seed: each holder hands on a few copies and the swarm
/// does the rest.
pub const UPLOAD_SLOTS: usize = 2;
/// The window over which a node starts at most [`UPLOAD_SLOTS`] uploads of
/// one blob.
pub const COPIES_WINDOW: Duration = Duration::from_secs(5);
/// Fetch rounds after which the author is asked even though other holders
/// are known (they may all be busy or gone).
pub const AUTHOR_AFTER_ROUNDS: u32 = 3;

/// Who may have a blob, in the order they are asked.
#[derive(Debug, Default)]
pub struct Sources {
    holders: HashMap<Hash, Vec<DeviceId>>,
}

impl Sources {
    /// `peer` said it holds `hash`.
    pub fn holds(&mut self, hash: Hash, peer: DeviceId) {
        if self.holders.len() >= MAX_TRACKED && !self.holders.contains_key(&hash) {
            // Announcements for blobs never fetched here pile up otherwise;
            // forgetting them costs at most a fetch from the author.
            self.holders.clear();
        }
        let v = self.holders.entry(hash).or_default();
        if !v.contains(&peer) {
            v.push(peer);
            if v.len() > MAX_SOURCES {
                v.remove(0);
            }
        }
    }

    /// Whether any peer said it holds `hash`.
    pub fn known(&self, hash: &Hash) -> bool {
        self.holders.get(hash).is_some_and(|v| !v.is_empty())
    }

    /// Forgets `hash` (it is held now, or no longer wanted).
    pub fn forget(&mut self, hash: &Hash) {
        self.holders.remove(hash);
    }

    /// Peers to ask for `hash` in fetch round `round` (from 0), best
    /// first, without `me`: announced holders (most recent first), the peer
    /// the post came from, other peers seen recently, and the author last.
    /// While other holders are known, the author is left out of the first
    /// [`AUTHOR_AFTER_ROUNDS`] rounds, so that an image spreads from the
    /// followers who have it rather than all from its author.
    pub fn order(
        &self,
        hash: &Hash,
        me: DeviceId,
        came_from: Option<DeviceId>,
        recent: &[DeviceId],
        author: DeviceId,
        round: u32,
    ) -> Vec<DeviceId> {
        let mut out: Vec<DeviceId> = Vec::new();
        let holders = self.holders.get(hash).map(|v| v.as_slice()).unwrap_or(&[]);
        let candidates = holders
            .iter()
            .rev()
            .chain(came_from.iter())
            .chain(recent.iter());
        for p in candidates {
            if *p != me && *p != author && !out.contains(p) && out.len() < MAX_SOURCES - 1 {
                out.push(*p);
            }
        }
        let spread = holders.iter().any(|h| *h != me && *h != author);
        if author != me && (!spread || round >= AUTHOR_AFTER_ROUNDS) {
            out.push(author);
        }
        out
    }
}

/// Upload slots per blob: at most [`UPLOAD_SLOTS`] running and at most
/// that many started within [`COPIES_WINDOW`]. Sans-IO: the time is passed
/// in.
#[derive(Debug, Default)]
pub struct Uploads {
    blobs: HashMap<Hash, (usize, VecDeque<Instant>)>,
}

impl Uploads {
    /// Takes a slot to upload `hash` at `now`; false when busy.
    pub fn take(&mut self, hash: &Hash, now: Instant) -> bool {
        if self.blobs.len() >= MAX_TRACKED && !self.blobs.contains_key(hash) {
            self.blobs.retain(|_, (running, _)| *running > 0);
        }
        let (running, started) = self.blobs.entry(*hash).or_default();
        while started
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= COPIES_WINDOW)
        {
            started.pop_front();
        }
        if *running >= UPLOAD_SLOTS || started.len() >= UPLOAD_SLOTS {
            return false;
        }
        *running += 1;
        started.push_back(now);
        true
    }

    /// An upload of `hash` ended.
    pub fn free(&mut self, hash: &Hash) {
        if let Some((running, _)) = self.blobs.get_mut(hash) {
            *running = running.saturating_sub(1);
        }
    }

    /// An upload of `hash` taken at the last [`Uploads::take`] did not
    /// start after all: it counts neither as running nor as a copy.
    pub fn cancel(&mut self, hash: &Hash) {
        if let Some((running, started)) = self.blobs.get_mut(hash) {
            *running = running.saturating_sub(1);
            started.pop_back();
        }
    }

    /// Uploads of `hash` running now.
    pub fn running(&self, hash: &Hash) -> usize {
        self.blobs.get(hash).map_or(0, |(r, _)| *r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(b: u8) -> DeviceId {
        DeviceId([b; 32])
    }

    #[test]
    fn holders_first_author_last_never_me() {
        let h = Hash([1; 32]);
        let mut s = Sources::default();
        assert_eq!(s.order(&h, d(0), None, &[], d(9), 0), vec![d(9)]);
        // Nobody else is known to hold it: the author comes last.
        assert_eq!(
            s.order(&h, d(0), Some(d(5)), &[d(6)], d(9), 0),
            vec![d(5), d(6), d(9)]
        );
        s.holds(h, d(3));
        s.holds(h, d(4));
        s.holds(h, d(4));
        // Others hold it: the author is spared for the first rounds.
        assert_eq!(
            s.order(&h, d(0), Some(d(5)), &[d(0), d(6), d(3), d(9)], d(9), 0),
            vec![d(4), d(3), d(5), d(6)]
        );
        assert_eq!(
            s.order(
                &h,
                d(0),
                Some(d(5)),
                &[d(0), d(6), d(3), d(9)],
                d(9),
                AUTHOR_AFTER_ROUNDS
            ),
            vec![d(4), d(3), d(5), d(6), d(9)]
        );
        // The author asking for its own blob asks nobody else's copy of itself.
        assert_eq!(s.order(&h, d(9), None, &[], d(9), 0), vec![d(4), d(3)]);
        s.forget(&h);
        assert_eq!(s.order(&h, d(0), None, &[], d(9), 0), vec![d(9)]);
    }

    #[test]
    fn uploads_of_one_blob_are_capped_at_once_and_per_window() {
        let mut up = Uploads::default();
        let (a, b) = (Hash([1; 32]), Hash([2; 32]));
        let t0 = Instant::now();
        for _ in 0..UPLOAD_SLOTS {
            assert!(up.take(&a, t0));
        }
        assert!(!up.take(&a, t0), "a third upload of one blob at once");
        assert!(up.take(&b, t0), "another blob has its own slots");
        up.free(&b);
        // The first copies are done, but they were handed out just now: the
        // next asker should get the blob from the peers that have it.
        up.free(&a);
        up.free(&a);
        assert_eq!(up.running(&a), 0);
        assert!(!up.take(&a, t0 + Duration::from_secs(1)));
        // Later (nobody else served them, or they went away) it serves again.
        assert!(up.take(&a, t0 + COPIES_WINDOW));
        up.free(&a);
        up.free(&a);
        assert_eq!(up.running(&a), 0);
        // An upload that did not start after all is no copy.
        let t1 = t0 + COPIES_WINDOW * 3;
        assert!(up.take(&b, t1) && up.take(&b, t1));
        up.cancel(&b);
        up.free(&b);
        assert!(up.take(&b, t1));
    }

    #[test]
    fn sources_are_bounded() {
        let h = Hash([1; 32]);
        let mut s = Sources::default();
        for i in 10..40 {
            s.holds(h, d(i));
        }
        let recent: Vec<DeviceId> = (50..80).map(d).collect();
        let order = s.order(&h, d(0), Some(d(1)), &recent, d(9), AUTHOR_AFTER_ROUNDS);
        assert_eq!(order.len(), MAX_SOURCES);
        assert_eq!(order[0], d(39));
        assert_eq!(*order.last().unwrap(), d(9));
    }
}
