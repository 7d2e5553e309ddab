//! Keeping the store within its budgets ([`Budgets`]): others' oldest
//! posts go to headers only, the oldest of others' images leave the media
//! cache, and what is held of blocked identities goes at once. Dropping a
//! feed one no longer follows, and a vacuum that gives freed pages back.
//!
//! Never touched: this identity's own entries and images, keys, the
//! account space, direct conversations, and entries other than posts (a
//! certificate, a membership operation or a document change keeps its
//! payload, so logs still verify and documents still fold).
//!
//! A log's posts are evicted as a prefix: up to a seq (`logs.evicted_to`),
//! oldest first. Headers stay, so the log still verifies and sync still
//! knows which entries exist; and the store serves the log only to peers
//! already past that seq (serve.rs), so it never hands out an entry whose
//! payload it no longer holds as if that were all there is: a peer further
//! behind takes that log from another peer.
//!
//! Planning reads only; the plan then runs a chunk at a time
//! ([`Store::evict_some`]), one short transaction each, so a running node
//! lets go of its store between chunks and timelines stay quick.

use std::collections::VecDeque;

use rusqlite::{Connection, OptionalExtension, params};

use super::erase::without_secure_index_delete;
use super::project::{Keys, drop_payload, hide_post, is_self};
use super::usage::self_row;
use super::{Result, Store, space_row};
use crate::id::{Hash, IdentityId};
use crate::space::feed_space_id;
use crate::view::{Budgets, Evicted, FeedDropped};

/// Others' posts in a log of a feed or group this device still holds
/// whole (`?1`: this identity's row).
const OTHERS_POSTS: &str = "FROM posts p JOIN entries e ON e.id=p.id JOIN logs l ON l.id=e.log
     JOIN spaces s ON s.id=l.space
     WHERE l.identity IS NOT ?1 AND s.kind IN (1, 3) AND s.departed=0 AND e.payload IS NOT NULL";

/// Others' images in the media cache, oldest first (`?1`: this identity's
/// row): those a post of someone else's asked for, and those stored in
/// someone else's feed. Conversations' images are never evicted.
const CACHED_IMAGES: &str =
    "FROM blobs b JOIN spaces s ON s.id=b.space LEFT JOIN logs l ON l.id=b.log
     WHERE s.kind IN (1, 3) AND CASE WHEN b.log IS NOT NULL THEN l.identity IS NOT ?1
                                     ELSE s.kind=1 AND s.owner IS NOT ?1 END";

/// Images dropped per chunk.
const IMAGES_PER_CHUNK: usize = 32;
/// A day in milliseconds.
const DAY_MS: u64 = 86_400_000;

/// One piece of an eviction.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Drop what is held of the blocked identity (row).
    Blocked(i64),
    /// Evict a log's posts up to seq `to`.
    Posts { log: i64, to: u64 },
    /// Drop these images (rows) from the media cache.
    Images(Vec<i64>),
}

/// A planned eviction, run chunk by chunk with [`Store::evict_some`].
#[derive(Debug, Default)]
pub struct Eviction {
    steps: VecDeque<Step>,
    report: Evicted,
}

impl Eviction {
    /// Whether nothing is left to do.
    pub fn is_done(&self) -> bool {
        self.steps.is_empty()
    }

    /// What was taken away so far.
    pub fn report(&self) -> &Evicted {
        &self.report
    }
}

impl Store {
    /// Bytes of others' posts this store holds whole (what the posts
    /// budget limits).
    pub fn others_posts_bytes(&self) -> Result<u64> {
        let me = self_row(&self.conn)?;
        Ok(self.conn.query_row(
            &format!("SELECT coalesce(sum(length(e.payload)), 0) {OTHERS_POSTS}"),
            [me],
            |r| r.get(0),
        )?)
    }

    /// Bytes of others' images held (what the media budget limits).
    pub fn media_cache_bytes(&self) -> Result<u64> {
        let me = self_row(&self.conn)?;
        Ok(self.conn.query_row(
            &format!("SELECT coalesce(sum(length(b.data)), 0) {CACHED_IMAGES}"),
            [me],
            |r| r.get(0),
        )?)
    }

    /// Plans what to take away so that the store keeps to `budgets` at
    /// `now_ms`. Reads only.
    pub fn plan_eviction(&self, now_ms: u64, budgets: &Budgets) -> Result<Eviction> {
        let me = self_row(&self.conn)?;
        let mut steps = VecDeque::new();
        // Blocked identities first: their data goes whatever the budgets.
        let blocked: Vec<i64> = self
            .conn
            .prepare(
                "SELECT a.identity FROM audience a WHERE a.blocked=1 AND a.identity IS NOT ?1
                 AND (EXISTS (SELECT 1 FROM logs l WHERE l.identity=a.identity AND l.evicted_to < l.seq)
                      OR EXISTS (SELECT 1 FROM spaces s WHERE s.owner=a.identity AND s.kind=1))",
            )?
            .query_map([me], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        steps.extend(blocked.into_iter().map(Step::Blocked));
        // Posts: everything older than the age limit, and the oldest
        // beyond the bytes budget.
        let mut cutoff = now_ms.saturating_sub(u64::from(budgets.keep_others_posts_days) * DAY_MS);
        let held = self.others_posts_bytes()?;
        if held > budgets.others_posts_bytes {
            let excess = held - budgets.others_posts_bytes;
            let mut stmt = self.conn.prepare(&format!(
                "SELECT p.ts, length(e.payload) {OTHERS_POSTS} ORDER BY p.ts, p.id"
            ))?;
            let mut rows = stmt.query([me])?;
            let mut freed = 0u64;
            while let Some(r) = rows.next()? {
                let (ts, len): (u64, u64) = (r.get(0)?, r.get(1)?);
                freed += len;
                if freed >= excess {
                    cutoff = cutoff.max(ts.saturating_add(1));
                    break;
                }
            }
        }
        let logs: Vec<(i64, u64, Option<u64>)> = self
            .conn
            .prepare(
                "SELECT l.id, l.evicted_to,
                        (SELECT max(e.seq) FROM entries e INDEXED BY entries_log WHERE e.log=l.id AND e.ts < ?2)
                 FROM logs l JOIN spaces s ON s.id=l.space
                 WHERE l.identity IS NOT ?1 AND s.kind IN (1, 3) AND s.departed=0",
            )?
            .query_map(params![me, cutoff], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<std::result::Result<_, _>>()?;
        for (log, evicted_to, last_old) in logs {
            if let Some(to) = last_old.filter(|to| *to > evicted_to) {
                steps.push_back(Step::Posts { log, to });
            }
        }
        // Images: the oldest of others' beyond the media budget.
        let cached = self.media_cache_bytes()?;
        if cached > budgets.media_cache_bytes {
            let excess = cached - budgets.media_cache_bytes;
            let mut stmt = self.conn.prepare(&format!(
                "SELECT b.id, length(b.data) {CACHED_IMAGES} ORDER BY b.id"
            ))?;
            let mut rows = stmt.query([me])?;
            let (mut freed, mut chunk) = (0u64, Vec::new());
            while let Some(r) = rows.next()? {
                let (id, len): (i64, u64) = (r.get(0)?, r.get(1)?);
                chunk.push(id);
                if chunk.len() == IMAGES_PER_CHUNK {
                    steps.push_back(Step::Images(std::mem::take(&mut chunk)));
                }
                freed += len;
                if freed >= excess {
                    break;
                }
            }
            if !chunk.is_empty() {
                steps.push_back(Step::Images(chunk));
            }
        }
        Ok(Eviction {
            steps,
            report: Evicted::default(),
        })
    }

    /// Runs one chunk of `eviction` in one transaction: at most `most`
    /// posts (across logs), or one batch of images, or one blocked
    /// identity. Returns whether more is left.
    pub fn evict_some(&mut self, eviction: &mut Eviction, most: usize) -> Result<bool> {
        let keys = &mut self.keys;
        let tx = self.conn.transaction()?;
        let report = &mut eviction.report;
        let mut left = most.max(1);
        while left > 0 {
            let Some(step) = eviction.steps.pop_front() else {
                break;
            };
            match step {
                Step::Blocked(row) => {
                    let identity = identity_of(&tx, row)?;
                    let dropped = drop_feed_in(&tx, keys, &identity, true)?;
                    let logs: Vec<(i64, u64)> = tx
                        .prepare("SELECT id, seq FROM logs WHERE identity=?1 AND evicted_to < seq")?
                        .query_map([row], |r| Ok((r.get(0)?, r.get(1)?)))?
                        .collect::<std::result::Result<_, _>>()?;
                    for (log, to) in logs {
                        while evict_posts(&tx, keys, log, to, usize::MAX, report)?.1 {}
                    }
                    if dropped.kept.is_none() {
                        report.blocked_dropped += 1;
                    }
                    left = 0;
                }
                Step::Posts { log, to } => {
                    let (done, more) = without_secure_index_delete(&tx, || {
                        evict_posts(&tx, keys, log, to, left, report)
                    })?;
                    left -= done.min(left);
                    if more {
                        eviction.steps.push_front(Step::Posts { log, to });
                    }
                }
                Step::Images(rows) => {
                    for row in rows {
                        evict_image(&tx, row, report)?;
                    }
                    left = 0;
                }
            }
        }
        tx.commit()?;
        Ok(!eviction.steps.is_empty())
    }

    /// Keeps the store to `budgets` at `now_ms` in one go (a running node
    /// runs [`Store::plan_eviction`] and [`Store::evict_some`] itself, to
    /// let go of the store between chunks).
    pub fn enforce_budgets(&mut self, now_ms: u64, budgets: &Budgets) -> Result<Evicted> {
        let mut eviction = self.plan_eviction(now_ms, budgets)?;
        while self.evict_some(&mut eviction, 1000)? {}
        self.scrub()?;
        Ok(eviction.report)
    }

    /// Drops what this store holds of `identity`'s feed (after an
    /// unfollow): its entries, posts, reactions, images and document, and
    /// stops holding it, so sync no longer brings it. Kept (and said why)
    /// while the identity is followed, or is in a group or conversation
    /// of this device's.
    pub fn drop_feed(&mut self, identity: &IdentityId) -> Result<FeedDropped> {
        let keys = &mut self.keys;
        let tx = self.conn.transaction()?;
        let dropped = drop_feed_in(&tx, keys, identity, false)?;
        tx.commit()?;
        self.scrub()?;
        Ok(dropped)
    }

    /// Drops what is held of blocked identities now (`Node::block` calls
    /// it; a storage check does too, for blocks from other devices).
    pub fn drop_blocked(&mut self) -> Result<u64> {
        let mut eviction = self.plan_eviction(
            0,
            &Budgets {
                media_cache_bytes: u64::MAX,
                others_posts_bytes: u64::MAX,
                keep_others_posts_days: u32::MAX,
            },
        )?;
        while self.evict_some(&mut eviction, 1000)? {}
        self.scrub()?;
        Ok(eviction.report.blocked_dropped)
    }

    /// Rewrites the database without its free pages, so that space freed
    /// by eviction and cleanup goes back to the filesystem.
    pub fn vacuum(&self) -> Result<()> {
        self.conn.execute_batch("VACUUM")?;
        self.scrub()
    }

    /// Asks again for an image the media cache evicted (a post that shows
    /// it is being shown): a running node fetches it from its peers.
    /// Returns whether it was evicted here.
    pub fn want_evicted(&self, hash: &Hash) -> Result<bool> {
        let moved = self.conn.execute(
            "INSERT OR IGNORE INTO wants(hash, space, log, len)
             SELECT hash, space, log, len FROM evicted_blobs WHERE hash=?1",
            [hash.as_bytes()],
        )?;
        self.conn
            .execute("DELETE FROM evicted_blobs WHERE hash=?1", [hash.as_bytes()])?;
        Ok(moved > 0)
    }
}

fn identity_of(conn: &Connection, row: i64) -> Result<IdentityId> {
    let bytes: Vec<u8> = conn
        .prepare_cached("SELECT identity FROM identities WHERE id=?1")?
        .query_row([row], |r| r.get(0))?;
    Ok(IdentityId(super::blob32(bytes)?))
}

/// Evicts at most `most` of a log's posts at or below seq `to` that still
/// have their payload, and moves the log's `evicted_to` on. Returns how
/// many it evicted and whether some may be left.
fn evict_posts(
    conn: &Connection,
    keys: &mut Keys,
    log: i64,
    to: u64,
    most: usize,
    report: &mut Evicted,
) -> Result<(usize, bool)> {
    let most = most.clamp(1, i64::MAX as usize);
    let from: u64 = conn
        .prepare_cached("SELECT evicted_to FROM logs WHERE id=?1")?
        .query_row([log], |r| r.get(0))
        .optional()?
        .unwrap_or(to);
    let rows: Vec<(i64, i64, u64, u64)> = conn
        .prepare_cached(
            "SELECT e.id, p.author, e.seq, length(e.payload)
             FROM entries e INDEXED BY entries_log JOIN posts p ON p.ts=e.ts AND p.id=e.id
             WHERE e.log=?1 AND e.seq > ?2 AND e.seq <= ?3 AND e.payload IS NOT NULL
             ORDER BY e.seq LIMIT ?4",
        )?
        .query_map(params![log, from, to, most as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<std::result::Result<_, _>>()?;
    let done = rows.len();
    let more = done == most;
    let mut reached = if more { from } else { to };
    for (row, author, seq, len) in rows {
        hide_post(conn, keys, row, author)?;
        drop_payload(conn, row)?;
        report.posts += 1;
        report.post_bytes += len;
        reached = reached.max(seq);
    }
    conn.prepare_cached("UPDATE logs SET evicted_to=max(evicted_to, ?2) WHERE id=?1")?
        .execute(params![log, reached])?;
    Ok((done, more))
}

/// Drops one image from the media cache, remembering where to fetch it
/// again.
fn evict_image(conn: &Connection, row: i64, report: &mut Evicted) -> Result<()> {
    let found: Option<(Vec<u8>, i64, Option<i64>, u64)> = conn
        .prepare_cached(
            "SELECT hash, space, coalesce(log, (SELECT max(l.id) FROM logs l WHERE l.space=b.space)),
                    length(data)
             FROM blobs b WHERE id=?1",
        )?
        .query_row([row], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((hash, space, log, len)) = found else {
        return Ok(());
    };
    if let Some(log) = log {
        conn.prepare_cached(
            "INSERT OR REPLACE INTO evicted_blobs(hash, space, log, len) VALUES(?1, ?2, ?3, ?4)",
        )?
        .execute(params![hash, space, log, len])?;
    }
    conn.prepare_cached("DELETE FROM blobs WHERE id=?1")?
        .execute([row])?;
    report.images += 1;
    report.image_bytes += len;
    Ok(())
}

/// Why `identity`'s feed must stay, if it must: followed (unless
/// `blocked`), or in a group or conversation this device holds.
fn kept_because(conn: &Connection, row: i64, blocked: bool) -> Result<Option<String>> {
    let followed = conn
        .prepare_cached("SELECT 1 FROM audience WHERE identity=?1 AND followed=1")?
        .exists([row])?;
    if followed && !blocked {
        return Ok(Some("still followed".into()));
    }
    let conversation = conn
        .prepare_cached(
            "SELECT 1 FROM spaces s JOIN logs l ON l.space=s.id
             WHERE s.owner=?1 AND s.kind=4 AND l.seq>0",
        )?
        .exists([row])?;
    if conversation {
        return Ok(Some("you have a conversation with them".into()));
    }
    let group = conn
        .prepare_cached(
            "SELECT 1 FROM logs l JOIN spaces s ON s.id=l.space
             WHERE l.identity=?1 AND s.kind=3 AND s.departed=0",
        )?
        .exists([row])?;
    if group {
        return Ok(Some("they are in a group you are in".into()));
    }
    Ok(None)
}

/// Drops `identity`'s feed (see [`Store::drop_feed`]); for a `blocked`
/// one, even while it is followed.
fn drop_feed_in(
    conn: &Connection,
    keys: &mut Keys,
    identity: &IdentityId,
    blocked: bool,
) -> Result<FeedDropped> {
    let mut out = FeedDropped {
        identity: *identity,
        entries: 0,
        images: 0,
        kept: None,
    };
    if is_self(conn, identity)? {
        out.kept = Some("it is your own".into());
        return Ok(out);
    }
    let Some(who) = conn
        .prepare_cached("SELECT id FROM identities WHERE identity=?1")?
        .query_row([identity.as_bytes()], |r| r.get::<_, i64>(0))
        .optional()?
    else {
        return Ok(out);
    };
    if let Some(why) = kept_because(conn, who, blocked)? {
        out.kept = Some(why);
        return Ok(out);
    }
    let space = feed_space_id(identity);
    let Some(row) = space_row(conn, &space)? else {
        return Ok(out);
    };
    // Out of timelines, search and counts first (that reads the text).
    let posts: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT e.id, p.author FROM logs l JOIN entries e ON e.log=l.id
             JOIN posts p ON p.ts=e.ts AND p.id=e.id WHERE l.space=?1",
        )?
        .query_map([row], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<std::result::Result<_, _>>()?;
    for (post, author) in posts {
        hide_post(conn, keys, post, author)?;
    }
    // What their feed said about others' posts.
    for table in [
        "reactions",
        "unreactions",
        "edits",
        "deletes",
        "backups",
        "follow_lists",
        "public_follows",
    ] {
        conn.execute(&format!("DELETE FROM {table} WHERE identity=?1"), [who])?;
    }
    conn.execute("DELETE FROM post_counts WHERE identity=?1 AND n=0", [who])?;
    out.images = conn.execute("DELETE FROM blobs WHERE space=?1", [row])? as u64;
    for table in ["wants", "evicted_blobs"] {
        conn.execute(&format!("DELETE FROM {table} WHERE space=?1"), [row])?;
    }
    conn.execute("UPDATE profiles SET avatar=NULL WHERE identity=?1", [who])?;
    for table in ["pending", "equivocations"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE space=?1"),
            [space.as_bytes()],
        )?;
    }
    out.entries = conn.execute(
        "DELETE FROM entries WHERE log IN (SELECT id FROM logs WHERE space=?1)",
        [row],
    )? as u64;
    for table in ["docs", "keys", "rotated_keys"] {
        conn.execute(&format!("DELETE FROM {table} WHERE space=?1"), [row])?;
    }
    conn.execute("DELETE FROM logs WHERE space=?1", [row])?;
    // No longer chosen: sync neither asks for it nor serves it.
    conn.execute("UPDATE spaces SET kind=0 WHERE id=?1", [row])?;
    keys.forget_space(row);
    Ok(out)
}
