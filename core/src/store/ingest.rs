//! Accepting entries: chain checks, equivocation, pending gaps, and the
//! pipeline that verifies signatures on one thread while another commits.

use std::collections::HashMap;
use std::sync::mpsc;

use rusqlite::{Connection, OptionalExtension, params};

use super::project::{self, DocChanges, SpaceInfo};
use super::{Result, Store, apply_doc_changes, blob32};
use crate::admission::{self, InLog};
use crate::bundle::{self, Item};
use crate::entry::{Entry, EntryError, KeyCache, verify_batch};
use crate::id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};

/// Entries whose signatures are checked in one ed25519 batch.
pub(crate) const VERIFY_BATCH: usize = 1024;
/// Entries committed per transaction. Larger transactions write each page of
/// the (randomly keyed) id index once for many entries instead of once per
/// few, which is most of the cost of a commit.
pub const COMMIT_BATCH: usize = 8 * VERIFY_BATCH;
/// Most out-of-order entries held per log while waiting for a gap to fill.
const MAX_PENDING_PER_LOG: i64 = 4096;
/// The same, for a log whose certificate has not arrived (any key can
/// start one): few, and the first to go when the wait list is full.
const MAX_PENDING_UNCERTIFIED: i64 = 64;
/// Most out-of-order entries held in all.
pub(crate) const MAX_PENDING: i64 = 65_536;
/// Most bytes of out-of-order entries held in all.
pub(crate) const MAX_PENDING_BYTES: i64 = 256 << 20;
/// How long an out-of-order entry waits for its gap to fill: a day.
pub(crate) const PENDING_TTL_MS: u64 = 24 * 3600 * 1000;
pub use crate::admission::{MAX_DEVICES_PER_IDENTITY, MAX_LOGS_PER_SPACE};

/// Entries whose signatures are checked, in chain order, ready for
/// [`Store::import_verified`]. Only [`Verified::check`] makes one, so the
/// store never takes an unchecked entry for a checked one.
#[derive(Debug)]
pub struct Verified {
    entries: Vec<Entry>,
    results: Vec<Result<(), EntryError>>,
}

impl Verified {
    /// Puts `entries` in chain order (duplicates dropped) and checks their
    /// signatures in ed25519 batches. Needs no store: it runs on any thread.
    pub fn check(mut entries: Vec<Entry>, cache: &mut KeyCache) -> Self {
        sort_chain_order(&mut entries);
        let results = entries
            .chunks(VERIFY_BATCH)
            .flat_map(|c| verify_batch(c, cache))
            .collect();
        Self { entries, results }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Sorts entries by space, log and seq (so each arrives after its
/// predecessor) and drops duplicates.
fn sort_chain_order(entries: &mut Vec<Entry>) {
    entries.sort_by(|a, b| {
        let (ha, hb) = (a.header(), b.header());
        (ha.space, ha.author, ha.seq, a.id()).cmp(&(hb.space, hb.author, hb.seq, b.id()))
    });
    entries.dedup_by_key(|e| e.id());
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries newly stored and applied.
    pub accepted: u64,
    /// Entries already held.
    pub known: u64,
    /// Verified entries held back until an earlier entry of their log arrives.
    pub pending: u64,
    /// Blobs newly stored.
    pub blobs: u64,
    /// Entries (or blobs) refused, with the reason (the first
    /// [`MAX_REJECTIONS_KEPT`]; `refused` counts them all).
    pub rejected: Vec<Rejection>,
    /// Entries (or blobs) refused in all.
    pub refused: u64,
    /// Of those, the ones no honest peer sends (malformed, forged, or
    /// breaking a rule that does not depend on what else has arrived); the
    /// others may be a peer's honest disagreement (a revocation or removal
    /// it has not heard of yet, a gap).
    pub invalid: u64,
}

/// How far a bundle import has come, after each committed batch: what
/// is done is on disk and survives a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// Entries looked at and committed so far (accepted, known, waiting or
    /// refused).
    pub done: u64,
    /// Entries the bundle holds.
    pub total: u64,
}

/// Most refusals an [`ImportReport`] keeps with their reasons (a hostile
/// peer may send millions).
pub const MAX_REJECTIONS_KEPT: usize = 1000;

pub use crate::view::Rejection;

impl ImportReport {
    /// The report as commands show it.
    pub fn summary(&self) -> crate::view::ImportSummary {
        crate::view::ImportSummary {
            accepted: self.accepted,
            known: self.known,
            pending: self.pending,
            blobs: self.blobs,
            refused: self.refused,
            rejections: self.rejected.clone(),
        }
    }

    fn reject(&mut self, id: Option<EntryId>, reason: impl ToString) {
        self.refuse(Rejection {
            id,
            reason: reason.to_string(),
        });
    }

    /// Counts a refusal of something no honest peer sends, keeping its
    /// reason while there is room.
    pub fn refuse(&mut self, r: Rejection) {
        self.invalid += 1;
        self.dispute(r);
    }

    /// Counts a refusal that may be a peer's honest disagreement.
    fn dispute(&mut self, r: Rejection) {
        self.refused += 1;
        if self.rejected.len() < MAX_REJECTIONS_KEPT {
            self.rejected.push(r);
        }
    }

    /// Adds up another report.
    pub fn merge(&mut self, r: ImportReport) {
        self.accepted += r.accepted;
        self.known += r.known;
        self.pending += r.pending;
        self.blobs += r.blobs;
        self.refused += r.refused;
        self.invalid += r.invalid;
        for x in r.rejected {
            if self.rejected.len() < MAX_REJECTIONS_KEPT {
                self.rejected.push(x);
            }
        }
    }

    fn count(&mut self, id: EntryId, o: Outcome) {
        match o {
            Outcome::Accepted => self.accepted += 1,
            Outcome::Known => self.known += 1,
            Outcome::Pending => self.pending += 1,
            Outcome::Rejected(reason) => self.reject(Some(id), reason),
            Outcome::Disputed(reason) => self.dispute(Rejection {
                id: Some(id),
                reason,
            }),
        }
    }
}

/// What happened to one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Accepted,
    Known,
    Pending,
    /// Refused: no honest peer sends this.
    Rejected(String),
    /// Refused, though an honest peer may send it (see
    /// [`ImportReport::invalid`]).
    Disputed(String),
}

impl Outcome {
    fn refused(&self) -> bool {
        matches!(self, Outcome::Rejected(_) | Outcome::Disputed(_))
    }
}

#[derive(Debug, Clone)]
struct LogState {
    id: i64,
    /// Created by this transaction for the entry being applied: removed
    /// again if that entry is refused, so a refusal leaves no trace.
    fresh: bool,
    seq: u64,
    head: Option<EntryId>,
    /// The identity the log's first entry named.
    identity: Option<IdentityId>,
    compromised: bool,
    /// Whether entries of this log may be waiting in `pending`.
    pending: bool,
    /// Whether `seq`/`head` changed since the row was last written.
    dirty: bool,
}

/// Applies entries inside one transaction: the connection, the key cache,
/// per-transaction caches of space and log rows, and the automerge changes
/// gathered for the end of the transaction.
pub(crate) struct Apply<'a> {
    conn: &'a Connection,
    keys: &'a mut super::project::Keys,
    ctx: Ctx,
    changes: DocChanges,
    /// The time, for the wait list (ms since the epoch).
    now: u64,
    /// Whether entries of a log whose certificate is not held may wait:
    /// for bundles (files the user chose, whose parts may come in any
    /// order), not for what peers send (which comes in log order).
    uncertified_may_wait: bool,
}

impl<'a> Apply<'a> {
    /// Starts applying inside the transaction `conn` is in, at time `now`.
    pub(crate) fn new(conn: &'a Connection, keys: &'a mut super::project::Keys, now: u64) -> Self {
        // Another process may have changed a group's membership since the
        // last transaction: fold it again.
        keys.memberships.clear();
        Self {
            conn,
            keys,
            ctx: Ctx::default(),
            changes: DocChanges::default(),
            now,
            uncertified_may_wait: true,
        }
    }

    /// Writes the advanced frontiers and merges the gathered document
    /// changes; the caller commits.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.ctx.flush(self.conn)?;
        apply_doc_changes(self.conn, self.keys, self.changes)
    }
}

/// Per-transaction caches of space and log rows, the logs refused in this
/// transaction (their later entries are refused too, not parked), and the
/// size of the wait list.
#[derive(Debug, Default)]
struct Ctx {
    spaces: HashMap<SpaceId, Option<SpaceInfo>>,
    logs: HashMap<(i64, DeviceId), LogState>,
    refused: std::collections::HashSet<(SpaceId, DeviceId)>,
    /// Entries and bytes waiting in `pending`.
    pending: Option<(i64, i64)>,
}

impl Ctx {
    /// Writes the frontiers (seq and head) of the logs that advanced. Called
    /// once per transaction, before commit.
    fn flush(&mut self, conn: &Connection) -> Result<()> {
        for l in self.logs.values_mut().filter(|l| l.dirty) {
            conn.prepare_cached("UPDATE logs SET seq=?1, head=?2 WHERE id=?3")?
                .execute(params![l.seq, l.head.map(|h| h.0.to_vec()), l.id])?;
            l.dirty = false;
        }
        Ok(())
    }

    /// The space, if this store chose it (its entries are stored only then).
    fn space(&mut self, conn: &Connection, space: &SpaceId) -> Result<Option<SpaceInfo>> {
        if let Some(s) = self.spaces.get(space) {
            return Ok(*s);
        }
        let info = project::space_info(conn, space)?.filter(|i| i.chosen().is_some());
        self.spaces.insert(*space, info);
        Ok(info)
    }

    /// Entries and bytes waiting in `pending`, counted once per
    /// transaction.
    fn pending(&mut self, conn: &Connection) -> Result<(i64, i64)> {
        if let Some(n) = self.pending {
            return Ok(n);
        }
        let n = conn.query_row(
            "SELECT count(*), coalesce(sum(length(entry)), 0) FROM pending",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        self.pending = Some(n);
        Ok(n)
    }

    fn log(&mut self, conn: &Connection, space: i64, device: &DeviceId) -> Result<LogState> {
        if let Some(l) = self.logs.get(&(space, *device)) {
            return Ok(l.clone());
        }
        let found = conn
            .prepare_cached(
                "SELECT l.id, l.seq, l.head, i.identity, l.compromised
                 FROM logs l LEFT JOIN identities i ON i.id=l.identity
                 WHERE l.space=?1 AND l.device=?2",
            )?
            .query_row(params![space, device.as_bytes()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, u64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })
            .optional()?;
        let state = match found {
            Some((id, seq, head, identity, compromised)) => LogState {
                id,
                fresh: false,
                seq,
                head: if seq == 0 {
                    None
                } else {
                    Some(EntryId(blob32(head)?))
                },
                identity: identity.map(blob32).transpose()?.map(IdentityId),
                compromised,
                pending: conn
                    .prepare_cached("SELECT 1 FROM pending WHERE space=(SELECT space FROM spaces WHERE id=?1) AND device=?2")?
                    .exists(params![space, device.as_bytes()])?,
                dirty: false,
            },
            None => {
                conn.prepare_cached(
                    "INSERT INTO logs(space, device, seq, head) VALUES(?1, ?2, 0, x'')",
                )?
                .execute(params![space, device.as_bytes()])?;
                LogState {
                    id: conn.last_insert_rowid(),
                    fresh: true,
                    seq: 0,
                    head: None,
                    identity: None,
                    compromised: false,
                    pending: conn
                        .prepare_cached("SELECT 1 FROM pending WHERE space=(SELECT space FROM spaces WHERE id=?1) AND device=?2")?
                        .exists(params![space, device.as_bytes()])?,
                    dirty: false,
                }
            }
        };
        self.logs.insert((space, *device), state.clone());
        Ok(state)
    }
}

impl Store {
    /// Imports a bundle: checks its framing (a broken bundle imports
    /// nothing), then decodes, verifies and applies every entry, refusing bad
    /// ones one by one with a reason.
    pub fn import_bundle(&mut self, bytes: &[u8]) -> Result<ImportReport> {
        self.import_bundle_with(bytes, &mut |_| {})
    }

    /// [`Store::import_bundle`], calling `on_commit` after each batch of
    /// entries is committed.
    pub fn import_bundle_with(
        &mut self,
        bytes: &[u8],
        on_commit: &mut dyn FnMut(ImportProgress),
    ) -> Result<ImportReport> {
        let items = bundle::parse(bytes)?;
        let mut report = ImportReport::default();
        let mut entries = Vec::new();
        let mut blobs = Vec::new();
        for item in items {
            match item {
                Item::Entry(b) => match Entry::decode(b) {
                    Ok(e) => entries.push(e),
                    Err(err) => report.reject(None, err),
                },
                Item::Blob { hash, space, data } => {
                    if Hash::of(data) == hash {
                        blobs.push((hash, space, data));
                    } else {
                        report.reject(
                            None,
                            format!("blob {} does not match its hash", hash.fmt_short()),
                        );
                    }
                }
            }
        }
        self.import_entries_into(entries, &mut report, on_commit)?;
        for (hash, space, data) in blobs {
            // Only blobs of spaces this store chose are kept, only as large
            // as an image may be, and only those a post or profile held
            // here refers to (not an image of a deleted post, nor of a
            // group this device left).
            let chosen =
                project::space_info(&self.conn, &space)?.is_some_and(|i| i.chosen().is_some());
            if data.len() > crate::node::MAX_SEALED_IMAGE_LEN as usize {
                report.reject(
                    None,
                    format!("blob {} is larger than an image may be", hash.fmt_short()),
                );
            } else if chosen {
                if self.put_wanted_blob(&hash, data)? {
                    report.blobs += 1;
                }
            } else {
                report.reject(
                    None,
                    format!("blob {} belongs to a space not held here", hash.fmt_short()),
                );
            }
        }
        Ok(report)
    }

    /// Verifies and applies entries (any order; duplicates are fine).
    pub fn import_entries(&mut self, entries: Vec<Entry>) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        self.import_entries_into(entries, &mut report, &mut |_| {})?;
        Ok(report)
    }

    fn import_entries_into(
        &mut self,
        mut entries: Vec<Entry>,
        report: &mut ImportReport,
        on_commit: &mut dyn FnMut(ImportProgress),
    ) -> Result<()> {
        sort_chain_order(&mut entries);
        let total = entries.len() as u64;
        let mut done = 0u64;
        let mut rest = entries.into_iter();
        let chunks = std::iter::from_fn(move || {
            let chunk: Vec<Entry> = rest.by_ref().take(COMMIT_BATCH).collect();
            (!chunk.is_empty()).then_some((chunk, ()))
        });
        let res = pipeline(chunks, |v, ()| {
            self.commit_batch(&v.entries, v.results, report, true)?;
            done += v.entries.len() as u64;
            on_commit(ImportProgress { done, total });
            Ok(())
        });
        if res.is_err() {
            // A failed transaction rolled back; cached keys may name rows that no longer exist.
            self.keys.clear();
        }
        res
    }

    /// Commits entries checked by [`Verified::check`] (on another thread,
    /// while the store commits something else) in one transaction. For
    /// what peers send: an entry of a log whose certificate is not held
    /// does not wait for it.
    pub fn import_verified(&mut self, verified: Verified) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let res = self.commit_batch(&verified.entries, verified.results, &mut report, false);
        if res.is_err() {
            self.keys.clear();
        }
        res.map(|()| report)
    }

    fn commit_batch(
        &mut self,
        chunk: &[Entry],
        results: Vec<Result<(), EntryError>>,
        report: &mut ImportReport,
        from_file: bool,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let now = super::now_ms();
        // Entries that waited too long for their gap go.
        tx.prepare_cached("DELETE FROM pending WHERE arrived < ?1")?
            .execute([now.saturating_sub(PENDING_TTL_MS)])?;
        let mut apply = Apply::new(&tx, &mut self.keys, now);
        apply.uncertified_may_wait = from_file;
        for (e, r) in chunk.iter().zip(results) {
            if let Err(err) = r {
                report.reject(Some(e.id()), err);
                continue;
            }
            let o = apply.apply_one(e)?;
            report.count(e.id(), o);
        }
        apply.finish()?;
        tx.commit()?;
        Ok(())
    }
}

/// The one ingest pipeline, which bundle imports and catch-up sessions
/// both run: chunks of entries are signature-checked on a second thread
/// while this one commits the chunk before (each chunk in one transaction,
/// by `commit`, which also sees what came with the chunk). An error from
/// `commit` stops the pipeline; the chunks' source must then end too (the
/// checking thread is waited for).
pub fn pipeline<X: Send, E>(
    chunks: impl Iterator<Item = (Vec<Entry>, X)> + Send,
    mut commit: impl FnMut(Verified, X) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    std::thread::scope(|s| {
        let (tx, checked) = mpsc::sync_channel::<(Verified, X)>(1);
        s.spawn(move || {
            let mut cache = KeyCache::default();
            for (entries, with) in chunks {
                if tx
                    .send((Verified::check(entries, &mut cache), with))
                    .is_err()
                {
                    break;
                }
            }
        });
        for (verified, with) in checked {
            commit(verified, with)?;
        }
        Ok(())
    })
}

/// Applies one signature-verified entry inside a transaction: chain checks,
/// equivocation, decryption and projection. Entries that arrive before
/// their predecessor wait in `pending`; once this one is accepted, any
/// waiting successors are applied too.
impl Apply<'_> {
    pub(crate) fn apply_one(&mut self, entry: &Entry) -> Result<Outcome> {
        let first = self.apply_chained(entry)?;
        if first != Outcome::Accepted {
            return Ok(first);
        }
        // Drain successors that were waiting for this entry.
        let h = entry.header();
        let waiting_possible = self
            .ctx
            .spaces
            .get(&h.space)
            .copied()
            .flatten()
            .and_then(|s| self.ctx.logs.get(&(s.row, h.author)))
            .is_some_and(|l| l.pending);
        if !waiting_possible {
            return Ok(first);
        }
        for next_seq in (h.seq + 1..).take(MAX_PENDING_PER_LOG as usize) {
            let waiting = take_pending(self.conn, &h.space, &h.author, next_seq)?;
            if waiting.is_empty() {
                break;
            }
            let mut advanced = false;
            for w in waiting {
                if self.apply_chained(&w)? == Outcome::Accepted {
                    advanced = true;
                }
            }
            if !advanced {
                break;
            }
        }
        Ok(first)
    }

    fn apply_chained(&mut self, entry: &Entry) -> Result<Outcome> {
        let outcome = self.check_and_store(entry)?;
        let (conn, ctx) = (self.conn, &mut self.ctx);
        let h = entry.header();
        if outcome.refused() {
            // Later entries of this log in this transaction cannot chain.
            ctx.refused.insert((h.space, h.author));
        }
        if outcome != Outcome::Accepted {
            // A refused or waiting entry leaves no new log row behind.
            let fresh = ctx.spaces.get(&h.space).copied().flatten().and_then(|s| {
                let k = (s.row, h.author);
                ctx.logs
                    .get(&k)
                    .filter(|l| l.fresh && l.seq == 0)
                    .map(|l| (k, l.id))
            });
            if let Some((k, id)) = fresh {
                conn.prepare_cached("DELETE FROM logs WHERE id=?1 AND seq=0")?
                    .execute([id])?;
                ctx.logs.remove(&k);
            }
        }
        Ok(outcome)
    }

    fn check_and_store(&mut self, entry: &Entry) -> Result<Outcome> {
        let (conn, keys, ctx, changes) =
            (self.conn, &mut *self.keys, &mut self.ctx, &mut self.changes);
        let h = entry.header();
        let id = entry.id();
        let refuse = |s: String| Ok(Outcome::Rejected(s));
        let dispute = |s: String| Ok(Outcome::Disputed(s));
        let Some(space) = ctx.space(conn, &h.space)? else {
            return dispute(format!(
                "space {} is not held here: entries are kept only for spaces this device follows, joined or made",
                h.space.fmt_short()
            ));
        };
        let mut log = ctx.log(conn, space.row, &h.author)?;
        // Only an entry at a seq already held can be held already.
        let held = h.seq <= log.seq
            && conn
                .prepare_cached(
                    "SELECT 1 FROM entries WHERE substr(hash, 1, 8)=substr(?1, 1, 8) AND hash=?1",
                )?
                .exists(params![id.as_bytes()])?;
        let facts = admission::LogFacts {
            seq: log.seq,
            head: log.head,
            compromised: log.compromised,
            broken_in_batch: ctx.refused.contains(&(h.space, h.author)),
        };
        match admission::in_log(&facts, h, held, entry.payload().is_some()) {
            InLog::Known => return Ok(Outcome::Known),
            InLog::Next => {}
            InLog::Wait => return self.wait(entry, space.row, log),
            InLog::Equivocation => {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO equivocations(space, device, seq, entry) VALUES(?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    h.space.as_bytes(),
                    h.author.as_bytes(),
                    h.seq,
                    entry.encode()
                ])?;
                conn.prepare_cached("UPDATE logs SET compromised=1 WHERE id=?1")?
                    .execute([log.id])?;
                log.compromised = true;
                ctx.logs.insert((space.row, h.author), log);
                return dispute(format!(
                    "equivocation: device {} already signed a different entry at seq {}; kept as evidence",
                    h.author.fmt_short(),
                    h.seq
                ));
            }
            InLog::Refused(why) => {
                let reason = format!(
                    "device {}, seq {} (held up to {}): {why}",
                    h.author.fmt_short(),
                    h.seq,
                    log.seq
                );
                return if why.honest() {
                    dispute(reason)
                } else {
                    refuse(reason)
                };
            }
        }
        let first = h.seq == 1;
        // Decrypt and check the record against its place.
        let pos = project::LogPos {
            writer: log.identity,
        };
        let (record, writer) = match project::open_record(conn, keys, &space, &pos, entry)? {
            project::Opened::Record(r, w) => (Some(*r), w),
            project::Opened::Invalid(reason) => return refuse(reason),
            project::Opened::WrongKey(reason) => return dispute(reason),
            project::Opened::NoKey => match log.identity {
                // Kept sealed until the key of its epoch arrives; its log's
                // certificate says who wrote it.
                Some(w) if !first => (None, w),
                _ => {
                    return dispute(format!(
                        "cannot check the certificate of device {}: key epoch {} of space {} is not held",
                        h.author.fmt_short(),
                        h.key_epoch,
                        h.space.fmt_short()
                    ));
                }
            },
        };
        let limit = project::revoked_limit(conn, &h.author, &writer, &h.space)?;
        if !admission::within_revocation(h.seq, limit) {
            return dispute(format!(
                "device {} was revoked by its owner; what it signed after that is refused",
                h.author.fmt_short()
            ));
        }
        if first {
            let (in_space, of_writer): (u64, u64) = conn
                .prepare_cached(
                    "SELECT count(*), coalesce(sum(identity=(SELECT id FROM identities WHERE identity=?2)), 0)
                     FROM logs WHERE space=?1 AND seq>0",
                )?
                .query_row(params![space.row, writer.as_bytes()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            if let Err(why) = admission::may_open_log(in_space, of_writer) {
                return dispute(format!(
                    "cannot open a log for device {} ({}) in space {}: {why}",
                    h.author.fmt_short(),
                    writer.fmt_short(),
                    h.space.fmt_short()
                ));
            }
        }
        let standing = super::membership::standing(
            conn,
            keys,
            &space,
            &writer,
            &h.author,
            h.seq,
            &id,
            h.timestamp,
            record.as_ref(),
        )?;
        if standing == super::membership::Standing::Refused {
            return dispute(format!(
                "{} is not a member of group {}",
                writer.fmt_short(),
                h.space.fmt_short()
            ));
        }
        conn.prepare_cached(
            "INSERT INTO entries(hash, log, seq, ts, epoch, sig, dropped, payload)
         VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            id.as_bytes(),
            log.id,
            h.seq,
            h.timestamp,
            h.key_epoch,
            super::entries::stored_sig(entry.signature(), h.version),
            entry
                .payload()
                .is_none()
                .then(|| project::dropped(&h.payload_hash, h.payload_len)),
            entry.payload(),
        ])?;
        let row = conn.last_insert_rowid();
        log.seq = h.seq;
        log.head = Some(id);
        log.fresh = false;
        log.dirty = true;
        log.identity = Some(writer);
        if let Some(record) = record {
            let placed = project::Placed {
                row,
                id,
                log: log.id,
                device: h.author,
                seq: h.seq,
                timestamp: h.timestamp,
            };
            project::project(conn, keys, &space, writer, &placed, record, changes)?;
        }
        ctx.logs.insert((space.row, h.author), log);
        Ok(Outcome::Accepted)
    }

    /// An entry that arrived before its predecessor waits in `pending` if
    /// there is room: per log (little for a log whose certificate is not
    /// held: any key can start one) and in all. When the list is full, an
    /// entry of a certified log makes room by dropping the oldest one of an
    /// uncertified log.
    fn wait(&mut self, entry: &Entry, space_row: i64, mut log: LogState) -> Result<Outcome> {
        let (conn, ctx) = (self.conn, &mut self.ctx);
        let h = entry.header();
        let gap = |why: &str| {
            Ok(Outcome::Disputed(format!(
                "gap in log of device {}: have seq {}, got {}; {why}",
                h.author.fmt_short(),
                log.seq,
                h.seq
            )))
        };
        let certified = log.identity.is_some();
        if !certified && !self.uncertified_may_wait {
            return gap("its certificate is not held, so it cannot wait");
        }
        let held: i64 = conn
            .prepare_cached("SELECT count(*) FROM pending WHERE space=?1 AND device=?2")?
            .query_row(params![h.space.as_bytes(), h.author.as_bytes()], |r| {
                r.get(0)
            })?;
        let per_log = if certified {
            MAX_PENDING_PER_LOG
        } else {
            MAX_PENDING_UNCERTIFIED
        };
        if held >= per_log {
            return gap("its wait list is full");
        }
        let size = entry.encode().len() as i64;
        let (count, bytes) = ctx.pending(conn)?;
        if count >= MAX_PENDING || bytes + size > MAX_PENDING_BYTES {
            let evicted: Option<i64> = if certified {
                conn.prepare_cached(
                    "DELETE FROM pending WHERE rowid=(SELECT rowid FROM pending
                     WHERE certified=0 ORDER BY arrived LIMIT 1) RETURNING length(entry)",
                )?
                .query_row([], |r| r.get(0))
                .optional()?
            } else {
                None
            };
            let Some(freed) = evicted else {
                return gap("the wait list is full");
            };
            if let Some(p) = &mut ctx.pending {
                *p = (p.0 - 1, p.1 - freed);
            }
        }
        let n = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO pending(space, device, seq, hash, entry, arrived, certified)
                 VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                h.space.as_bytes(),
                h.author.as_bytes(),
                h.seq,
                entry.id().as_bytes(),
                entry.encode(),
                self.now,
                certified
            ])?;
        if let Some(p) = &mut ctx.pending {
            *p = (p.0 + n as i64, p.1 + size * n as i64);
        }
        log.pending = true;
        ctx.logs.insert((space_row, h.author), log);
        Ok(Outcome::Pending)
    }
}

fn take_pending(
    conn: &Connection,
    space: &SpaceId,
    device: &DeviceId,
    seq: u64,
) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM pending WHERE space=?1 AND device=?2 AND seq=?3 RETURNING entry",
    )?;
    let rows = stmt.query_map(params![space.as_bytes(), device.as_bytes(), seq], |r| {
        r.get::<_, Vec<u8>>(0)
    })?;
    let mut out = Vec::new();
    for bytes in rows {
        // Pending rows were verified before they were stored.
        out.push(Entry::decode(&bytes?)?);
    }
    out.sort_by_key(|e| e.id());
    Ok(out)
}
