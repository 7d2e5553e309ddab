//! Blobs (sealed images): the store of record for them, and the ones
//! stored posts refer to that a running node should fetch.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, blob32, ensure_space};
use crate::id::{DeviceId, Hash, SpaceId};

impl Store {
    /// Stores a sealed blob belonging to `space`.
    pub fn put_blob(&self, space: &SpaceId, hash: &Hash, data: &[u8]) -> Result<()> {
        let row = ensure_space(&self.conn, space)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO blobs(hash, space, data) VALUES(?1, ?2, ?3)",
            params![hash.as_bytes(), row, data],
        )?;
        self.conn
            .execute("DELETE FROM wants WHERE hash=?1", [hash.as_bytes()])?;
        Ok(())
    }

    /// Whether the store holds the blob `hash`.
    pub fn has_blob(&self, hash: &Hash) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM blobs WHERE hash=?1")?
            .exists([hash.as_bytes()])?)
    }

    /// A sealed blob by hash.
    pub fn blob(&self, hash: &Hash) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT data FROM blobs WHERE hash=?1",
                [hash.as_bytes()],
                |r| r.get(0),
            )
            .optional()?)
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
            "INSERT OR IGNORE INTO blobs(hash, space, data, log)
             SELECT hash, space, ?2, log FROM wants
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
        if n > 0 {
            self.conn
                .execute("DELETE FROM evicted_blobs WHERE hash=?1", [hash.as_bytes()])?;
        }
        Ok(n > 0)
    }
}

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
