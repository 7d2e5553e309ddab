//! Erasing: what a delete or a leave takes away goes from every file of
//! the home, not only from the tables that show it.
//!
//! SQLite keeps deleted bytes in free pages, in the slack of the pages it
//! rewrites and in the WAL; FTS5 keeps deleted terms in its segments until
//! they merge. So the store runs with `PRAGMA secure_delete` (freed space
//! is zeroed) and FTS5's `secure-delete` option (a deleted row's terms
//! leave the index at once), drops the other copies a deleted entry may
//! have (a wait-list copy, equivocation evidence, its images), and
//! [`Store::scrub`] moves the WAL into the database and truncates it.

use rusqlite::{Connection, OptionalExtension};

use super::project::{drop_payload, hide_post};
use super::{Result, Store, space_row};
use crate::id::{EntryId, Hash, SpaceId};

/// Sets the connection to zero what it frees (per connection; FTS5's
/// option is kept in the index itself).
pub(crate) fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "secure_delete", true)?;
    let set = conn
        .prepare("SELECT 1 FROM posts_fts_config WHERE k='secure-delete' AND v=1")?
        .exists([])?;
    if !set {
        conn.execute(
            "INSERT INTO posts_fts(posts_fts, rank) VALUES('secure-delete', 1)",
            [],
        )?;
    }
    Ok(())
}

/// Runs `f` with FTS5's `secure-delete` off, for removals from the index
/// that are not erasures (eviction: others' posts the user may see again
/// elsewhere): a deleted row's terms then wait in the index's segments
/// until they merge, rather than each delete rewriting the term's pages.
/// The pending index is flushed before the option is set again, all in
/// the caller's transaction, so no other removal runs without it.
pub(crate) fn without_secure_index_delete<T>(
    conn: &Connection,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let set = |on: i64| {
        conn.prepare_cached("INSERT INTO posts_fts(posts_fts, rank) VALUES('secure-delete', ?1)")?
            .execute([on])
            .map(|_| ())
    };
    set(0)?;
    let out = f();
    conn.execute("INSERT INTO posts_fts(posts_fts) VALUES('flush')", [])?;
    set(1)?;
    out
}

/// Drops the copies of a deleted entry other than its row: a copy waiting
/// in `pending`, equivocation evidence at its place in its log, and the
/// images it referred to (unless an avatar is the same blob), fetched or
/// still wanted.
pub(crate) fn forget_copies(
    conn: &Connection,
    id: &EntryId,
    row: Option<i64>,
    images: &[Hash],
) -> Result<()> {
    conn.prepare_cached("DELETE FROM pending WHERE hash=?1")?
        .execute([id.as_bytes()])?;
    if let Some(row) = row {
        conn.prepare_cached(
            "DELETE FROM equivocations WHERE (space, device, seq) IN
             (SELECT s.space, l.device, e.seq FROM entries e JOIN logs l ON l.id=e.log
              JOIN spaces s ON s.id=l.space WHERE e.id=?1)",
        )?
        .execute([row])?;
    }
    for hash in images {
        let avatar = conn
            .prepare_cached("SELECT 1 FROM profiles WHERE avatar=?1")?
            .exists([hash.as_bytes()])?;
        if !avatar {
            conn.prepare_cached("DELETE FROM blobs WHERE hash=?1")?
                .execute([hash.as_bytes()])?;
        }
        conn.prepare_cached("DELETE FROM wants WHERE hash=?1")?
            .execute([hash.as_bytes()])?;
    }
    Ok(())
}

/// Whether this store left the group `space_row` (its content is dropped,
/// and what arrives for it later is kept as headers only).
pub(crate) fn is_left(conn: &Connection, space_row: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT departed FROM spaces WHERE id=?1")?
        .query_row([space_row], |r| r.get::<_, i64>(0))
        .optional()?
        .is_some_and(|l| l != 0))
}

impl Store {
    /// Whether this store left the group `space`.
    pub fn has_departed(&self, space: &crate::id::SpaceId) -> Result<bool> {
        match crate::store::space_row(&self.conn, space)? {
            Some(row) => is_left(&self.conn, row),
            None => Ok(false),
        }
    }

    /// Moves the WAL into the database file and truncates it, so that
    /// bytes freed since (zeroed in the database by `secure_delete`) are
    /// in no file any more. Readers in other processes may keep part of
    /// it until they finish; the next scrub or close takes the rest.
    pub fn scrub(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Drops what this store holds of a group it left: its posts (from
    /// timelines and search), reactions, edits and deletes of them, its
    /// images, wanted images, document, waiting entries and evidence, and
    /// the payload of every entry but the membership operations (kept so
    /// that membership still folds, and this device's leave is served).
    /// The headers stay: sync still sees the logs in step, so peers do not
    /// send them again. Entries that arrive later keep their header only.
    pub fn leave_space(&mut self, space: &SpaceId) -> Result<()> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(());
        };
        let keys = &mut self.keys;
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE spaces SET departed=1 WHERE id=?1", [row])?;
        let posts: Vec<(i64, i64)> = tx
            .prepare("SELECT id, author FROM posts WHERE space=?1")?
            .query_map([row], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<std::result::Result<_, _>>()?;
        for (post, author) in posts {
            hide_post(&tx, keys, post, author)?;
        }
        for table in ["reactions", "unreactions", "edits", "deletes"] {
            tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE target IN
                     (SELECT e.hash FROM entries e JOIN logs l ON l.id=e.log WHERE l.space=?1)"
                ),
                [row],
            )?;
        }
        for sql in [
            "DELETE FROM blobs WHERE space=?1",
            "DELETE FROM wants WHERE space=?1",
            "DELETE FROM docs WHERE space=?1",
        ] {
            tx.execute(sql, [row])?;
        }
        tx.execute("DELETE FROM pending WHERE space=?1", [space.as_bytes()])?;
        tx.execute(
            "DELETE FROM equivocations WHERE space=?1",
            [space.as_bytes()],
        )?;
        let rows: Vec<i64> = tx
            .prepare(
                "SELECT e.id FROM entries e JOIN logs l ON l.id=e.log
                 WHERE l.space=?1 AND e.payload IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM group_ops g WHERE g.entry=e.id)",
            )?
            .query_map([row], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        for r in rows {
            drop_payload(&tx, r)?;
        }
        tx.commit()?;
        self.keys.clear();
        self.scrub()
    }

    /// Before joining a group this store left again: forgets the other
    /// members' logs (their entries were kept as headers only), so that
    /// sync brings them back whole; this device's own logs stay, so its
    /// log goes on from where it was.
    pub fn rejoin_space(&mut self, space: &SpaceId) -> Result<()> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(());
        };
        if !is_left(&self.conn, row)? {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        let own = "(SELECT value FROM meta WHERE key='self')";
        let others = format!(
            "SELECT l.id FROM logs l LEFT JOIN identities i ON i.id=l.identity
             WHERE l.space=?1 AND (i.identity IS NULL OR i.identity != {own})"
        );
        tx.execute(
            &format!("DELETE FROM group_ops WHERE entry IN (SELECT e.id FROM entries e WHERE e.log IN ({others}))"),
            [row],
        )?;
        tx.execute(
            &format!("DELETE FROM entries WHERE log IN ({others})"),
            [row],
        )?;
        tx.execute(&format!("DELETE FROM logs WHERE id IN ({others})"), [row])?;
        tx.execute("UPDATE spaces SET departed=0 WHERE id=?1", [row])?;
        tx.commit()?;
        self.keys.clear();
        Ok(())
    }
}
