//! The schema, and bringing a store made by an older version up to it.

use rusqlite::{Connection, OptionalExtension};

use super::Result;

/// Adds `column` (with its SQL declaration) to `table` unless it is there.
pub(super) fn add_column(conn: &Connection, table: &str, column: &str, decl: &str) -> Result<()> {
    let has: bool = conn
        .prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{table}') WHERE name='{column}'"
        ))?
        .exists([])?;
    if !has {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

/// Brings a store made by an older version up to the current schema.
/// Returns whether revocations written before they named their issuer
/// need to be read again from the feeds.
pub(super) fn migrate(conn: &Connection) -> Result<bool> {
    add_column(conn, "posts", "space", "INTEGER")?;
    // Entries stored before headers had a second format version are all of
    // version 1: their signatures gain the version byte.
    if conn
        .query_row("SELECT value FROM meta WHERE key='entry_format'", [], |r| {
            r.get::<_, Vec<u8>>(0)
        })
        .optional()?
        .is_none()
    {
        conn.execute_batch(
            "UPDATE entries SET sig = CAST(sig || x'01' AS BLOB) WHERE length(sig) = 64;
             INSERT OR REPLACE INTO meta(key, value) VALUES('entry_format', x'02');",
        )?;
    }
    add_column(conn, "audience", "blocked", "INTEGER NOT NULL DEFAULT 0")?;
    // A group's timeline, newest first.
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS posts_space ON posts(space, ts) WHERE space IS NOT NULL",
    )?;
    // When a like or repost was made, for notifications (older rows: NULL).
    add_column(conn, "reactions", "ts", "INTEGER")?;
    add_column(conn, "spaces", "nonce", "BLOB")?;
    add_column(conn, "spaces", "departed", "INTEGER NOT NULL DEFAULT 0")?;
    add_column(conn, "wants", "len", "INTEGER")?;
    add_column(conn, "peers", "introduced", "INTEGER NOT NULL DEFAULT 0")?;
    // The path and round-trip time of the last session with a peer.
    add_column(conn, "peers", "path", "INTEGER")?;
    add_column(conn, "peers", "rtt_ms", "INTEGER")?;
    // Storage budgets: how far a log's posts were evicted, and the log a
    // fetched image came for.
    add_column(conn, "logs", "evicted_to", "INTEGER NOT NULL DEFAULT 0")?;
    add_column(conn, "blobs", "log", "INTEGER")?;
    add_column(conn, "pending", "arrived", "INTEGER NOT NULL DEFAULT 0")?;
    add_column(conn, "pending", "certified", "INTEGER NOT NULL DEFAULT 1")?;
    conn.execute_batch("CREATE INDEX IF NOT EXISTS pending_arrived ON pending(arrived)")?;
    // Revocations used to be kept without their issuer.
    let old_revocations: bool = conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='revoked'")?
        .exists([])?;
    if old_revocations {
        conn.execute_batch("DROP TABLE revoked; DROP TABLE IF EXISTS revoked_heads;")?;
    }
    Ok(old_revocations)
}
