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
use std::time::Duration;

use iroh_blobs::BlobsProtocol;
use iroh_blobs::api::TempTag;
use iroh_blobs::api::downloader::Downloader;
use iroh_blobs::provider::events::{
    AbortReason, EventMask, EventSender, ProviderMessage, RequestMode,
};
use iroh_blobs::store::mem::{MemStore, Options};

use super::{SharedNode, endpoint_id, guard, lock};
use crate::id::{DeviceId, Hash};

/// Recently served or fetched blobs kept out of garbage collection.
const KEEP: usize = 16;
/// How often the in-memory window is emptied of what is not kept.
const GC_EVERY: Duration = Duration::from_secs(30);
/// Longest a request waits for a blob this node is fetching itself.
const WAIT_FOR_FETCH: Duration = Duration::from_secs(8);
/// Longest one source may take to serve a blob.
const PER_SOURCE: Duration = Duration::from_secs(10);
/// Most blobs whose holders are tracked at once.
const MAX_TRACKED: usize = 4096;
/// Most peers that are asked for one blob.
pub const MAX_SOURCES: usize = 8;

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

    /// Peers to ask for `hash`, best first, without `me`: announced
    /// holders (most recent first), the peer the post came from, other
    /// peers seen recently, and the author last.
    pub fn order(
        &self,
        hash: &Hash,
        me: DeviceId,
        came_from: Option<DeviceId>,
        recent: &[DeviceId],
        author: DeviceId,
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
        if author != me {
            out.push(author);
        }
        out
    }
}

/// The iroh-blobs side of a node.
#[derive(Debug, Clone)]
pub(crate) struct Media {
    mem: MemStore,
    downloader: Downloader,
    kept: Arc<Mutex<VecDeque<TempTag>>>,
    /// Blobs this node is fetching now: a peer asking for one waits for it.
    pub(crate) fetching: Arc<Mutex<BTreeSet<Hash>>>,
    /// Whole-blob requests served, and their bytes.
    served: Arc<Mutex<(u64, u64)>>,
}

impl Media {
    /// The window and one downloader (with its connection pool) for all
    /// fetches through `endpoint`.
    pub(crate) fn new(endpoint: &iroh::Endpoint) -> Self {
        let mem = MemStore::new_with_opts(Options {
            gc_config: Some(iroh_blobs::store::GcConfig {
                interval: GC_EVERY,
                add_protected: None,
            }),
        });
        Self {
            downloader: Downloader::new(&mem, endpoint),
            mem,
            kept: Default::default(),
            fetching: Default::default(),
            served: Default::default(),
        }
    }

    /// The protocol handler: serves whole blobs this node's store holds.
    pub(crate) fn protocol(&self, node: SharedNode) -> BlobsProtocol {
        let mask = EventMask {
            get: RequestMode::Intercept,
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
                        let answer = if !msg.request.ranges.is_blob() {
                            Err(AbortReason::Permission)
                        } else if this.load(&node, &hash).await {
                            Ok(())
                        } else {
                            Err(AbortReason::Permission)
                        };
                        msg.tx.send(answer).await.ok();
                    });
                }
            }
        });
        BlobsProtocol::new(&self.mem, Some(tx))
    }

    /// Puts a blob of the store into the window; false when the store
    /// does not hold it. A blob being fetched right now is waited for
    /// (bounded), so that peers pass a new image along as it spreads.
    async fn load(&self, node: &SharedNode, hash: &Hash) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT_FOR_FETCH;
        let bytes = loop {
            match lock(node).store_ref().blob(hash) {
                Ok(Some(b)) => break b,
                Ok(None) => {}
                Err(_) => return false,
            }
            let fetching = guard(&self.fetching).contains(hash);
            if !fetching || tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let len = bytes.len() as u64;
        match self.mem.blobs().add_bytes(bytes).temp_tag().await {
            Ok(tag) => {
                self.keep(tag);
                let mut served = guard(&self.served);
                served.0 += 1;
                served.1 += len;
                true
            }
            Err(_) => false,
        }
    }

    /// Whole-blob requests this node accepted, and their bytes.
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
    /// while streaming; returns the blob's bytes.
    pub(crate) async fn fetch(&self, hash: &Hash, sources: &[DeviceId]) -> Result<Vec<u8>, String> {
        let providers: Vec<iroh::EndpointId> = sources.iter().filter_map(endpoint_id).collect();
        let h = iroh_blobs::Hash::from_bytes(hash.0);
        let tag = self
            .mem
            .tags()
            .temp_tag(h)
            .await
            .map_err(|e| e.to_string())?;
        // One source at a time, each bounded: an unreachable peer must not
        // hold up the next one.
        let mut failures = Vec::new();
        let mut done = false;
        for p in providers {
            let attempt = self.downloader.download(h, vec![p]).into_future();
            match tokio::time::timeout(PER_SOURCE, attempt).await {
                Ok(Ok(())) => {
                    done = true;
                    break;
                }
                Ok(Err(e)) => failures.push(format!("{}: {e}", p.fmt_short())),
                Err(_) => failures.push(format!("{}: timed out", p.fmt_short())),
            }
        }
        if !done {
            return Err(if failures.is_empty() {
                "no peer to ask".to_string()
            } else {
                failures.join("; ")
            });
        }
        let bytes = self
            .mem
            .blobs()
            .get_bytes(h)
            .await
            .map_err(|e| e.to_string())?;
        self.keep(tag);
        Ok(bytes.to_vec())
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
        assert_eq!(s.order(&h, d(0), None, &[], d(9)), vec![d(9)]);
        s.holds(h, d(3));
        s.holds(h, d(4));
        s.holds(h, d(4));
        assert_eq!(
            s.order(&h, d(0), Some(d(5)), &[d(0), d(6), d(3), d(9)], d(9)),
            vec![d(4), d(3), d(5), d(6), d(9)]
        );
        // The author asking for its own blob asks nobody else's copy of itself.
        assert_eq!(s.order(&h, d(9), None, &[], d(9)), vec![d(4), d(3)]);
        s.forget(&h);
        assert_eq!(s.order(&h, d(0), None, &[], d(9)), vec![d(9)]);
    }

    #[test]
    fn sources_are_bounded() {
        let h = Hash([1; 32]);
        let mut s = Sources::default();
        for i in 10..40 {
            s.holds(h, d(i));
        }
        let recent: Vec<DeviceId> = (50..80).map(d).collect();
        let order = s.order(&h, d(0), Some(d(1)), &recent, d(9));
        assert_eq!(order.len(), MAX_SOURCES);
        assert_eq!(order[0], d(39));
        assert_eq!(*order.last().unwrap(), d(9));
    }
}
