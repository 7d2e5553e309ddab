//! Projection: from decrypted records to the derived tables (posts,
//! reactions, edits, deletes, profiles, audience) and the automerge docs.
//!
//! Every rule here gives the same tables for the same set of entries,
//! whatever order they arrive in: edits pick the newest by (timestamp, id)
//! and are looked up again when their post arrives; deletes are tombstones
//! that also hide a post that comes later; doc changes merge in automerge;
//! a group's membership is folded from its operations
//! ([`super::membership`]).

use std::collections::{BTreeMap, HashMap};

use automerge::Change;
use rusqlite::{Connection, OptionalExtension, params};

use super::{LIKE, REPOST, Result, StoreError, blob32, ensure_space, identity_row};
use crate::admission::{self, Place};
use crate::crypto::SpaceKey;
use crate::doc::Doc;
use crate::entry::{Entry, Header};
use crate::id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};
use crate::record::Record;
use crate::space::SpaceKind;

/// What the store knows of a space it holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpaceInfo {
    pub(crate) row: i64,
    pub(crate) id: SpaceId,
    pub(crate) kind: Option<SpaceKind>,
    pub(crate) owner: Option<IdentityId>,
    /// A group this device left: entries are kept as headers only.
    pub(crate) departed: bool,
}

impl SpaceInfo {
    /// Kind and owner, when the space was chosen (followed, joined,
    /// created): only then are its entries stored.
    pub(crate) fn chosen(&self) -> Option<(SpaceKind, IdentityId)> {
        Some((self.kind?, self.owner?))
    }
}

/// Where an entry sits in its log, for the record rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogPos {
    /// The identity the log's first entry named (`None` for that entry).
    pub(crate) writer: Option<IdentityId>,
}

/// A stored entry being projected.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    pub(crate) row: i64,
    pub(crate) id: EntryId,
    pub(crate) log: i64,
    pub(crate) device: DeviceId,
    pub(crate) seq: u64,
    pub(crate) timestamp: u64,
}

/// The result of opening a payload.
pub(crate) enum Opened {
    /// The record, and the identity that writes it.
    Record(Box<Record>, IdentityId),
    NoKey,
    /// Does not open with the key held for its epoch (another rotation's
    /// key, not held yet).
    WrongKey(String),
    Invalid(String),
}

/// Automerge changes gathered during a transaction, applied at its end.
#[derive(Default)]
pub(crate) struct DocChanges {
    pub(crate) by_space: BTreeMap<i64, (SpaceInfo, Vec<Change>)>,
}

/// Space keys read so far (by space row and epoch), groups' memberships
/// folded so far, and this device's identity key, which unwraps a group's
/// rotated keys as they arrive.
#[derive(Default)]
pub(crate) struct Keys {
    cache: HashMap<(i64, u32), SpaceKey>,
    pub(crate) memberships: HashMap<i64, crate::membership::Membership>,
    /// The identity key, on a device that holds it: unwraps group keys.
    pub(crate) me: Option<crate::identity::IdentityKey>,
    /// This device's key: unwraps the account space's keys, and the store
    /// key derives from it.
    pub(crate) device: Option<crate::identity::DeviceKey>,
    /// This device's ratchet, once read ([`super::ratchet`]).
    pub(crate) ratchet: Option<crate::ratchet::Ratchet>,
    /// The ratchet changed since it was written (written once per
    /// transaction, by [`super::ratchet::flush`]).
    pub(crate) ratchet_dirty: bool,
    /// The record inside the ratcheted entry this device is appending
    /// (its own session cannot open it): by the entry's id.
    pub(crate) own_inner: Option<(EntryId, Vec<u8>)>,
}

impl Keys {
    fn get(&self, at: &(i64, u32)) -> Option<&SpaceKey> {
        self.cache.get(at)
    }

    fn insert(&mut self, at: (i64, u32), key: SpaceKey) {
        self.cache.insert(at, key);
    }

    /// Forgets the keys cached for the space `row` (its keys were dropped).
    pub(crate) fn forget_space(&mut self, row: i64) {
        self.cache.retain(|(r, _), _| *r != row);
        self.memberships.remove(&row);
    }

    /// Forgets what was cached (after a rolled-back transaction).
    pub(crate) fn clear(&mut self) {
        self.cache.clear();
        self.memberships.clear();
        self.ratchet = None;
        self.ratchet_dirty = false;
        self.own_inner = None;
    }
}

/// The newest key epoch held for a space (0 when only the first).
pub(crate) fn current_epoch(conn: &Connection, row: i64) -> Result<u32> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(epoch), 0) FROM keys WHERE space=?1")?
        .query_row([row], |r| r.get(0))?)
}

/// A stored entry as reprojection reads it: row, id, log, seq, timestamp,
/// epoch, payload, author device, the log's identity, header version.
type StoredEntry = (
    i64,
    Vec<u8>,
    i64,
    u64,
    u64,
    u32,
    Option<Vec<u8>>,
    Vec<u8>,
    Option<Vec<u8>>,
    Vec<u8>,
);

/// What opening a stored entry needs: space, device, space row, seq, epoch,
/// payload, header version.
type Sealed = (Vec<u8>, Vec<u8>, i64, u64, u32, Option<Vec<u8>>, Vec<u8>);

/// A `spaces` row as `space_info` reads it: row, kind, owner, whether its
/// epoch-0 key is held, departed.
type SpaceRow = (i64, i64, Option<Vec<u8>>, bool, bool);

/// What the store knows of `space`, if it has a row for it (it makes none).
pub(crate) fn space_info(conn: &Connection, space: &SpaceId) -> Result<Option<SpaceInfo>> {
    let found: Option<SpaceRow> = conn
        .prepare_cached(
            "SELECT s.id, s.kind, i.identity,
                    EXISTS(SELECT 1 FROM keys k WHERE k.space=s.id AND k.epoch=0), s.departed
             FROM spaces s LEFT JOIN identities i ON i.id=s.owner WHERE s.space=?1",
        )?
        .query_row([space.as_bytes()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((row, kind, owner, keyed, departed)) = found else {
        return Ok(None);
    };
    Ok(Some(SpaceInfo {
        row,
        id: *space,
        kind: SpaceKind::from_code(kind).filter(|_| keyed),
        owner: owner.map(blob32).transpose()?.map(IdentityId),
        departed,
    }))
}

/// Opens a payload sealed with `space`'s key at `epoch`: the key held, or
/// another key a concurrent rotation gave that epoch.
fn open_sealed(
    conn: &Connection,
    keys: &mut Keys,
    row: i64,
    epoch: u32,
    aad: &[u8],
    payload: &[u8],
) -> Result<std::result::Result<Vec<u8>, crate::crypto::CryptoError>> {
    let Some(key) = key_for(conn, keys, row, epoch)? else {
        return Ok(Err(crate::crypto::CryptoError::Decrypt));
    };
    let first = key.open(aad, payload);
    if first.is_ok() || epoch == 0 {
        return Ok(first);
    }
    let others: Vec<Vec<u8>> = conn
        .prepare_cached("SELECT key FROM rotated_keys WHERE space=?1 AND epoch=?2")?
        .query_map(params![row, epoch], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    for k in others {
        if let Ok(p) = SpaceKey::from_bytes(blob32(k)?).open(aad, payload) {
            return Ok(Ok(p));
        }
    }
    Ok(first)
}

pub(crate) fn key_for(
    conn: &Connection,
    keys: &mut Keys,
    row: i64,
    epoch: u32,
) -> Result<Option<SpaceKey>> {
    if let Some(k) = keys.get(&(row, epoch)) {
        return Ok(Some(k.clone()));
    }
    let k: Option<Vec<u8>> = conn
        .prepare_cached("SELECT key FROM keys WHERE space=?1 AND epoch=?2")?
        .query_row(params![row, epoch], |r| r.get(0))
        .optional()?;
    let Some(k) = k else { return Ok(None) };
    let key = SpaceKey::from_bytes(blob32(k)?);
    keys.insert((row, epoch), key.clone());
    Ok(Some(key))
}

/// Registers a space's kind, owner and epoch-0 key (the space is then
/// chosen: its entries are stored); when the key is new for a space with
/// entries, projects them again. Returns whether it was new.
pub(crate) fn add_space(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceId,
    kind: SpaceKind,
    owner: &IdentityId,
    key: &SpaceKey,
    changes: &mut DocChanges,
) -> Result<bool> {
    let row = ensure_space(conn, space)?;
    let owner_row = identity_row(conn, owner)?;
    conn.prepare_cached("UPDATE spaces SET kind=?1, owner=?2 WHERE id=?3")?
        .execute(params![kind.code(), owner_row, row])?;
    if key_for(conn, keys, row, 0)?.is_some_and(|existing| existing == *key) {
        return Ok(false);
    }
    conn.prepare_cached("INSERT OR REPLACE INTO keys(space, epoch, key) VALUES(?1, 0, ?2)")?
        .execute(params![row, key.to_bytes().as_slice()])?;
    keys.insert((row, 0), key.clone());
    keys.memberships.remove(&row);
    // What peers named last time may now be recognised: the next session
    // with each compares in full rather than by summary.
    conn.prepare_cached("UPDATE peers SET named=NULL WHERE named IS NOT NULL")?
        .execute([])?;
    if let Some(info) = space_info(conn, space)? {
        reproject(conn, keys, &info, None, changes)?;
    }
    Ok(true)
}

/// Projects every stored entry of a space (of one key epoch, when given),
/// log by log, skipping entries that do not open or break a rule.
fn reproject(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    epoch: Option<u32>,
    changes: &mut DocChanges,
) -> Result<()> {
    let rows: Vec<StoredEntry> = conn
        .prepare(
            "SELECT e.id, e.hash, e.log, e.seq, e.ts, e.epoch, e.payload, l.device, i.identity,
                    CAST(substr(e.sig, 65) AS BLOB)
             FROM entries e JOIN logs l ON l.id=e.log LEFT JOIN identities i ON i.id=l.identity
             WHERE l.space=?1 AND (?2 IS NULL OR e.epoch=?2) ORDER BY e.id",
        )?
        .query_map(params![space.row, epoch], |r| r.try_into())?
        .collect::<std::result::Result<_, _>>()?;
    let mut writers: HashMap<i64, IdentityId> = HashMap::new();
    for (row, hash, log, seq, ts, epoch, payload, device, identity, version) in rows {
        let device = DeviceId(blob32(device)?);
        let writer = match (seq, identity) {
            (1, _) => None,
            (_, Some(i)) => Some(IdentityId(blob32(i)?)),
            (_, None) => writers.get(&log).copied(),
        };
        let Some(payload) = payload else { continue };
        let pos = LogPos { writer };
        let at = SealedAt {
            author: device,
            seq,
            epoch,
            version: super::entries::version_of(&version),
        };
        let opened = open_parts(conn, keys, space, &pos, at, &payload)?;
        if let Opened::Record(record, writer) = opened {
            writers.insert(log, writer);
            let placed = Placed {
                row,
                id: EntryId(blob32(hash)?),
                log,
                device,
                seq,
                timestamp: ts,
            };
            project(conn, keys, space, writer, &placed, *record, changes)?;
        }
    }
    Ok(())
}

/// Opens an entry's payload, if the key is held, and checks the record
/// against its place ([`crate::admission`]).
pub(crate) fn open_record(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    pos: &LogPos,
    entry: &Entry,
) -> Result<Opened> {
    let Some(payload) = entry.payload() else {
        return Ok(Opened::NoKey);
    };
    open_parts(
        conn,
        keys,
        space,
        pos,
        SealedAt::of(entry.header()),
        payload,
    )
}

/// Where a sealed payload sits: what opening and reading it needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SealedAt {
    /// The device that wrote it.
    pub(crate) author: DeviceId,
    /// Its seq in that device's log.
    pub(crate) seq: u64,
    /// The key epoch it is sealed with.
    pub(crate) epoch: u32,
    /// The entry header's version, which says the record format inside.
    pub(crate) version: u8,
}

impl SealedAt {
    /// Where `h`'s payload sits.
    pub(crate) fn of(h: &Header) -> Self {
        Self {
            author: h.author,
            seq: h.seq,
            epoch: h.key_epoch,
            version: h.version,
        }
    }

    /// Opens `payload` with `key` and reads the record inside, if both
    /// work.
    pub(crate) fn read(
        &self,
        space: &SpaceId,
        key: &crate::crypto::SpaceKey,
        payload: &[u8],
    ) -> Option<Record> {
        let aad = Header::seal_context(space, &self.author, self.seq, self.epoch);
        let plain = key.open(&aad, payload).ok()?;
        Record::decode(self.version, &plain).ok()
    }
}

fn open_parts(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    pos: &LogPos,
    at: SealedAt,
    payload: &[u8],
) -> Result<Opened> {
    let SealedAt {
        author,
        seq,
        epoch,
        version,
    } = at;
    let author = &author;
    let Some((kind, owner)) = space.chosen() else {
        return Ok(Opened::NoKey);
    };
    if key_for(conn, keys, space.row, epoch)?.is_none() {
        return Ok(Opened::NoKey);
    }
    let aad = Header::seal_context(&space.id, author, seq, epoch);
    let plain = match open_sealed(conn, keys, space.row, epoch, &aad, payload)? {
        Ok(p) => p,
        Err(e) => {
            return Ok(Opened::WrongKey(format!(
                "{e} (space {}, key epoch {epoch})",
                space.id.fmt_short()
            )));
        }
    };
    let record = match Record::decode(version, &plain) {
        Ok(r) => r,
        Err(e) => return Ok(Opened::Invalid(e.to_string())),
    };
    let place = Place {
        kind,
        space: space.id,
        owner,
        author: *author,
        writer: pos.writer,
    };
    Ok(match admission::check(&place, &record) {
        Ok(writer) => Opened::Record(Box::new(record), writer),
        Err(e) => Opened::Invalid(e.to_string()),
    })
}

/// Notes a blob a post or profile refers to, unless the store holds it
/// already, with the size its sealed bytes may have.
pub(crate) fn want_blob(
    conn: &Connection,
    hash: &crate::id::Hash,
    space: i64,
    log: i64,
    len: u32,
) -> Result<()> {
    // Another post naming the same hash with a smaller size (someone
    // squatting it) does not stop the fetch: the largest declared wins,
    // and no fetch takes more than an image may be.
    conn.prepare_cached(
        "INSERT INTO wants(hash, space, log, len)
         SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS(SELECT 1 FROM blobs WHERE hash=?1)
         ON CONFLICT(hash) DO UPDATE SET len=max(coalesce(len, 0), excluded.len)",
    )?
    .execute(params![hash.as_bytes(), space, log, len])?;
    Ok(())
}

/// Applies one record, written by `writer`, to the derived tables. The
/// first entry of a log (a certificate or a join) names the log's writer.
pub(crate) fn project(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    writer: IdentityId,
    placed: &Placed,
    record: Record,
    changes: &mut DocChanges,
) -> Result<()> {
    let author = identity_row(conn, &writer)?;
    if placed.seq == 1 {
        conn.prepare_cached("UPDATE logs SET identity=?1 WHERE id=?2")?
            .execute(params![author, placed.log])?;
    }
    if !matches!(record, Record::Group(_))
        && super::membership::hidden(conn, keys, space, &writer, placed)?
    {
        // Written past its writer's removal from a group: kept, not shown
        // (a membership operation still counts: it may let them back in).
        return Ok(());
    }
    if space.departed && !matches!(record, Record::Group(_) | Record::DeviceCert(_)) {
        // A group this device left: nothing of it is shown or kept readable.
        return drop_payload(conn, placed.row);
    }
    match record {
        Record::DeviceCert(_) | Record::Unknown { .. } => {}
        Record::Backup(_) => super::backups::keep_newest(conn, author, placed)?,
        Record::Follows(list) => super::follows::keep(conn, author, placed, &list)?,
        Record::Post(p) => {
            if is_deleted(conn, &placed.id, author)? {
                drop_payload(conn, placed.row)?;
                return Ok(());
            }
            insert_post(conn, keys, space, author, placed, &p)?;
        }
        Record::Like { target } => react(conn, &target, LIKE, author, placed.timestamp)?,
        Record::Repost { target } => react(conn, &target, REPOST, author, placed.timestamp)?,
        Record::Unlike { target } => unreact(conn, &target, LIKE, author, placed.timestamp)?,
        Record::Unrepost { target } => unreact(conn, &target, REPOST, author, placed.timestamp)?,
        Record::Edit { target, .. } => {
            if is_deleted(conn, &target, author)? {
                drop_payload(conn, placed.row)?;
                return Ok(());
            }
            conn.prepare_cached(
                "INSERT OR IGNORE INTO edits(target, entry, identity) VALUES(?1, ?2, ?3)",
            )?
            .execute(params![target.as_bytes(), placed.row, author])?;
            if let Some(post_row) = post_of(conn, &target, author)? {
                pick_edit(conn, keys, post_row, &target, author)?;
            }
        }
        Record::Delete { target } => {
            conn.prepare_cached("INSERT OR IGNORE INTO deletes(target, identity) VALUES(?1, ?2)")?
                .execute(params![target.as_bytes(), author])?;
            // The post as stored (shown or hidden past a removal): a post
            // of the same author, and nothing else.
            let own = own_post_entry(conn, keys, &target, author)?;
            if let Some(post_row) = post_of(conn, &target, author)? {
                unpost(conn, keys, post_row, author)?;
            }
            if let Some((row, _)) = &own {
                drop_payload(conn, *row)?;
            }
            let images: Vec<Hash> = own
                .as_ref()
                .map(|(_, p)| p.images.iter().map(|i| i.hash).collect())
                .unwrap_or_default();
            super::erase::forget_copies(conn, &target, own.map(|(row, _)| row), &images)?;
            let edit_rows: Vec<i64> = conn
                .prepare_cached(
                    "DELETE FROM edits WHERE target=?1 AND identity=?2 RETURNING entry",
                )?
                .query_map(params![target.as_bytes(), author], |r| r.get(0))?
                .collect::<std::result::Result<_, _>>()?;
            for r in edit_rows {
                drop_payload(conn, r)?;
                if let Some(id) = entry_id(conn, r)? {
                    super::erase::forget_copies(conn, &id, Some(r), &[])?;
                }
            }
        }
        Record::KeyRotation(r) => {
            take_rotated_key(conn, keys, space, author, (&placed.id, &r), changes)?
        }
        // (Admission refused revocations without the identity's signature.)
        Record::Revocation { device, heads, .. } => revoke(conn, keys, author, &device, &heads)?,
        Record::Group(op) => super::membership::apply_op(conn, keys, space, writer, placed, op)?,
        Record::DeviceKeys(k) => {
            super::ratchet::keep_device_keys(conn, author, &placed.device, placed.timestamp, &k)?
        }
        Record::RoomKey(k) => super::ratchet::receive(conn, keys, space, placed, &k)?,
        Record::Ratcheted(m) => {
            // What a sender's ratchet sealed: a post, like, unlike, edit or
            // delete, projected as if it came unsealed (once opened here).
            if let Some(inner) = super::ratchet::open(conn, keys, space, placed, &m)? {
                project(conn, keys, space, writer, placed, inner, changes)?;
            }
        }
        Record::DocChange(bytes) => {
            let change = Doc::parse_change(&bytes)?;
            changes
                .by_space
                .entry(space.row)
                .or_insert_with(|| (*space, Vec::new()))
                .1
                .push(change);
        }
    }
    Ok(())
}

/// Puts a post into the timeline tables and the search index.
fn insert_post(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    author: i64,
    placed: &Placed,
    p: &crate::record::Post,
) -> Result<()> {
    let group =
        matches!(space.kind, Some(SpaceKind::Group | SpaceKind::Direct)).then_some(space.row);
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO posts(id, author, ts, reply_to, space) VALUES(?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            placed.row,
            author,
            placed.timestamp,
            p.reply_to.as_ref().map(|r| r.as_bytes().as_slice()),
            group,
        ])?;
    if inserted == 0 {
        // Shown already (projected again after a key or membership change).
        return Ok(());
    }
    if !sealed_at_rest(conn, placed.row)? {
        index(conn, placed.row, &p.text)?;
    }
    count_post(conn, author, 1)?;
    for image in &p.images {
        want_blob(conn, &image.hash, space.row, placed.log, image.len)?;
    }
    pick_edit(conn, keys, placed.row, &placed.id, author)
}

/// The id of the entry at `row`.
fn entry_id(conn: &Connection, row: i64) -> Result<Option<EntryId>> {
    let hash: Option<Vec<u8>> = conn
        .prepare_cached("SELECT hash FROM entries WHERE id=?1")?
        .query_row([row], |r| r.get(0))
        .optional()?;
    Ok(hash.map(blob32).transpose()?.map(EntryId))
}

/// The row and record of a stored post by id, if `author` wrote it and
/// its payload is held.
fn own_post_entry(
    conn: &Connection,
    keys: &mut Keys,
    id: &EntryId,
    author: i64,
) -> Result<Option<(i64, crate::record::Post)>> {
    let row: Option<i64> = conn
        .prepare_cached(
            "SELECT e.id FROM entries e JOIN logs l ON l.id=e.log
             WHERE substr(e.hash, 1, 8)=substr(?1, 1, 8) AND e.hash=?1 AND l.identity=?2",
        )?
        .query_row(params![id.as_bytes(), author], |r| r.get(0))
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    Ok(match open_stored(conn, keys, row)? {
        Some(Record::Post(p)) => Some((row, p)),
        _ => None,
    })
}

/// Keeps `key` as `space`'s key at `epoch` unless one is held, and projects
/// the entries of that epoch already stored.
pub(crate) fn add_epoch_key(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    epoch: u32,
    key: &SpaceKey,
    changes: &mut DocChanges,
) -> Result<()> {
    if key_for(conn, keys, space.row, epoch)?.is_some() {
        return Ok(());
    }
    conn.prepare_cached("INSERT INTO keys(space, epoch, key) VALUES(?1, ?2, ?3)")?
        .execute(params![space.row, epoch, key.to_bytes().as_slice()])?;
    keys.insert((space.row, epoch), key.clone());
    reproject(conn, keys, space, Some(epoch), changes)
}

/// Unwraps the new key a rotation wrapped for this identity and keeps it.
/// For a new epoch it projects the entries of that epoch already held (they
/// arrived before the rotation and could not be opened). When two
/// rotations gave one epoch different keys, both open entries, and new
/// entries are sealed with the key of the rotation with the lowest id.
fn take_rotated_key(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    author: i64,
    (rotation_id, rotation): (&EntryId, &crate::record::KeyRotation),
    changes: &mut DocChanges,
) -> Result<()> {
    // A group's keys are wrapped for its members' identities; the account
    // space's for the identity's devices.
    let me: Option<Box<dyn crate::identity::Agreement>> = match space.kind {
        Some(SpaceKind::Account) => keys.device.clone().map(|k| Box::new(k) as _),
        _ => keys.me.clone().map(|k| Box::new(k) as _),
    };
    let Some(me) = me else {
        return Ok(());
    };
    let Some((_, wrapped)) = rotation
        .wrapped
        .iter()
        .find(|(who, _)| who.0 == me.public())
    else {
        // Removed, or never a member: the new epoch stays closed.
        return Ok(());
    };
    let from: Vec<u8> = conn
        .prepare_cached("SELECT identity FROM identities WHERE id=?1")?
        .query_row([author], |r| r.get(0))?;
    let from = blob32(from)?;
    let Ok(key) = crate::crypto::unwrap_key(me.as_ref(), &from, &space.id, rotation.epoch, wrapped)
    else {
        return Ok(());
    };
    conn.prepare_cached(
        "INSERT OR IGNORE INTO rotated_keys(space, epoch, rotation, key) VALUES(?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        space.row,
        rotation.epoch,
        rotation_id.as_bytes(),
        key.to_bytes().as_slice()
    ])?;
    if key_for(conn, keys, space.row, rotation.epoch)?.is_none() {
        return add_epoch_key(conn, keys, space, rotation.epoch, &key, changes);
    }
    // The epoch is open already: only which key seals new entries may
    // change. (Entries sealed with another key were refused until now and
    // come again at the next sync.)
    let winner: Vec<u8> = conn
        .prepare_cached(
            "SELECT key FROM rotated_keys WHERE space=?1 AND epoch=?2 ORDER BY rotation LIMIT 1",
        )?
        .query_row(params![space.row, rotation.epoch], |r| r.get(0))?;
    conn.prepare_cached("UPDATE keys SET key=?3 WHERE space=?1 AND epoch=?2")?
        .execute(params![space.row, rotation.epoch, winner])?;
    keys.insert(
        (space.row, rotation.epoch),
        SpaceKey::from_bytes(blob32(winner)?),
    );
    Ok(())
}

/// Records a revocation by the identity `issuer` (its feed carries it):
/// the lowest limit per space wins, so the order revocations arrive in does
/// not matter. It counts only for logs of `device` that `issuer` certified;
/// their posts past the limits that arrived before it come down.
fn revoke(
    conn: &Connection,
    keys: &mut Keys,
    issuer: i64,
    device: &DeviceId,
    heads: &[(SpaceId, u64)],
) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO revocations(device, issuer) VALUES(?1, ?2)")?
        .execute(params![device.as_bytes(), issuer])?;
    for (space, last) in heads {
        conn.prepare_cached(
            "INSERT INTO revocation_heads(device, issuer, space, last) VALUES(?1, ?2, ?3, ?4)
             ON CONFLICT(device, issuer, space) DO UPDATE SET last=min(last, excluded.last)",
        )?
        .execute(params![device.as_bytes(), issuer, space.as_bytes(), last])?;
    }
    let late: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT p.id, p.author FROM logs l JOIN spaces s ON s.id=l.space
             JOIN entries e ON e.log=l.id JOIN posts p ON p.ts=e.ts AND p.id=e.id
             WHERE l.device=?1 AND l.identity=?2 AND e.seq > coalesce(
               (SELECT last FROM revocation_heads r
                WHERE r.device=l.device AND r.issuer=?2 AND r.space=s.space), 0)",
        )?
        .query_map(params![device.as_bytes(), issuer], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<std::result::Result<_, _>>()?;
    for (post_row, author) in late {
        unpost(conn, keys, post_row, author)?;
    }
    Ok(())
}

/// Applies every revocation stored in a feed again (see
/// `Store::rederive_revocations`).
pub(crate) fn rederive_revocations(
    conn: &Connection,
    keys: &mut Keys,
    feed: &SpaceInfo,
) -> Result<()> {
    let Some((SpaceKind::Feed, owner)) = feed.chosen() else {
        return Ok(());
    };
    let issuer = identity_row(conn, &owner)?;
    let rows: Vec<i64> = conn
        .prepare("SELECT e.id FROM entries e JOIN logs l ON l.id=e.log WHERE l.space=?1 AND e.payload IS NOT NULL")?
        .query_map([feed.row], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    for row in rows {
        if let Some(Record::Revocation {
            device,
            heads,
            proof: Some(proof),
        }) = open_stored(conn, keys, row)?
            && crate::identity::RevocationProof::verify(&owner, &device, &heads, &proof)
        {
            revoke(conn, keys, issuer, &device, &heads)?;
        }
    }
    Ok(())
}

/// For a device revoked by the identity that certified its log (`writer`),
/// the last seq of its log in `space` still accepted.
pub(crate) fn revoked_limit(
    conn: &Connection,
    device: &DeviceId,
    writer: &IdentityId,
    space: &SpaceId,
) -> Result<Option<u64>> {
    // (Written without a join: SQLite re-prepared the joined form at every
    // call, a fifth of the import's time.)
    let found: Option<(i64, Option<u64>)> = conn
        .prepare_cached(
            "SELECT r.issuer, (SELECT last FROM revocation_heads h
                WHERE h.device=r.device AND h.issuer=r.issuer AND h.space=?3)
             FROM revocations r
             WHERE r.device=?1 AND r.issuer=(SELECT id FROM identities WHERE identity=?2)",
        )?
        .query_row(
            params![device.as_bytes(), writer.as_bytes(), space.as_bytes()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(found.map(|(_, last)| last.unwrap_or(0)))
}

/// Takes a post out of the timeline, search and counts, keeping its
/// payload (a member's post past their removal: it comes back if they are
/// let in again).
pub(crate) fn hide_post(
    conn: &Connection,
    keys: &mut Keys,
    post_row: i64,
    author: i64,
) -> Result<()> {
    let current = current_edit(conn, post_row)?;
    unindex(conn, keys, post_row, current)?;
    conn.prepare_cached(
        "DELETE FROM posts WHERE ts=(SELECT ts FROM entries WHERE id=?1) AND id=?1",
    )?
    .execute([post_row])?;
    count_post(conn, author, -1)
}

/// Takes a post out of the timeline, search and counts, and drops its
/// payload.
fn unpost(conn: &Connection, keys: &mut Keys, post_row: i64, author: i64) -> Result<()> {
    hide_post(conn, keys, post_row, author)?;
    drop_payload(conn, post_row)
}

fn count_post(conn: &Connection, author: i64, delta: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO post_counts(identity, n) VALUES(?1, ?2)
         ON CONFLICT(identity) DO UPDATE SET n=n+?2",
    )?
    .execute(params![author, delta])?;
    Ok(())
}

/// A like or repost at `ts`: it counts unless taken back at or after
/// `ts` (of an identity's reactions and take-backs of one post, the
/// latest wins, whatever order they arrive in).
fn react(conn: &Connection, target: &EntryId, kind: i64, author: i64, ts: u64) -> Result<()> {
    let undone = conn
        .prepare_cached(
            "SELECT 1 FROM unreactions WHERE target=?1 AND kind=?2 AND identity=?3 AND ts>=?4",
        )?
        .exists(params![target.as_bytes(), kind, author, ts])?;
    if !undone {
        conn.prepare_cached(
            "INSERT INTO reactions(target, kind, identity, ts) VALUES(?1, ?2, ?3, ?4)
             ON CONFLICT(target, kind, identity) DO UPDATE SET ts=max(coalesce(ts, 0), excluded.ts)",
        )?
        .execute(params![target.as_bytes(), kind, author, ts])?;
    }
    Ok(())
}

/// A like or repost taken back at `ts`: one made at or before `ts` no
/// longer counts.
fn unreact(conn: &Connection, target: &EntryId, kind: i64, author: i64, ts: u64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO unreactions(target, kind, identity, ts) VALUES(?1, ?2, ?3, ?4)
         ON CONFLICT(target, kind, identity) DO UPDATE SET ts=max(ts, excluded.ts)",
    )?
    .execute(params![target.as_bytes(), kind, author, ts])?;
    conn.prepare_cached(
        "DELETE FROM reactions WHERE target=?1 AND kind=?2 AND identity=?3 AND coalesce(ts, 0)<=?4",
    )?
    .execute(params![target.as_bytes(), kind, author, ts])?;
    Ok(())
}

fn is_deleted(conn: &Connection, target: &EntryId, author: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM deletes WHERE target=?1 AND identity=?2")?
        .exists(params![target.as_bytes(), author])?)
}

/// The post row of `target` if it is a live post by `author`.
fn post_of(conn: &Connection, target: &EntryId, author: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT p.id FROM entries e JOIN posts p ON p.ts=e.ts AND p.id=e.id
             WHERE substr(e.hash, 1, 8)=substr(?1, 1, 8) AND e.hash=?1 AND p.author=?2",
        )?
        .query_row(params![target.as_bytes(), author], |r| r.get(0))
        .optional()?)
}

/// Drops an entry's payload, keeping its hash so the header still rebuilds.
pub(crate) fn drop_payload(conn: &Connection, row: i64) -> Result<()> {
    let payload: Option<Vec<u8>> = conn
        .prepare_cached("SELECT payload FROM entries WHERE id=?1")?
        .query_row([row], |r| r.get(0))?;
    if let Some(p) = payload {
        conn.prepare_cached("UPDATE entries SET payload=NULL, dropped=?1 WHERE id=?2")?
            .execute(params![dropped(&Hash::of(&p), p.len() as u32), row])?;
    }
    Ok(())
}

/// What is kept of a dropped payload: its hash and length, which the
/// signed header names.
pub(crate) fn dropped(hash: &Hash, len: u32) -> Vec<u8> {
    let mut v = hash.as_bytes().to_vec();
    v.extend_from_slice(&len.to_le_bytes());
    v
}

/// Makes the newest edit by the post's author (by timestamp, then id) the
/// post's current text.
fn pick_edit(
    conn: &Connection,
    keys: &mut Keys,
    post_row: i64,
    post: &EntryId,
    author: i64,
) -> Result<()> {
    // Candidates by primary-key prefix first (almost always none), then
    // the newest of them by (timestamp, id).
    let candidates: Vec<i64> = conn
        .prepare_cached("SELECT entry FROM edits WHERE target=?1 AND identity=?2")?
        .query_map(params![post.as_bytes(), author], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let mut best: Option<(u64, Vec<u8>, i64)> = None;
    for row in candidates {
        let (ts, hash): (u64, Vec<u8>) = conn
            .prepare_cached("SELECT ts, hash FROM entries WHERE id=?1")?
            .query_row([row], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if best
            .as_ref()
            .is_none_or(|(bt, bh, _)| (ts, &hash) > (*bt, bh))
        {
            best = Some((ts, hash, row));
        }
    }
    let best = best.map(|(_, _, row)| row);
    let Some(best) = best else { return Ok(()) };
    let current = current_edit(conn, post_row)?;
    if current == Some(best) {
        return Ok(());
    }
    let Some(Record::Edit { text, .. }) = open_stored(conn, keys, best)? else {
        return Ok(());
    };
    unindex(conn, keys, post_row, current)?;
    conn.prepare_cached(
        "UPDATE posts SET edit=?2 WHERE ts=(SELECT ts FROM entries WHERE id=?1) AND id=?1",
    )?
    .execute(params![post_row, best])?;
    if !sealed_at_rest(conn, post_row)? && !sealed_at_rest(conn, best)? {
        index(conn, post_row, &text)?;
    }
    Ok(())
}

/// Whether the post or edit at `row` came sealed by a sender's ratchet:
/// its text stays sealed at rest, so the search index holds none of it
/// (nor of the post it edits).
fn sealed_at_rest(conn: &Connection, row: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM opened WHERE entry=?1")?
        .exists([row])?)
}

/// The entry row of a post's winning edit, if any.
fn current_edit(conn: &Connection, post_row: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT edit FROM posts WHERE ts=(SELECT ts FROM entries WHERE id=?1) AND id=?1",
        )?
        .query_row([post_row], |r| r.get(0))?)
}

/// Takes a post's current text out of the search index. The index keeps no
/// copy of the text (it is contentless), so the text is read back from the
/// post or its winning edit and handed to FTS5's `delete` command.
fn unindex(conn: &Connection, keys: &mut Keys, post_row: i64, edit: Option<i64>) -> Result<()> {
    // Never indexed: a ratcheted post, or one whose winning edit came
    // ratcheted (an edit of a post sealed before ratchets existed).
    if sealed_at_rest(conn, post_row)?
        || edit.map(|e| sealed_at_rest(conn, e)).transpose()? == Some(true)
    {
        return Ok(());
    }
    let text = match open_stored(conn, keys, edit.unwrap_or(post_row))? {
        Some(Record::Post(p)) => p.text,
        Some(Record::Edit { text, .. }) => text,
        _ => {
            return Err(StoreError::Corrupt(format!(
                "indexed post at row {post_row} does not open"
            )));
        }
    };
    conn.prepare_cached("INSERT INTO posts_fts(posts_fts, rowid, text) VALUES('delete', ?1, ?2)")?
        .execute(params![post_row, text])?;
    conn.prepare_cached("DELETE FROM tags WHERE post=?1")?
        .execute([post_row])?;
    Ok(())
}

/// Puts a post's text (its own, or its winning edit's) in the search
/// index, and its hashtags in `tags`.
fn index(conn: &Connection, post_row: i64, text: &str) -> Result<()> {
    conn.prepare_cached("INSERT INTO posts_fts(rowid, text) VALUES(?1, ?2)")?
        .execute(params![post_row, text])?;
    for tag in crate::hashtag::hashtags(text) {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO tags(tag, ts, post) SELECT ?1, ts, id FROM entries WHERE id=?2",
        )?
        .execute(params![tag, post_row])?;
    }
    Ok(())
}

/// Opens a stored entry's record by row (no log-position checks: it was
/// checked when stored).
pub(crate) fn open_stored(conn: &Connection, keys: &mut Keys, row: i64) -> Result<Option<Record>> {
    let found: Option<Sealed> = conn
        .prepare_cached(
            "SELECT s.space, l.device, s.id, e.seq, e.epoch, e.payload, CAST(substr(e.sig, 65) AS BLOB)
             FROM entries e JOIN logs l ON l.id=e.log JOIN spaces s ON s.id=l.space WHERE e.id=?1",
        )?
        .query_row([row], |r| r.try_into())
        .optional()?;
    let Some((space, device, space_row, seq, epoch, Some(payload), version)) = found else {
        return Ok(None);
    };
    let aad = Header::seal_context(
        &SpaceId(blob32(space)?),
        &DeviceId(blob32(device)?),
        seq,
        epoch,
    );
    let record = open_sealed(conn, keys, space_row, epoch, &aad, &payload)?
        .ok()
        .and_then(|p| Record::decode(super::entries::version_of(&version), &p).ok());
    match record {
        // The record a sender's ratchet sealed, as kept when it was opened;
        // one not opened yet stays as it came (projecting it tries the
        // ratchet: an entry kept hidden, shown once its writer is let in).
        Some(Record::Ratcheted(m)) => Ok(Some(
            super::ratchet::read_opened(conn, keys, row)?.unwrap_or(Record::Ratcheted(m)),
        )),
        other => Ok(other),
    }
}

pub(crate) fn is_self(conn: &Connection, identity: &IdentityId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM meta WHERE key='self' AND value=?1")?
        .exists([identity.as_bytes()])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `who` likes `target`, after `events` (like = true, at a
    /// time) are applied in the given order.
    fn liked_after(events: &[(bool, u64)]) -> bool {
        let store = crate::store::Store::open_in_memory().unwrap();
        let target = EntryId([7; 32]);
        for (like, ts) in events {
            if *like {
                react(&store.conn, &target, LIKE, 1, *ts).unwrap();
            } else {
                unreact(&store.conn, &target, LIKE, 1, *ts).unwrap();
            }
        }
        store
            .conn
            .prepare("SELECT 1 FROM reactions WHERE target=?1 AND kind=?2 AND identity=1")
            .unwrap()
            .exists(params![target.as_bytes(), LIKE])
            .unwrap()
    }

    /// A take-back counts only for its own author: one identity's unlike
    /// (or unrepost) leaves another's like of the same post standing.
    #[test]
    fn an_unlike_takes_back_only_its_authors_like() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let target = EntryId([7; 32]);
        react(&store.conn, &target, LIKE, 1, 10).unwrap();
        react(&store.conn, &target, REPOST, 1, 10).unwrap();
        // Identity 2 (a stranger) takes back "its" like and repost, later.
        unreact(&store.conn, &target, LIKE, 2, 20).unwrap();
        unreact(&store.conn, &target, REPOST, 2, 20).unwrap();
        let held: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM reactions WHERE target=?1 AND identity=1",
                [target.as_bytes()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(held, 2, "identity 1's like and repost stand");
    }

    /// Likes and take-backs of one post from several devices: the latest
    /// wins whatever order they arrive in (a take-back on a tie).
    #[test]
    fn the_latest_like_or_unlike_wins_in_any_order() {
        let cases: [(&[(bool, u64)], bool); 5] = [
            (&[(true, 1), (false, 2)], false),
            (&[(true, 1), (false, 2), (true, 3)], true),
            (&[(true, 5), (false, 5)], false),
            (&[(false, 4), (true, 2), (true, 6), (false, 3)], true),
            (&[(true, 1), (true, 2), (false, 2)], false),
        ];
        for (events, want) in cases {
            // Every order of arrival.
            let mut order: Vec<usize> = (0..events.len()).collect();
            let mut seen = 0;
            loop {
                let shuffled: Vec<(bool, u64)> = order.iter().map(|i| events[*i]).collect();
                assert_eq!(liked_after(&shuffled), want, "{shuffled:?}");
                seen += 1;
                // Next permutation (lexicographic).
                let Some(i) = (1..order.len()).rev().find(|&i| order[i - 1] < order[i]) else {
                    break;
                };
                let j = (i..order.len())
                    .rev()
                    .find(|&j| order[j] > order[i - 1])
                    .unwrap();
                order.swap(i - 1, j);
                order[i..].reverse();
            }
            assert!(seen >= 2);
        }
    }
}
