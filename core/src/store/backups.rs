//! Account backups ([`crate::backup`]) as the store keeps them: of each
//! identity only the newest (by timestamp, then id, whatever the order
//! they arrive in) keeps its payload, so a follower holds one backup per
//! identity it follows however often the account changes.

use rusqlite::{Connection, OptionalExtension, params};

use super::project::{Placed, drop_payload, open_stored};
use super::{Result, Store, identity_row};
use crate::id::IdentityId;
use crate::record::Record;

/// Keeps the backup at `placed` if it is `author`'s newest, dropping the
/// payload of the one it replaces; otherwise drops its own payload.
pub(crate) fn keep_newest(conn: &Connection, author: i64, placed: &Placed) -> Result<()> {
    let current: Option<(i64, u64, Vec<u8>)> = conn
        .prepare_cached("SELECT entry, ts, hash FROM backups WHERE identity=?1")?
        .query_row([author], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let newer = current.as_ref().is_none_or(|(_, ts, hash)| {
        (placed.timestamp, placed.id.as_bytes().as_slice()) > (*ts, hash.as_slice())
    });
    if !newer {
        return drop_payload(conn, placed.row);
    }
    if let Some((row, _, _)) = current {
        drop_payload(conn, row)?;
    }
    conn.prepare_cached(
        "INSERT INTO backups(identity, entry, ts, hash) VALUES(?1, ?2, ?3, ?4)
         ON CONFLICT(identity) DO UPDATE SET entry=?2, ts=?3, hash=?4",
    )?
    .execute(params![
        author,
        placed.row,
        placed.timestamp,
        placed.id.as_bytes()
    ])?;
    Ok(())
}

impl Store {
    /// The sealed newest account backup `identity` wrote, if held.
    pub fn newest_backup(&mut self, identity: &IdentityId) -> Result<Option<Vec<u8>>> {
        let who = identity_row(&self.conn, identity)?;
        let row: Option<i64> = self
            .conn
            .prepare_cached("SELECT entry FROM backups WHERE identity=?1")?
            .query_row([who], |r| r.get(0))
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        Ok(match open_stored(&self.conn, &mut self.keys, row)? {
            Some(Record::Backup(sealed)) => Some(sealed),
            _ => None,
        })
    }
}
