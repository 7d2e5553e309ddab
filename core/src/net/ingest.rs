//! Entries that arrive live, through gossip, on their way to the store:
//! whatever queued up while the last batch was committed is taken as one
//! batch, verified off the node's lock (the lock the app's screens need),
//! then committed in one transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Event, Inner, lock};
use crate::entry::{Entry, KeyCache};
use crate::id::{DeviceId, SpaceId};
use crate::store::Verified;

/// Entries waiting for the ingest task; a neighbour that floods waits.
pub(super) const QUEUE: usize = 1024;
/// Most entries committed in one transaction.
const BATCH: usize = 256;

/// An entry that came on `space`'s topic from the neighbour `from`.
pub(super) struct Live {
    pub(super) space: SpaceId,
    pub(super) from: DeviceId,
    pub(super) entry: Entry,
}

/// Gathers live entries into batches and commits them.
pub(super) async fn run(inner: Arc<Inner>, mut arrivals: mpsc::Receiver<Live>) {
    let mut cache = KeyCache::default();
    while let Some(first) = arrivals.recv().await {
        // What queued up meanwhile shares the transaction; nothing waits
        // for company.
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match arrivals.try_recv() {
                Ok(live) => batch.push(live),
                Err(_) => break,
            }
        }
        // One import per neighbour and space, so events and catch-ups go
        // to the right peer; usually there is one.
        let mut groups: BTreeMap<(DeviceId, SpaceId), Vec<Entry>> = BTreeMap::new();
        for l in batch {
            groups.entry((l.from, l.space)).or_default().push(l.entry);
        }
        for ((from, space), entries) in groups {
            let checked = Verified::check(entries, &mut cache);
            let report = lock(&inner.node).store().import_verified(checked);
            let Ok(report) = report else {
                continue;
            };
            if report.accepted > 0 {
                inner.emit(Event::Received {
                    peer: from,
                    space,
                    accepted: report.accepted,
                });
                let _ = inner.fetch_wanted(Some(from));
            }
            if report.pending > 0 || !report.rejected.is_empty() {
                // A gap (the entries before these went missing), or what
                // cannot stand yet: the neighbour's catch-up sorts it out.
                let _ = inner.catch_up.send(from);
            }
        }
    }
}
