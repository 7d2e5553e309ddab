//! What the node needs to read about spaces other than feeds: a device's
//! own certificate (to open its log in a new space), which space an entry
//! or a blob belongs to.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, blob32, project, space_row};
use crate::crypto::SpaceKey;
use crate::doc::Doc;
use crate::entry::Header;
use crate::id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};
use crate::identity::DeviceCert;
use crate::record::Record;
use crate::space::SpaceKind;

impl Store {
    /// The certificate that opens `device`'s log in `space`, if held and
    /// readable.
    pub fn device_cert(
        &mut self,
        space: &SpaceId,
        device: &DeviceId,
    ) -> Result<Option<DeviceCert>> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(None);
        };
        let first: Option<(u32, Option<Vec<u8>>)> = self
            .conn
            .prepare_cached(
                "SELECT e.epoch, e.payload FROM entries e JOIN logs l ON l.id=e.log
                 WHERE l.space=?1 AND l.device=?2 AND e.seq=1",
            )?
            .query_row(params![row, device.as_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((epoch, Some(payload))) = first else {
            return Ok(None);
        };
        let Some(key) = project::key_for(&self.conn, &mut self.keys, row, epoch)? else {
            return Ok(None);
        };
        let aad = Header::seal_context(space, device, 1, epoch);
        let record = key
            .open(&aad, &payload)
            .ok()
            .and_then(|p| Record::decode(&p).ok());
        Ok(match record {
            Some(Record::DeviceCert(c)) => Some(c),
            _ => None,
        })
    }

    /// The document of `space` as its stored entries give it when opened
    /// with `key` (epoch 0) — for a group this device does not hold the key
    /// of yet. Nothing is stored.
    pub fn doc_opened_with(&self, space: &SpaceId, key: &SpaceKey) -> Result<Doc> {
        let mut doc = Doc::new();
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(doc);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.device, e.seq, e.payload FROM entries e JOIN logs l ON l.id=e.log
             WHERE l.space=?1 AND e.epoch=0 AND e.payload IS NOT NULL",
        )?;
        let rows = stmt.query_map([row], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, u64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut changes = Vec::new();
        for r in rows {
            let (device, seq, payload) = r?;
            let device = DeviceId(blob32(device)?);
            let aad = Header::seal_context(space, &device, seq, 0);
            if let Some(Record::DocChange(c)) = key
                .open(&aad, &payload)
                .ok()
                .and_then(|p| Record::decode(&p).ok())
                && let Ok(c) = Doc::parse_change(&c)
            {
                changes.push(c);
            }
        }
        doc.apply(changes)?;
        Ok(doc)
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

    /// Whether `device` was revoked.
    pub fn is_revoked(&self, device: &DeviceId) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM revoked WHERE device=?1")?
            .exists([device.as_bytes()])?)
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

    /// The kind of `space`, if known here.
    pub fn space_kind(&self, space: &SpaceId) -> Result<Option<SpaceKind>> {
        let kind: Option<i64> = self
            .conn
            .prepare_cached("SELECT kind FROM spaces WHERE space=?1")?
            .query_row([space.as_bytes()], |r| r.get(0))
            .optional()?;
        Ok(kind.and_then(SpaceKind::from_code))
    }

    /// The spaces of `kind` held, with their owner (for a conversation:
    /// the other side).
    pub fn spaces_of_kind(&self, kind: SpaceKind) -> Result<Vec<(SpaceId, Option<IdentityId>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.space, i.identity FROM spaces s LEFT JOIN identities i ON i.id=s.owner
             WHERE s.kind=?1 ORDER BY s.id",
        )?;
        let rows = stmt.query_map([kind.code()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (s, o) = r?;
            out.push((
                SpaceId(blob32(s)?),
                o.map(blob32).transpose()?.map(IdentityId),
            ));
        }
        Ok(out)
    }

    /// The space a stored blob was sealed for.
    pub fn blob_space(&self, hash: &Hash) -> Result<Option<SpaceId>> {
        let s: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT s.space FROM blobs b JOIN spaces s ON s.id=b.space WHERE b.hash=?1",
            )?
            .query_row([hash.as_bytes()], |r| r.get(0))
            .optional()?;
        s.map(|s| Ok(SpaceId(blob32(s)?))).transpose()
    }
}
