//! The ratchet at rest: this device's sessions ([`crate::ratchet`]) sealed
//! under the store's own key, the keys other devices published, and the
//! record a ratcheted entry held once it was opened.
//!
//! A ratcheted entry opens once: the receiving session moves past it. What
//! it held is kept in `opened`, sealed under the store key (derived from
//! the device secret, which lives in the OS keychain where one answers),
//! so that views read it again; dropping the entry's payload (a delete,
//! an eviction, leaving a group) drops that copy too (triggers in
//! `schema.sql`). The state is written in the transaction that changed
//! it, once, at its end ([`flush`]).

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::entries::{LogHead, log_head};
use super::project::{self, Keys, SpaceInfo};
use super::{Result, Store, StoreError, blob32, now_ms, space_row};
use crate::crypto::SpaceKey;
use crate::entry::{ENTRY_VERSION, Entry};
use crate::id::{DeviceId, EntryId, IdentityId, SpaceId};
use crate::ratchet::{DeviceKeys, Ratchet, Ratcheted, RoomKey};
use crate::record::Record;
use crate::space::SpaceKind;

/// Associated data of a kept opened record (with the entry's id).
const OPENED_CONTEXT: &[u8] = b"starling/opened/v1\0";

/// Session key shares per `RoomKey` entry: about 450 bytes each, so that
/// an entry stays well within [`crate::entry::MAX_PAYLOAD_LEN`].
pub(super) const SHARES_PER_ENTRY: usize = 100;

/// The key this store seals its ratchet state and opened records with:
/// derived from the device secret, none on a connection without it.
fn store_key(keys: &Keys) -> Option<SpaceKey> {
    Some(store_key_of(&keys.device.as_ref()?.secret_bytes()))
}

/// The key a store of the device with `device_secret` seals its ratchet
/// state and opened records with.
pub fn store_key_of(device_secret: &[u8; 32]) -> SpaceKey {
    SpaceKey::from_bytes(blake3::derive_key("starling store key v1", device_secret))
}

fn nonce() -> Result<[u8; 24]> {
    let mut n = [0u8; 24];
    getrandom::fill(&mut n).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    Ok(n)
}

/// This device's ratchet, read from the store the first time; `None` on
/// a connection without the device's key.
pub(crate) fn ratchet<'k>(
    conn: &Connection,
    keys: &'k mut Keys,
) -> Result<Option<&'k mut Ratchet>> {
    let Some(key) = store_key(keys) else {
        return Ok(None);
    };
    if keys.ratchet.is_none() {
        let sealed: Option<Vec<u8>> = conn
            .prepare_cached("SELECT sealed FROM ratchet_state WHERE id=0")?
            .query_row([], |r| r.get(0))
            .optional()?;
        let state = match sealed {
            Some(s) => Ratchet::unseal(&s, &key)
                .map_err(|e| StoreError::Corrupt(format!("the ratchet state: {e}")))?,
            None => Ratchet::new(),
        };
        keys.ratchet = Some(state);
    }
    Ok(keys.ratchet.as_mut())
}

/// Writes the ratchet back (sealed, in the caller's transaction).
pub(crate) fn save(conn: &Connection, keys: &Keys) -> Result<()> {
    let (Some(key), Some(r)) = (store_key(keys), keys.ratchet.as_ref()) else {
        return Ok(());
    };
    let sealed = r.seal_state(&key, nonce()?);
    conn.prepare_cached("INSERT OR REPLACE INTO ratchet_state(id, sealed) VALUES(0, ?1)")?
        .execute([sealed])?;
    Ok(())
}

fn opened_context(id: &EntryId) -> Vec<u8> {
    let mut aad = OPENED_CONTEXT.to_vec();
    aad.extend_from_slice(id.as_bytes());
    aad
}

/// Keeps what the ratcheted entry at `row` held, sealed.
fn keep_opened(conn: &Connection, keys: &Keys, row: i64, id: &EntryId, inner: &[u8]) -> Result<()> {
    let Some(key) = store_key(keys) else {
        return Ok(());
    };
    let sealed = key.seal(nonce()?, &opened_context(id), inner);
    conn.prepare_cached("INSERT OR REPLACE INTO opened(entry, sealed) VALUES(?1, ?2)")?
        .execute(params![row, sealed])?;
    Ok(())
}

/// The record the ratcheted entry at `row` held, if it was opened here.
pub(crate) fn read_opened(conn: &Connection, keys: &Keys, row: i64) -> Result<Option<Record>> {
    let found: Option<(Vec<u8>, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT o.sealed, e.hash FROM opened o JOIN entries e ON e.id=o.entry WHERE o.entry=?1",
        )?
        .query_row([row], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (Some((sealed, hash)), Some(key)) = (found, store_key(keys)) else {
        return Ok(None);
    };
    let id = EntryId(blob32(hash)?);
    Ok(key
        .open(&opened_context(&id), &sealed)
        .ok()
        .and_then(|p| inner_record(&p)))
}

/// The record inside a ratcheted message, if it is one a message may
/// carry.
fn inner_record(plain: &[u8]) -> Option<Record> {
    Record::decode(ENTRY_VERSION, plain)
        .ok()
        .filter(Record::may_be_ratcheted)
}

/// Opens the ratcheted entry `placed` of `space`: this device's own (its
/// record handed in by the append), one opened before (projected again),
/// or with the session its sender shared. `None` when no session held
/// here opens it (sent before the sender knew this device, or not for it).
pub(crate) fn open(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    placed: &project::Placed,
    m: &Ratcheted,
) -> Result<Option<Record>> {
    if let Some((id, inner)) = keys.own_inner.take() {
        if id == placed.id {
            keep_opened(conn, keys, placed.row, &id, &inner)?;
            return Ok(inner_record(&inner));
        }
        keys.own_inner = Some((id, inner));
    }
    if let Some(r) = read_opened(conn, keys, placed.row)? {
        return Ok(Some(r));
    }
    let Some(r) = ratchet(conn, keys)? else {
        return Ok(None);
    };
    let Ok(inner) = r.open(&space.id, &placed.device, m) else {
        return Ok(None);
    };
    keys.ratchet_dirty = true;
    keep_opened(conn, keys, placed.row, &placed.id, &inner)?;
    Ok(inner_record(&inner))
}

/// Takes the session key a sender device shared with this device, if the
/// share is for it and opens.
pub(crate) fn receive(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    placed: &project::Placed,
    room_key: &RoomKey,
) -> Result<()> {
    let Some(me) = keys.device.as_ref().map(|d| d.id()) else {
        return Ok(());
    };
    if placed.device == me {
        return Ok(());
    }
    let Ok(Some(from_key)) = room_key.sender_key(&me) else {
        return Ok(());
    };
    let Some(r) = ratchet(conn, keys)? else {
        return Ok(());
    };
    // A share that does not open (tampered, or its one-time key is gone)
    // leaves the state as it was: that sender's messages stay closed.
    if let Ok(true) = r.receive(
        &space.id,
        (placed.device, from_key),
        &me,
        room_key,
        now_ms(),
    ) {
        keys.ratchet_dirty = true;
    }
    Ok(())
}

/// Writes the ratchet back if projection changed it: once per
/// transaction, at its end (with the documents' changes).
pub(crate) fn flush(conn: &Connection, keys: &mut Keys) -> Result<()> {
    if keys.ratchet_dirty {
        save(conn, keys)?;
        keys.ratchet_dirty = false;
    }
    // Read again in the next transaction: another process on this home
    // (the CLI beside a running node) may change it in between.
    keys.ratchet = None;
    Ok(())
}

/// Keeps the keys `device` (of identity row `identity`) published, unless
/// newer ones are held.
pub(crate) fn keep_device_keys(
    conn: &Connection,
    identity: i64,
    device: &DeviceId,
    ts: u64,
    published: &DeviceKeys,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO device_keys(device, identity, ts, keys) VALUES(?1, ?2, ?3, ?4)
         ON CONFLICT(device) DO UPDATE SET identity=excluded.identity, ts=excluded.ts, keys=excluded.keys
         WHERE excluded.ts > device_keys.ts",
    )?
    .execute(params![
        device.as_bytes(),
        identity,
        ts,
        postcard::to_allocvec(published).unwrap_or_default()
    ])?;
    Ok(())
}

/// Who a message in `space` is for: each member identity's devices that
/// published keys and are not revoked, but `me`. `None` when a member
/// other than `self_id` published none (older software): the message is
/// then sealed with the space's key alone, as before ratchets.
fn recipients(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    me: &DeviceId,
    self_id: &IdentityId,
) -> Result<Option<Vec<(DeviceId, DeviceKeys)>>> {
    let members: Vec<IdentityId> = match space.chosen() {
        Some((SpaceKind::Group, _)) => super::membership::membership(conn, keys, space)?
            .members
            .into_iter()
            .collect(),
        Some((SpaceKind::Direct, other)) => vec![*self_id, other],
        _ => return Ok(None),
    };
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT d.device, d.keys FROM device_keys d JOIN identities i ON i.id=d.identity
         WHERE i.identity=?1
           AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.device=d.device AND r.issuer=d.identity)",
    )?;
    for who in &members {
        let found: Vec<(Vec<u8>, Vec<u8>)> = stmt
            .query_map([who.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<std::result::Result<_, _>>()?;
        if found.is_empty() && who != self_id {
            return Ok(None);
        }
        for (device, published) in found {
            let device = DeviceId(blob32(device)?);
            if device == *me {
                continue;
            }
            if let Ok(k) = postcard::from_bytes::<DeviceKeys>(&published) {
                out.push((device, k));
            }
        }
    }
    Ok(Some(out))
}

impl Store {
    /// Appends `record` (a post, like, unlike, edit or delete of a
    /// conversation or group) sealed by this device's ratchet: first, when
    /// the member devices changed or the session is old, a
    /// [`Record::RoomKey`] sharing a new session; then the
    /// [`Record::Ratcheted`] message. Where a member published no keys,
    /// the record is sealed with the space's key alone. `make` builds
    /// each entry from its log head, the space's newest key and epoch,
    /// and its payload; all in one write transaction.
    pub fn append_ratcheted(
        &mut self,
        space: &SpaceId,
        self_id: &IdentityId,
        record: &Record,
        now: u64,
        make: impl FnMut(Option<LogHead>, &SpaceKey, u32, &[u8]) -> Entry,
    ) -> Result<Entry> {
        let res = self.append_ratcheted_in(space, self_id, record, now, make);
        if res.is_err() {
            // The transaction rolled back: read the state again.
            self.keys.clear();
        }
        res
    }

    fn append_ratcheted_in(
        &mut self,
        space: &SpaceId,
        self_id: &IdentityId,
        record: &Record,
        now: u64,
        mut make: impl FnMut(Option<LogHead>, &SpaceKey, u32, &[u8]) -> Entry,
    ) -> Result<Entry> {
        let me = self
            .keys
            .device
            .as_ref()
            .map(|d| d.id())
            .ok_or_else(|| StoreError::NoKey("this device's key".into()))?;
        let keys = &mut self.keys;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row = space_row(&tx, space)?.ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
        let info =
            project::space_info(&tx, space)?.ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
        let epoch = project::current_epoch(&tx, row)?;
        let key = project::key_for(&tx, keys, row, epoch)?
            .ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
        let plain = record.encode();
        let store = super::entries::store_own;
        let ratcheted = match recipients(&tx, keys, &info, &me, self_id)? {
            Some(to) if record.may_be_ratcheted() => Some(to),
            _ => None,
        };
        let Some(to) = ratcheted else {
            let entry = make(log_head(&tx, space, &me)?, &key, epoch, &plain);
            store(&tx, keys, &entry)?;
            tx.commit()?;
            return Ok(entry);
        };
        let members: BTreeSet<DeviceId> = to.iter().map(|(d, _)| *d).collect();
        let r = ratchet(&tx, keys)?.ok_or_else(|| StoreError::NoKey("this device's key".into()))?;
        if r.needs_session(space, &members, now) {
            let room_key = r
                .start(space, &to, now)
                .map_err(|e| StoreError::Refused(e.to_string()))?;
            // (Storing the entry ends by writing the state: see `flush`.)
            keys.ratchet_dirty = true;
            // A large group's shares take several entries (each within the
            // payload limit), all naming the one session.
            for shares in room_key.shares.chunks(SHARES_PER_ENTRY) {
                let part = RoomKey {
                    session: room_key.session.clone(),
                    shares: shares.to_vec(),
                };
                let entry = make(
                    log_head(&tx, space, &me)?,
                    &key,
                    epoch,
                    &Record::RoomKey(part).encode(),
                );
                store(&tx, keys, &entry)?;
            }
        }
        let r = ratchet(&tx, keys)?.ok_or_else(|| StoreError::NoKey("this device's key".into()))?;
        let sealed = r
            .seal(space, &plain)
            .map_err(|e| StoreError::Refused(e.to_string()))?;
        keys.ratchet_dirty = true;
        let entry = make(
            log_head(&tx, space, &me)?,
            &key,
            epoch,
            &Record::Ratcheted(sealed).encode(),
        );
        keys.own_inner = Some((entry.id(), plain));
        store(&tx, keys, &entry)?;
        keys.own_inner = None;
        flush(&tx, keys)?;
        tx.commit()?;
        Ok(entry)
    }

    /// Makes a new batch of this device's keys (the previous fallback key
    /// stays until the next batch) and keeps the state; the caller
    /// publishes them.
    pub fn new_device_keys(&mut self) -> Result<DeviceKeys> {
        let keys = &mut self.keys;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let r = ratchet(&tx, keys)?.ok_or_else(|| StoreError::NoKey("this device's key".into()))?;
        let published = r.publish();
        keys.ratchet_dirty = true;
        flush(&tx, keys)?;
        tx.commit()?;
        Ok(published)
    }

    /// How many of this device's one-time keys others used since its last
    /// batch, after forgetting those used longer than the grace ago.
    pub fn spent_device_keys(&mut self, now: u64) -> Result<usize> {
        let keys = &mut self.keys;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let Some(r) = ratchet(&tx, keys)? else {
            return Ok(0);
        };
        let forgot = r.forget_used_keys(now);
        let spent = r.spent();
        keys.ratchet_dirty |= forgot > 0;
        flush(&tx, keys)?;
        tx.commit()?;
        Ok(spent)
    }

    /// The keys `device` published, as held here.
    pub fn device_keys(&self, device: &DeviceId) -> Result<Option<DeviceKeys>> {
        let k: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT keys FROM device_keys WHERE device=?1")?
            .query_row([device.as_bytes()], |r| r.get(0))
            .optional()?;
        Ok(k.and_then(|k| postcard::from_bytes(&k).ok()))
    }

    /// The ratchet state as kept at rest (sealed), for tests of what a
    /// thief of the store gets.
    #[cfg(any(test, feature = "test-utils"))]
    pub fn sealed_ratchet_state(&self) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare("SELECT sealed FROM ratchet_state WHERE id=0")?
            .query_row([], |r| r.get(0))
            .optional()?)
    }
}
