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
    keep_newest_in(conn, Newest::Backups, author, placed).map(|_| ())
}

/// A table that keeps one record per identity, the newest: `backups` or
/// `follow_lists` (both `identity, entry, ts, hash`).
#[derive(Clone, Copy)]
pub(crate) enum Newest {
    /// Account backups.
    Backups,
    /// Public follow lists.
    FollowLists,
}

impl Newest {
    fn table(self) -> &'static str {
        match self {
            Newest::Backups => "backups",
            Newest::FollowLists => "follow_lists",
        }
    }
}

/// Keeps the record at `placed` in `table` if it is `author`'s newest (by
/// timestamp, then id), dropping the payload of the one it replaces;
/// otherwise drops its own payload. Returns whether it is the newest.
pub(crate) fn keep_newest_in(
    conn: &Connection,
    table: Newest,
    author: i64,
    placed: &Placed,
) -> Result<bool> {
    let table = table.table();
    let current: Option<(i64, u64, Vec<u8>)> = conn
        .prepare_cached(&format!(
            "SELECT entry, ts, hash FROM {table} WHERE identity=?1"
        ))?
        .query_row([author], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let newer = current.as_ref().is_none_or(|(_, ts, hash)| {
        (placed.timestamp, placed.id.as_bytes().as_slice()) > (*ts, hash.as_slice())
    });
    if !newer {
        drop_payload(conn, placed.row)?;
        return Ok(false);
    }
    if let Some((row, _, _)) = current {
        drop_payload(conn, row)?;
    }
    conn.prepare_cached(&format!(
        "INSERT INTO {table}(identity, entry, ts, hash) VALUES(?1, ?2, ?3, ?4)
         ON CONFLICT(identity) DO UPDATE SET entry=?2, ts=?3, hash=?4"
    ))?
    .execute(params![
        author,
        placed.row,
        placed.timestamp,
        placed.id.as_bytes()
    ])?;
    Ok(true)
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
