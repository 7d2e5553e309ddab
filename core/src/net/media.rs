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
//! Where to fetch from, and how many copies to hand out, is decided by
//! [`crate::protocol::media`] (sans-IO); this file moves the bytes.

use std::collections::{BTreeSet, VecDeque};
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

use super::{Event, Inner, NetError, StoreHandle, endpoint_id, guard};
use crate::id::{DeviceId, Hash};
use crate::protocol::live::Notice;
use crate::protocol::media::Uploads;

/// Recently served or fetched blobs kept out of garbage collection.
const KEEP: usize = 16;
/// How often the in-memory window is emptied of what is not kept.
const GC_EVERY: Duration = Duration::from_secs(30);
/// Longest one source may take to serve a blob.
const PER_SOURCE: Duration = Duration::from_secs(10);
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
    /// at most [`crate::protocol::media::UPLOAD_SLOTS`] uploads of one blob at a time.
    pub(crate) fn protocol(&self, store: StoreHandle) -> BlobsProtocol {
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
                    let store = store.clone();
                    tokio::spawn(async move {
                        let hash = Hash(*msg.request.hash.as_bytes());
                        // Not held: refused, and no slot is spent on it.
                        let held = store.lock().has_blob(&hash).unwrap_or(false);
                        let answer = if !msg.request.ranges.is_blob() || !held {
                            Err(AbortReason::Permission)
                        } else if !guard(&this.uploading).take(&hash, Instant::now()) {
                            Err(AbortReason::RateLimited)
                        } else if this.load(&store, &hash).await {
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
    async fn load(&self, store: &StoreHandle, hash: &Hash) -> bool {
        let bytes = match store.lock().blob(hash) {
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

/// Longest random wait before fetching an image only its author is known to hold.
const FETCH_JITTER_MS: u64 = 300;

/// Rounds of asking every source for an image before giving up for a while.
const FETCH_ROUNDS: u32 = 8;

/// Most random wait between two rounds, on top of 100 ms.
const ROUND_JITTER_MS: u64 = 300;

/// A random wait of less than `ms` milliseconds.
fn jitter(ms: u64) -> Duration {
    let r = crate::node::random::<2>().map_or(0, u16::from_le_bytes);
    Duration::from_millis(u64::from(r) % ms.max(1))
}

/// How long to wait before asking again for an image nobody served.
const RETRY_FETCH: Duration = Duration::from_secs(3);

impl Inner {
    /// Starts fetching images that stored posts lack.
    pub(super) fn fetch_wanted(
        self: &Arc<Self>,
        came_from: Option<DeviceId>,
    ) -> Result<(), NetError> {
        let wants = self.store.lock().wanted_blobs(32)?;
        let now = tokio::time::Instant::now();
        for want in wants {
            if guard(&self.failed)
                .get(&want.hash)
                .is_some_and(|t| *t > now)
            {
                continue;
            }
            if !guard(&self.media.fetching).insert(want.hash) {
                continue;
            }
            let inner = self.clone();
            self.spawn(async move {
                let r = inner.fetch(&want, came_from).await;
                inner.media.done(&want.hash);
                match r {
                    Ok(bytes) => {
                        guard(&inner.failed).remove(&want.hash);
                        inner.emit(Event::BlobFetched {
                            hash: want.hash,
                            bytes,
                        });
                    }
                    Err(_) => {
                        // Nobody served it: try again later, not at every change.
                        let later = tokio::time::Instant::now() + RETRY_FETCH;
                        guard(&inner.failed).insert(want.hash, later);
                    }
                }
            });
        }
        Ok(())
    }

    pub(super) fn sources_for(
        &self,
        want: &crate::store::Want,
        came_from: Option<DeviceId>,
        round: u32,
    ) -> Vec<DeviceId> {
        let recent = guard(&self.recent).clone();
        guard(&self.sources).order(&want.hash, self.me, came_from, &recent, want.author, round)
    }

    pub(super) async fn fetch(
        &self,
        want: &crate::store::Want,
        came_from: Option<DeviceId>,
    ) -> Result<u64, NetError> {
        let only_author = came_from.is_none_or(|c| c == want.author);
        if only_author && !guard(&self.sources).known(&want.hash) {
            // Only the author is known to have it: wait a moment, so that
            // followers who fetched it first can say so and share the load.
            tokio::time::sleep(jitter(FETCH_JITTER_MS)).await;
        }
        let err = |reason: String| NetError::Fetch {
            hash: want.hash.fmt_short(),
            reason,
        };
        // Rounds: a busy source refuses at once; between rounds, holders
        // announce themselves and uploads end.
        let mut round = 0;
        let bytes = loop {
            let order = self.sources_for(want, came_from, round);
            match self.media.fetch(&want.hash, &order, want.len).await {
                Ok(bytes) => break bytes,
                Err(e) if round + 1 >= FETCH_ROUNDS => return Err(err(e)),
                Err(_) => {
                    round += 1;
                    tokio::time::sleep(Duration::from_millis(100) + jitter(ROUND_JITTER_MS)).await;
                }
            }
        };
        self.store.lock().put_wanted_blob(&want.hash, &bytes)?;
        guard(&self.sources).forget(&want.hash);
        // Tell the space's swarm: followers fetch from each other.
        let sender = guard(&self.senders).get(&want.space).cloned().flatten();
        if let Some(sender) = sender {
            let have = Notice::Have {
                hash: want.hash,
                holder: self.me,
            };
            let _ = sender.broadcast(have.encode().into()).await;
        }
        Ok(bytes.len() as u64)
    }
}
