//! Device certificates and revocations, as the node reads them.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, blob32, project, space_row};
use crate::id::{DeviceId, SpaceId};
use crate::identity::DeviceCert;
use crate::record::Record;
use crate::space::SpaceKind;

impl Store {
    /// Reads every revocation again from the feeds held (stores made
    /// before revocations named their issuer).
    pub(super) fn rederive_revocations(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        let feeds: Vec<SpaceId> = {
            let mut stmt = tx.prepare("SELECT space FROM spaces WHERE kind=?1")?;
            let rows = stmt.query_map([SpaceKind::Feed.code()], |r| r.get::<_, Vec<u8>>(0))?;
            rows.map(|r| Ok(SpaceId(blob32(r?)?)))
                .collect::<Result<_>>()?
        };
        for feed in feeds {
            let Some(info) = project::space_info(&tx, &feed)? else {
                continue;
            };
            project::rederive_revocations(&tx, &mut self.keys, &info)?;
        }
        tx.commit()?;
        Ok(())
    }

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
        let first: Option<(u32, Option<Vec<u8>>, Vec<u8>)> = self
            .conn
            .prepare_cached(
                "SELECT e.epoch, e.payload, CAST(substr(e.sig, 65) AS BLOB) FROM entries e JOIN logs l ON l.id=e.log
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
            version: super::entries::version_of(&version),
        };
        let record = at.read(space, &key, &payload);
        Ok(match record {
            Some(Record::DeviceCert(c))
            | Some(Record::Group(crate::membership::GroupOp::Join { cert: c, .. })) => Some(c),
            _ => None,
        })
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
}
