//! What the node needs to read about spaces other than feeds: a device's
//! own certificate (to open its log in a new space), which space an entry
//! or a blob belongs to.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, blob32, project, space_row};
use crate::crypto::SpaceKey;
use crate::id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};
use crate::identity::DeviceCert;
use crate::membership::Membership;
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
        let first: Option<(u32, Option<Vec<u8>>, u8)> = self
            .conn
            .prepare_cached(
                "SELECT e.epoch, e.payload, e.version FROM entries e JOIN logs l ON l.id=e.log
                 WHERE l.space=?1 AND l.device=?2 AND e.seq=1",
            )?
            .query_row(params![row, device.as_bytes()], |r| r.try_into())
            .optional()?;
        let Some((epoch, Some(payload), version)) = first else {
            return Ok(None);
        };
        let Some(key) = project::key_for(&self.conn, &mut self.keys, row, epoch)? else {
            return Ok(None);
        };
        let at = project::SealedAt {
            author: *device,
            seq: 1,
            epoch,
            version,
        };
        let record = at.read(space, &key, &payload);
        Ok(match record {
            Some(Record::DeviceCert(c))
            | Some(Record::Group(crate::membership::GroupOp::Join { cert: c, .. })) => Some(c),
            _ => None,
        })
    }

    /// Keeps the nonce a group's id was made from (its owner's devices put
    /// it in invites, so that joiners can check who owns the group).
    pub fn set_group_nonce(&self, space: &SpaceId, nonce: &[u8; 16]) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE spaces SET nonce=?2 WHERE space=?1")?
            .execute(params![space.as_bytes(), nonce.as_slice()])?;
        Ok(())
    }

    /// The nonce a group's id was made from, if known here.
    pub fn group_nonce(&self, space: &SpaceId) -> Result<Option<[u8; 16]>> {
        let n: Option<Option<Vec<u8>>> = self
            .conn
            .prepare_cached("SELECT nonce FROM spaces WHERE space=?1")?
            .query_row([space.as_bytes()], |r| r.get(0))
            .optional()?;
        Ok(n.flatten()
            .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok()))
    }

    /// A group's membership as its stored operations give it (see
    /// [`crate::membership`]).
    pub fn group_membership(&mut self, space: &SpaceId) -> Result<Membership> {
        let Some(info) = project::space_info(&self.conn, space)? else {
            return Ok(Membership::default());
        };
        // Fresh: another process may have written to the group.
        self.keys.memberships.remove(&info.row);
        super::membership::membership(&self.conn, &mut self.keys, &info)
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

    /// The key new entries (and images) of `space` are sealed with: the
    /// newest epoch held.
    pub fn sealing_key(&mut self, space: &SpaceId) -> Result<Option<(u32, SpaceKey)>> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(None);
        };
        let epoch = project::current_epoch(&self.conn, row)?;
        Ok(project::key_for(&self.conn, &mut self.keys, row, epoch)?.map(|k| (epoch, k)))
    }

    /// Every key held for `space` at `epoch`: the one that seals, and any
    /// other a concurrent rotation gave that epoch.
    pub fn epoch_keys(&mut self, space: &SpaceId, epoch: u32) -> Result<Vec<SpaceKey>> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(Vec::new());
        };
        let mut out: Vec<SpaceKey> = project::key_for(&self.conn, &mut self.keys, row, epoch)?
            .into_iter()
            .collect();
        let others: Vec<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT key FROM rotated_keys WHERE space=?1 AND epoch=?2")?
            .query_map(params![row, epoch], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        for k in others {
            let k = SpaceKey::from_bytes(blob32(k)?);
            if !out.contains(&k) {
                out.push(k);
            }
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

    /// Whether `device` was revoked by the identity that certified it.
    pub fn is_revoked(&self, device: &DeviceId) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM revocations r WHERE r.device=?1
                 AND EXISTS (SELECT 1 FROM logs l WHERE l.device=r.device AND l.identity=r.issuer)",
            )?
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
