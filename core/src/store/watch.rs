//! What a running node asks the store between sync sessions: whether
//! anything changed, its own logs' heads, and the blobs its posts miss.

use rusqlite::params;

use super::{Result, Store, StoreError, blob32};
use crate::id::{DeviceId, Hash, SpaceId};
use crate::space::SpaceKind;

/// A blob a stored post refers to that this store does not hold yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// The sealed blob's hash.
    pub hash: Hash,
    /// The space it belongs to.
    pub space: SpaceId,
    /// The device that posted it.
    pub author: DeviceId,
    /// The most bytes it may have: what its post declared, and never more
    /// than a sealed image may be.
    pub len: u64,
}

impl Store {
    /// A number that changes whenever the database changes, by this
    /// connection or any other process: a cheap "anything new?" check.
    pub fn change_counter(&self) -> Result<u64> {
        let other: u64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok(other.wrapping_add(self.conn.total_changes()))
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

    /// Blobs that stored posts refer to and this store lacks, oldest first.
    pub fn wanted_blobs(&self, limit: usize) -> Result<Vec<Want>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT w.hash, s.space, l.device, w.len FROM wants w
             JOIN spaces s ON s.id=w.space JOIN logs l ON l.id=w.log
             ORDER BY w.rowid LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Option<u64>>(3)?,
            ))
        })?;
        let most = u64::from(crate::node::MAX_SEALED_IMAGE_LEN);
        let mut out = Vec::new();
        for row in rows {
            let (h, s, d, len) = row?;
            out.push(Want {
                hash: Hash(blob32(h)?),
                space: SpaceId(blob32(s)?),
                author: DeviceId(blob32(d)?),
                len: len.unwrap_or(most).min(most),
            });
        }
        Ok(out)
    }

    /// Stores a fetched blob that a post wanted, after checking it against
    /// its hash and the size its post declared. Returns false when no
    /// stored post wants it.
    pub fn put_wanted_blob(&self, hash: &Hash, data: &[u8]) -> Result<bool> {
        if Hash::of(data) != *hash {
            return Err(StoreError::BlobMismatch(hash.fmt_short()));
        }
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO blobs(hash, space, data)
             SELECT hash, space, ?2 FROM wants
             WHERE hash=?1 AND ?3 <= coalesce(len, ?4) AND ?3 <= ?4",
            params![
                hash.as_bytes(),
                data,
                data.len() as u64,
                crate::node::MAX_SEALED_IMAGE_LEN
            ],
        )?;
        self.conn
            .execute("DELETE FROM wants WHERE hash=?1", [hash.as_bytes()])?;
        Ok(n > 0)
    }
}
