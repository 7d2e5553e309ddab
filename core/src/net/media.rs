//! Media over iroh-blobs: sealed images are served and fetched with the
//! iroh-blobs protocol, verified chunk by chunk against their BLAKE3 hash
//! while they stream.
//!
//! The store of record stays the SQLite `blobs` table (other `starling`
//! processes write to it while a node runs). The iroh-blobs side is an
//! in-memory store used as a window: a blob is loaded into it when a peer
//! asks for it (the request is intercepted, so only blobs this store holds
//! are served, and only whole-blob requests), and a fetched blob lands in it
//! before it is checked into SQLite; garbage collection empties it.
//!
//! Where to fetch from is [`Sources`]: peers that said they hold the blob,
//! then the peer the post came from, then other recently seen peers, the
//! author last, so that followers fetch from each other rather than all
//! from the author.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iroh_blobs::BlobsProtocol;
use iroh_blobs::api::TempTag;
use iroh_blobs::get::fsm;
use iroh_blobs::protocol::GetRequest;
use iroh_blobs::provider::events::{
    AbortReason, EventMask, EventSender, ProviderMessage, RequestMode, RequestUpdate,
};
use iroh_blobs::store::mem::{MemStore, Options};

use super::{SharedNode, endpoint_id, guard, lock};
use crate::id::{DeviceId, Hash};

/// Recently served or fetched blobs kept out of garbage collection.
const KEEP: usize = 16;
/// How often the in-memory window is emptied of what is not kept.
const GC_EVERY: Duration = Duration::from_secs(30);
/// Longest one source may take to serve a blob.
const PER_SOURCE: Duration = Duration::from_secs(10);
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

/// The iroh-blobs side of a node.
#[derive(Debug, Clone)]
pub(crate) struct Media {
    mem: MemStore,
    endpoint: iroh::Endpoint,
    kept: Arc<Mutex<VecDeque<TempTag>>>,
    /// Blobs this node is after (between rounds too): one fetch each.
    pub(crate) fetching: Arc<Mutex<BTreeSet<Hash>>>,
    /// Whole-blob uploads completed, and the bytes sent (aborted ones
    /// included).
    served: Arc<Mutex<(u64, u64)>>,
    /// Uploads running now, per blob.
    uploading: Arc<Mutex<Uploads>>,
}

impl Media {
    /// The window, and fetches through `endpoint`.
    pub(crate) fn new(endpoint: &iroh::Endpoint) -> Self {
        let mem = MemStore::new_with_opts(Options {
            gc_config: Some(iroh_blobs::store::GcConfig {
                interval: GC_EVERY,
                add_protected: None,
            }),
        });
        Self {
            endpoint: endpoint.clone(),
            mem,
            kept: Default::default(),
            fetching: Default::default(),
            served: Default::default(),
            uploading: Default::default(),
        }
    }

    /// The protocol handler: serves whole blobs this node's store holds,
    /// at most [`UPLOAD_SLOTS`] uploads of one blob at a time.
    pub(crate) fn protocol(&self, node: SharedNode) -> BlobsProtocol {
        let mask = EventMask {
            get: RequestMode::InterceptLog,
            get_many: RequestMode::Disabled,
            push: RequestMode::Disabled,
            ..EventMask::DEFAULT
        };
        let (tx, mut rx) = EventSender::channel(64, mask);
        let this = self.clone();
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                if let ProviderMessage::GetRequestReceived(msg) = msg {
                    let this = this.clone();
                    let node = node.clone();
                    tokio::spawn(async move {
                        let hash = Hash(*msg.request.hash.as_bytes());
                        // Not held: refused, and no slot is spent on it.
                        let held = lock(&node).store_ref().has_blob(&hash).unwrap_or(false);
                        let answer = if !msg.request.ranges.is_blob() || !held {
                            Err(AbortReason::Permission)
                        } else if !guard(&this.uploading).take(&hash, Instant::now()) {
                            Err(AbortReason::RateLimited)
                        } else if this.load(&node, &hash).await {
                            Ok(())
                        } else {
                            guard(&this.uploading).cancel(&hash);
                            Err(AbortReason::Permission)
                        };
                        let accepted = answer.is_ok();
                        let mut updates = msg.rx;
                        msg.tx.send(answer).await.ok();
                        if !accepted {
                            return;
                        }
                        // Hold the slot until the upload ends, however it ends.
                        let mut completed = false;
                        let mut sent = 0;
                        while let Ok(Some(update)) = updates.recv().await {
                            match update {
                                RequestUpdate::Completed(c) => {
                                    completed = true;
                                    sent = c.stats.payload_bytes_sent + c.stats.other_bytes_sent;
                                    break;
                                }
                                RequestUpdate::Aborted(a) => {
                                    sent = a.stats.payload_bytes_sent + a.stats.other_bytes_sent;
                                    break;
                                }
                                _ => {}
                            }
                        }
                        guard(&this.uploading).free(&hash);
                        let mut served = guard(&this.served);
                        served.0 += u64::from(completed);
                        served.1 += sent;
                    });
                }
            }
        });
        BlobsProtocol::new(&self.mem, Some(tx))
    }

    /// Puts a blob of the store into the window; false when the store
    /// does not hold it. A node never makes a peer wait on its own
    /// fetch: waits chained through peers that are themselves fetching
    /// stall a whole swarm.
    async fn load(&self, node: &SharedNode, hash: &Hash) -> bool {
        let bytes = match lock(node).store_ref().blob(hash) {
            Ok(Some(b)) => b,
            Ok(None) | Err(_) => return false,
        };
        match self.mem.blobs().add_bytes(bytes).temp_tag().await {
            Ok(tag) => {
                self.keep(tag);
                true
            }
            Err(_) => false,
        }
    }

    /// This node is no longer after `hash` (it is stored, or given up on
    /// for now).
    pub(crate) fn done(&self, hash: &Hash) {
        guard(&self.fetching).remove(hash);
    }

    /// Whole-blob uploads this node completed, and the bytes it sent.
    pub(crate) fn served(&self) -> (u64, u64) {
        *guard(&self.served)
    }

    fn keep(&self, tag: TempTag) {
        let mut kept = guard(&self.kept);
        kept.push_back(tag);
        while kept.len() > KEEP {
            kept.pop_front();
        }
    }

    /// Fetches `hash` from the first of `sources` that serves it, verified
    /// while streaming, and at most `max_len` bytes: a peer that offers a
    /// larger blob is dropped after its size header. Returns the blob.
    pub(crate) async fn fetch(
        &self,
        hash: &Hash,
        sources: &[DeviceId],
        max_len: u64,
    ) -> Result<Vec<u8>, String> {
        // One source at a time, each bounded: an unreachable peer must not
        // hold up the next one.
        let mut failures = Vec::new();
        for p in sources.iter().filter_map(endpoint_id) {
            let attempt = get_blob(&self.endpoint, p, hash, max_len);
            match tokio::time::timeout(PER_SOURCE, attempt).await {
                Ok(Ok(bytes)) => return Ok(bytes),
                Ok(Err(e)) => failures.push(format!("{}: {e}", p.fmt_short())),
                Err(_) => failures.push(format!("{}: timed out", p.fmt_short())),
            }
        }
        Err(if failures.is_empty() {
            "no peer to ask".to_string()
        } else {
            failures.join("; ")
        })
    }
}

/// Gets one whole blob from `peer` over iroh-blobs, refusing it as soon as
/// its size header says it is larger than `max_len`.
pub(crate) async fn get_blob(
    endpoint: &iroh::Endpoint,
    peer: iroh::EndpointId,
    hash: &Hash,
    max_len: u64,
) -> Result<Vec<u8>, String> {
    let conn = endpoint
        .connect(peer, iroh_blobs::ALPN)
        .await
        .map_err(|e| e.to_string())?;
    let request = GetRequest::blob(iroh_blobs::Hash::from_bytes(hash.0));
    let connected = fsm::start(conn.clone(), request, Default::default())
        .next()
        .await
        .map_err(|e| e.to_string())?;
    let fsm::ConnectedNext::StartRoot(start) = connected.next().await.map_err(|e| e.to_string())?
    else {
        conn.close(1u32.into(), b"unexpected");
        return Err("unexpected answer".into());
    };
    let (content, size) = start.next().next().await.map_err(|e| e.to_string())?;
    if size > max_len {
        conn.close(2u32.into(), b"too large");
        return Err(format!(
            "offers {size} bytes where the post declared at most {max_len}"
        ));
    }
    let (end, bytes) = content
        .concatenate_into_vec()
        .await
        .map_err(|e| e.to_string())?;
    if let fsm::EndBlobNext::Closing(closing) = end.next() {
        let _ = closing.next().await;
    }
    conn.close(0u32.into(), b"done");
    Ok(bytes)
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
