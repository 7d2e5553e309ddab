//! Entries and logs: appending this device's entries, log heads and
//! frontiers, rebuilding stored entries, exports, equivocation evidence.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, Store, StoreError, blob32, ingest, load_doc, now_ms, project, space_row};
use crate::bundle::BundleWriter;
use crate::crypto::SpaceKey;
use crate::doc::DocError;
use crate::entry::{ENTRY_VERSION, Entry, Header};
use crate::id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};
use crate::space::SpaceKind;

/// Stores an entry this device just made, in the caller's transaction: it
/// must be accepted.
pub(super) fn store_own(tx: &Connection, keys: &mut project::Keys, entry: &Entry) -> Result<()> {
    // What peers would refuse is not written.
    if let Err(e) = entry.header().validate() {
        return Err(StoreError::Refused(format!(
            "this entry cannot be sent: {e}"
        )));
    }
    let mut apply = ingest::Apply::new(tx, keys, now_ms());
    match apply.apply_one(entry)? {
        ingest::Outcome::Accepted => {}
        ingest::Outcome::Rejected(reason) => return Err(StoreError::Refused(reason)),
        other => {
            return Err(StoreError::Corrupt(format!(
                "own new entry was not accepted: {other:?}"
            )));
        }
    }
    apply.finish()
}

impl Store {
    pub(super) fn append_with<T>(
        &mut self,
        space: &SpaceId,
        device: &DeviceId,
        seal: Seal,
        prepare: impl FnOnce(&Connection) -> Result<Option<T>>,
        make: impl FnOnce(Option<LogHead>, &SpaceKey, u32, T) -> Entry,
    ) -> Result<Option<Entry>> {
        let res = Self::append_in(
            &mut self.conn,
            &mut self.keys,
            (space, device, seal),
            prepare,
            make,
        );
        if res.is_err() {
            // The transaction rolled back: forget what was cached in it.
            self.keys.clear();
        }
        res
    }

    pub(super) fn append_in<T>(
        conn: &mut Connection,
        keys: &mut project::Keys,
        (space, device, seal): (&SpaceId, &DeviceId, Seal),
        prepare: impl FnOnce(&Connection) -> Result<Option<T>>,
        make: impl FnOnce(Option<LogHead>, &SpaceKey, u32, T) -> Entry,
    ) -> Result<Option<Entry>> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let Some(prepared) = prepare(&tx)? else {
            return Ok(None);
        };
        let head = log_head(&tx, space, device)?;
        let row = space_row(&tx, space)?.ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
        let epoch = match seal {
            Seal::Newest => project::current_epoch(&tx, row)?,
            Seal::First => 0,
        };
        let key = project::key_for(&tx, keys, row, epoch)?
            .ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
        let entry = make(head, &key, epoch, prepared);
        store_own(&tx, keys, &entry)?;
        tx.commit()?;
        Ok(Some(entry))
    }

    /// The head of `device`'s log in `space`.
    pub fn log_head(&self, space: &SpaceId, device: &DeviceId) -> Result<Option<LogHead>> {
        log_head(&self.conn, space, device)
    }

    /// Appends a new entry written on this device: reads the log head and
    /// stores the entry `make` builds from it (sealed with the key `seal`
    /// picks), in one write transaction so two processes never write the
    /// same seq.
    pub fn append(
        &mut self,
        space: &SpaceId,
        device: &DeviceId,
        seal: Seal,
        make: impl FnOnce(Option<LogHead>, &SpaceKey, u32) -> Entry,
    ) -> Result<Entry> {
        let made = self.append_with(
            space,
            device,
            seal,
            |_| Ok(Some(())),
            |head, key, epoch, ()| make(head, key, epoch),
        )?;
        made.ok_or_else(|| StoreError::Corrupt("append made no entry".into()))
    }

    /// Edits the space's document and appends the change as a new entry, in
    /// one write transaction (so two processes never build on the same doc
    /// state). `edit` returns the change bytes, or `None` for no change.
    pub fn append_change(
        &mut self,
        space: &SpaceId,
        device: &DeviceId,
        seal: Seal,
        edit: impl FnOnce(&mut crate::doc::Doc) -> Result<Option<Vec<u8>>, DocError>,
        make: impl FnOnce(Option<LogHead>, &SpaceKey, u32, &[u8]) -> Entry,
    ) -> Result<Option<Entry>> {
        self.append_with(
            space,
            device,
            seal,
            |tx| {
                let row =
                    space_row(tx, space)?.ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
                let mut doc = load_doc(tx, row)?;
                Ok(edit(&mut doc)?.map(|c| crate::record::Record::DocChange(c).encode()))
            },
            |head, key, epoch, plain| make(head, key, epoch, &plain),
        )
    }

    /// Writes a bundle of every entry (and blob) of `spaces` held here.
    pub fn export(&self, spaces: &[SpaceId]) -> Result<Vec<u8>> {
        let mut w = BundleWriter::new();
        let mut rows = HashSet::new();
        for space in spaces {
            if let Some(row) = space_row(&self.conn, space)? {
                rows.insert(row);
            }
        }
        self.for_each_entry(Some(&rows), |e| {
            w.entry(&e.encode());
            Ok(())
        })?;
        let mut stmt = self
            .conn
            .prepare("SELECT b.hash, s.space, b.data FROM blobs b JOIN spaces s ON s.id=b.space ORDER BY b.id")?;
        let mut found = stmt.query([])?;
        while let Some(r) = found.next()? {
            let space = SpaceId(blob32(r.get(1)?)?);
            if !spaces.contains(&space) {
                continue;
            }
            let h = Hash(blob32(r.get(0)?)?);
            let d: Vec<u8> = r.get(2)?;
            w.blob(&h, &space, &d);
        }
        Ok(w.finish())
    }

    /// Calls `f` with every stored entry (of the given space rows, or all),
    /// rebuilt and checked against its stored id, in storage order: each
    /// log's entries come in seq order, as they were stored.
    pub(super) fn for_each_entry(
        &self,
        spaces: Option<&HashSet<i64>>,
        mut f: impl FnMut(Entry) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(
            &format!(
                "SELECT {ENTRY_COLS}, l.id, l.space
                 FROM entries e JOIN logs l ON l.id=e.log JOIN spaces s ON s.id=l.space ORDER BY e.id"
            ),
        )?;
        let mut rows = stmt.query([])?;
        let mut heads: HashMap<i64, (u64, EntryId)> = HashMap::new();
        while let Some(r) = rows.next()? {
            let space_row: i64 = r.get(10)?;
            if spaces.is_some_and(|set| !set.contains(&space_row)) {
                continue;
            }
            let log: i64 = r.get(9)?;
            let seq: u64 = r.get(2)?;
            let previous = match heads.get(&log) {
                Some((s, id)) if *s + 1 == seq => Some(*id),
                None if seq == 1 => None,
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "log {log} is not stored in order at seq {seq}"
                    )));
                }
            };
            let e = rebuild(r, seq, previous)?;
            heads.insert(log, (seq, e.id()));
            f(e)?;
        }
        Ok(())
    }

    /// Evidence of equivocation: (space, device, seq) with two entries.
    pub fn equivocations(&self) -> Result<Vec<(SpaceId, DeviceId, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT space, device, seq FROM equivocations ORDER BY 1, 2, 3")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, u64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (s, d, q) = row?;
            out.push((blob32(s).map(SpaceId)?, blob32(d).map(DeviceId)?, q));
        }
        Ok(out)
    }

    /// Every log `device` has, with its space and head seq.
    pub fn logs_of(&self, device: &DeviceId) -> Result<Vec<(SpaceId, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.space, l.seq FROM logs l JOIN spaces s ON s.id=l.space WHERE l.device=?1",
        )?;
        let rows = stmt.query_map([device.as_bytes()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, u64>(1)?))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (s, seq) = r?;
            out.push((SpaceId(blob32(s)?), seq));
        }
        Ok(out)
    }

    /// The devices that have a log in `space`.
    pub fn log_devices(&self, space: &SpaceId) -> Result<Vec<DeviceId>> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT device FROM logs WHERE space=?1 ORDER BY id")?;
        let rows = stmt.query_map([row], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(DeviceId(blob32(r?)?));
        }
        Ok(out)
    }

    /// The head seq of each device log in `space` written by `identity`.
    pub fn heads_of(&self, space: &SpaceId, identity: &IdentityId) -> Result<Vec<(DeviceId, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.device, l.seq FROM logs l JOIN spaces s ON s.id=l.space
             JOIN identities i ON i.id=l.identity WHERE s.space=?1 AND i.identity=?2 AND l.seq>0",
        )?;
        let rows = stmt.query_map(params![space.as_bytes(), identity.as_bytes()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, u64>(1)?))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (d, seq) = r?;
            out.push((DeviceId(blob32(d)?), seq));
        }
        Ok(out)
    }

    /// The space (and its kind) an entry belongs to, if the entry is held.
    pub fn space_of_entry(&self, id: &EntryId) -> Result<Option<(SpaceId, Option<SpaceKind>)>> {
        let row: Option<(Vec<u8>, i64)> = self
            .conn
            .prepare_cached(
                "SELECT s.space, s.kind FROM entries e JOIN logs l ON l.id=e.log
                 JOIN spaces s ON s.id=l.space
                 WHERE substr(e.hash, 1, 8)=substr(?1, 1, 8) AND e.hash=?1",
            )?
            .query_row([id.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(s, k)| Ok((SpaceId(blob32(s)?), SpaceKind::from_code(k))))
            .transpose()
    }

    /// The highest seq of `device`'s log in each space it writes that has
    /// a gossip topic (feeds, groups, conversations: not the account).
    pub fn feed_heads(&self, device: &DeviceId) -> Result<Vec<(SpaceId, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.space, l.seq FROM logs l JOIN spaces s ON s.id=l.space
             WHERE l.device=?1 AND s.kind>0 AND s.kind!=?2 AND l.seq>0",
        )?;
        let rows = stmt.query_map(params![device.as_bytes(), SpaceKind::Account.code()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, u64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (s, seq) = row?;
            out.push((SpaceId(blob32(s)?), seq));
        }
        Ok(out)
    }
}

/// The columns [`rebuild`] reads, in order, from `entries e`, `logs l` and
/// `spaces s`.
pub(crate) const ENTRY_COLS: &str =
    "s.space, l.device, e.seq, e.ts, e.epoch, e.dropped, e.sig, e.payload, e.hash";

/// How an entry's signature is stored: the signature, then its header's
/// format version in one byte when that is not [`ENTRY_VERSION`] (current
/// entries pay nothing for it).
pub(crate) fn stored_sig(sig: &[u8; 64], version: u8) -> Vec<u8> {
    let mut out = sig.to_vec();
    if version != ENTRY_VERSION {
        out.push(version);
    }
    out
}

/// The header version a stored signature's suffix (what follows its 64
/// bytes, as `CAST(substr(sig, 65) AS BLOB)` reads it) says.
pub(crate) fn version_of(suffix: &[u8]) -> u8 {
    suffix.first().copied().unwrap_or(ENTRY_VERSION)
}

/// Rebuilds a stored entry from a row of [`ENTRY_COLS`] and the id of its
/// predecessor, and checks it against its stored id.
pub(crate) fn rebuild(r: &rusqlite::Row<'_>, seq: u64, previous: Option<EntryId>) -> Result<Entry> {
    let payload: Option<Vec<u8>> = r.get(7)?;
    let (payload_hash, payload_len) = match (&payload, r.get::<_, Option<Vec<u8>>>(5)?) {
        (Some(p), _) => (Hash::of(p), p.len() as u32),
        (None, Some(d)) if d.len() == 36 => {
            let hash =
                Hash::from_slice(&d[..32]).ok_or_else(|| StoreError::Corrupt("dropped".into()))?;
            let len = u32::from_le_bytes([d[32], d[33], d[34], d[35]]);
            (hash, len)
        }
        _ => {
            return Err(StoreError::Corrupt(
                "entry without payload or its hash".into(),
            ));
        }
    };
    let stored: Vec<u8> = r.get(6)?;
    if !(64..=65).contains(&stored.len()) {
        return Err(StoreError::Corrupt("signature length".into()));
    }
    let (sig, suffix) = stored.split_at(64);
    let sig =
        <[u8; 64]>::try_from(sig).map_err(|_| StoreError::Corrupt("signature length".into()))?;
    let version = version_of(suffix);
    let header = Header {
        version,
        space: blob32(r.get(0)?).map(SpaceId)?,
        author: blob32(r.get(1)?).map(DeviceId)?,
        seq,
        previous,
        timestamp: r.get(3)?,
        key_epoch: r.get(4)?,
        payload_hash,
        payload_len,
    };

    let e = Entry::from_parts(header, sig, payload)?;
    let stored = blob32(r.get(8)?).map(EntryId)?;
    if e.id() != stored {
        return Err(StoreError::Corrupt(format!(
            "entry {stored} does not rebuild to its id"
        )));
    }
    Ok(e)
}

pub(super) fn log_head(
    conn: &Connection,
    space: &SpaceId,
    device: &DeviceId,
) -> Result<Option<LogHead>> {
    conn.prepare_cached(
        "SELECT l.seq, l.head, e.ts FROM logs l JOIN spaces s ON s.id=l.space
             JOIN entries e ON substr(e.hash, 1, 8)=substr(l.head, 1, 8) AND e.hash=l.head
             WHERE s.space=?1 AND l.device=?2",
    )?
    .query_row(params![space.as_bytes(), device.as_bytes()], |r| {
        Ok((
            r.get::<_, u64>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, u64>(2)?,
        ))
    })
    .optional()?
    .map(|(seq, head, timestamp)| {
        blob32(head).map(|h| LogHead {
            seq,
            id: EntryId(h),
            timestamp,
        })
    })
    .transpose()
}

/// The head of one device's log in one space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    /// Highest seq held.
    pub seq: u64,
    /// Id of the entry at that seq.
    pub id: EntryId,
    /// Timestamp of that entry.
    pub timestamp: u64,
}

/// Which key a new entry is sealed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seal {
    /// The newest epoch held: what only current members read.
    Newest,
    /// Epoch 0: what every member who ever joined reads — a group's
    /// membership, its name, the certificates that open logs — so that a
    /// newcomer, whose invite carries epoch 0 and the newest keys only,
    /// can check them all.
    First,
}
