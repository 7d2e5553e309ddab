//! Read queries: home timeline, thread, search, profile. Each is served from
//! indexed derived tables; payloads are decrypted only for the rows shown.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::project::open_stored;
use super::{LIKE, REPOST, Result, Store, StoreError, blob32, identity_row, space_row};
use crate::id::{EntryId, Hash, IdentityId, SpaceId};
use crate::record::{ImageRef, Record};
use crate::view::{Page, PostView, ProfileView, QuotedPost, TrendingTag};

/// Longest thread walked up or down.
const MAX_THREAD: usize = 1000;
/// Most of an author's posts one call for their media looks at.
pub(super) const MEDIA_SCAN: usize = 1000;
/// An author's posts read per query while looking for their media.
const MEDIA_BATCH: usize = 100;
/// How far ahead of this device's clock a post may be dated and still be
/// shown in order: one dated later waits until then (an author's clock
/// may be a little fast; a post dated next year must not stay on top).
pub const MAX_AHEAD_MS: u64 = 5 * 60 * 1000;

/// The newest time a timeline shows now.
pub(crate) fn horizon() -> u64 {
    super::now_ms().saturating_add(MAX_AHEAD_MS)
}

const TIMELINE_SQL: &str =
    "SELECT p.id, e.hash, p.ts, i.identity, pr.name, pr.avatar, p.reply_to, p.edit,
            (SELECT g.space FROM spaces g WHERE g.id=p.space AND g.kind=3)
     FROM posts p JOIN entries e ON e.id=p.id JOIN identities i ON i.id=p.author
     LEFT JOIN profiles pr ON pr.identity=p.author
     WHERE p.author IN (SELECT identity FROM audience WHERE followed>0 AND muted=0)
       AND p.space IS NULL
       AND (?1 IS NULL OR p.ts < ?1 OR (p.ts = ?1 AND e.hash < ?2))
     ORDER BY p.ts DESC, e.hash DESC LIMIT ?3";

const GROUP_TIMELINE_SQL: &str =
    "SELECT p.id, e.hash, p.ts, i.identity, pr.name, pr.avatar, p.reply_to, p.edit,
            (SELECT g.space FROM spaces g WHERE g.id=p.space AND g.kind=3)
     FROM posts p JOIN entries e ON e.id=p.id JOIN identities i ON i.id=p.author
     LEFT JOIN profiles pr ON pr.identity=p.author
     WHERE p.space=?4
       AND NOT EXISTS (SELECT 1 FROM audience a WHERE a.identity=p.author AND a.muted=1)
       AND (?1 IS NULL OR p.ts < ?1 OR (p.ts = ?1 AND e.hash < ?2))
     ORDER BY p.ts DESC, e.hash DESC LIMIT ?3";

const AUTHOR_SQL: &str =
    "SELECT p.id, e.hash, p.ts, i.identity, pr.name, pr.avatar, p.reply_to, p.edit,
            (SELECT g.space FROM spaces g WHERE g.id=p.space AND g.kind=3)
     FROM posts p JOIN entries e ON e.id=p.id JOIN identities i ON i.id=p.author
     LEFT JOIN profiles pr ON pr.identity=p.author
     WHERE p.author=?4 AND p.space IS NULL
       AND (?1 IS NULL OR p.ts < ?1 OR (p.ts = ?1 AND e.hash < ?2))
     ORDER BY p.ts DESC, e.hash DESC LIMIT ?3";

const SEARCH_SQL: &str =
    "SELECT p.id, e.hash, p.ts, i.identity, pr.name, pr.avatar, p.reply_to, p.edit,
            (SELECT g.space FROM spaces g WHERE g.id=p.space AND g.kind=3)
     FROM posts_fts f JOIN entries e ON e.id=f.rowid JOIN posts p ON p.ts=e.ts AND p.id=e.id
     JOIN identities i ON i.id=p.author LEFT JOIN profiles pr ON pr.identity=p.author
     WHERE posts_fts MATCH ?1
       AND NOT EXISTS (SELECT 1 FROM audience a WHERE a.identity=p.author AND a.muted=1)
     ORDER BY f.rowid DESC LIMIT ?2";

const TAG_SQL: &str =
    "SELECT p.id, e.hash, p.ts, i.identity, pr.name, pr.avatar, p.reply_to, p.edit,
            (SELECT g.space FROM spaces g WHERE g.id=p.space AND g.kind=3)
     FROM tags t JOIN entries e ON e.id=t.post JOIN posts p ON p.ts=e.ts AND p.id=e.id
     JOIN identities i ON i.id=p.author LEFT JOIN profiles pr ON pr.identity=p.author
     WHERE t.tag=?1
       AND NOT EXISTS (SELECT 1 FROM audience a WHERE a.identity=p.author AND a.muted=1)
     ORDER BY t.ts DESC, t.post DESC LIMIT ?2";

/// Tags of the feed posts of people followed (not muted) in a time
/// window, by how many of them used each, then how often.
const TRENDING_SQL: &str = "SELECT t.tag, count(*) AS n, count(DISTINCT p.author) AS a
     FROM tags t JOIN entries e ON e.id=t.post JOIN posts p ON p.ts=e.ts AND p.id=e.id
     WHERE t.ts >= ?1 AND t.ts <= ?2 AND p.space IS NULL
       AND p.author IN (SELECT identity FROM audience WHERE followed>0 AND muted=0)
     GROUP BY t.tag ORDER BY a DESC, n DESC, t.tag LIMIT ?3";

const BY_ID_SQL: &str =
    "SELECT p.id, e.hash, p.ts, i.identity, pr.name, pr.avatar, p.reply_to, p.edit,
            (SELECT g.space FROM spaces g WHERE g.id=p.space AND g.kind=3)
     FROM entries e JOIN posts p ON p.ts=e.ts AND p.id=e.id JOIN identities i ON i.id=p.author
     LEFT JOIN profiles pr ON pr.identity=p.author
     WHERE substr(e.hash, 1, 8)=substr(?1, 1, 8) AND e.hash=?1";

const REPLIES_SQL: &str =
    "SELECT p.id, e.hash, p.ts, i.identity, pr.name, pr.avatar, p.reply_to, p.edit,
            (SELECT g.space FROM spaces g WHERE g.id=p.space AND g.kind=3)
     FROM posts p JOIN entries e ON e.id=p.id JOIN identities i ON i.id=p.author
     LEFT JOIN profiles pr ON pr.identity=p.author WHERE p.reply_to=?1";

pub(super) struct RawPost {
    row: i64,
    id: EntryId,
    ts: u64,
    author: IdentityId,
    name: Option<String>,
    avatar: Option<Hash>,
    reply_to: Option<EntryId>,
    edit: Option<i64>,
    group: Option<SpaceId>,
}

pub(super) fn raw(r: &Row<'_>) -> rusqlite::Result<RawTuple> {
    r.try_into()
}

pub(super) type RawTuple = (
    i64,
    Vec<u8>,
    u64,
    Vec<u8>,
    Option<String>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<i64>,
    Option<Vec<u8>>,
);

pub(super) fn to_raw(t: RawTuple) -> Result<RawPost> {
    let (row, id, ts, author, name, avatar, reply_to, edit, group) = t;
    Ok(RawPost {
        row,
        id: EntryId(blob32(id)?),
        ts,
        author: IdentityId(blob32(author)?),
        name,
        avatar: avatar.map(blob32).transpose()?.map(Hash),
        reply_to: reply_to.map(blob32).transpose()?.map(EntryId),
        edit,
        group: group.map(blob32).transpose()?.map(SpaceId),
    })
}

/// How many identities reacted to `target` with `kind`, and whether
/// this identity (row `me`) is one of them.
fn count(conn: &Connection, target: &EntryId, kind: i64, me: Option<i64>) -> Result<(u64, bool)> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(identity IS ?3), 0) > 0 FROM reactions
             WHERE target=?1 AND kind=?2",
        )?
        .query_row(params![target.as_bytes(), kind, me], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?)
}

/// The text (after its newest edit), quoted post and images of the post
/// `p`.
fn content(
    conn: &Connection,
    keys: &mut super::project::Keys,
    p: &RawPost,
) -> Result<(String, Option<EntryId>, Vec<ImageRef>)> {
    let (text, quote_of, images) = match open_stored(conn, keys, p.row)? {
        Some(Record::Post(post)) => (post.text, post.quote_of, post.images),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "post {} does not open",
                p.id.fmt_short()
            )));
        }
    };
    let text = match p.edit {
        Some(e) => match open_stored(conn, keys, e)? {
            Some(Record::Edit { text, .. }) => text,
            _ => text,
        },
        None => text,
    };
    Ok((text, quote_of, images))
}

const BLOCKED_SQL: &str = "SELECT 1 FROM audience a JOIN identities i ON i.id=a.identity
     WHERE i.identity=?1 AND a.blocked=1";

/// The post `id` as a raw row, unless it is not here or its author is
/// blocked.
fn shown_post(conn: &Connection, id: &EntryId) -> Result<Option<RawPost>> {
    let t: Option<RawTuple> = conn
        .prepare_cached(BY_ID_SQL)?
        .query_row([id.as_bytes()], raw)
        .optional()?;
    let Some(p) = t.map(to_raw).transpose()? else {
        return Ok(None);
    };
    let blocked = conn
        .prepare_cached(BLOCKED_SQL)?
        .exists([p.author.as_bytes()])?;
    Ok((!blocked).then_some(p))
}

/// The post `id` as a card for a post that quotes it (one level: the
/// card's own quote is not followed).
fn quoted(
    conn: &Connection,
    keys: &mut super::project::Keys,
    id: &EntryId,
) -> Result<Option<QuotedPost>> {
    let Some(q) = shown_post(conn, id)? else {
        return Ok(None);
    };
    let (text, _, mut images) = content(conn, keys, &q)?;
    let first = (!images.is_empty()).then(|| images.swap_remove(0));
    Ok(Some(QuotedPost {
        author_avatar: q.avatar,
        author: q.author,
        author_name: q.name,
        text,
        timestamp: q.ts,
        image: first.as_ref().map(|i| i.hash),
        image_alt: first.map(|i| i.alt).unwrap_or_default(),
    }))
}

pub(super) fn view(
    conn: &Connection,
    keys: &mut super::project::Keys,
    p: RawPost,
) -> Result<PostView> {
    let (text, quote_of, images) = content(conn, keys, &p)?;
    let quoted = match &quote_of {
        Some(q) => quoted(conn, keys, q)?,
        None => None,
    };
    let (reply_to_author, reply_to_name) = match &p.reply_to {
        Some(r) => match shown_post(conn, r)? {
            Some(parent) => (Some(parent.author), parent.name),
            None => (None, None),
        },
        None => (None, None),
    };
    let me = super::usage::self_row(conn)?;
    let (likes, liked_by_me) = count(conn, &p.id, LIKE, me)?;
    let (reposts, reposted_by_me) = count(conn, &p.id, REPOST, me)?;
    Ok(PostView {
        likes,
        reposts,
        liked_by_me,
        reposted_by_me,
        id: p.id,
        author_avatar: p.avatar,
        author: p.author,
        author_name: p.name,
        text,
        timestamp: p.ts,
        reply_to: p.reply_to,
        reply_to_author,
        reply_to_name,
        quote_of,
        quoted,
        edited: p.edit.is_some(),
        alts: images.iter().map(|i| i.alt.clone()).collect(),
        images: images.into_iter().map(|i| i.hash).collect(),
        group: p.group,
    })
}

/// Quotes every word so user text is never read as FTS5 syntax.
fn fts_query(q: &str) -> Option<String> {
    let words: Vec<String> = q
        .split_whitespace()
        .take(16)
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn parse_cursor(c: &str) -> Option<(u64, [u8; 32])> {
    let (ts, id) = c.split_once('-')?;
    Some((ts.parse().ok()?, *id.parse::<EntryId>().ok()?.as_bytes()))
}

impl Store {
    /// The home timeline: posts by followed identities and the user, muted
    /// ones left out, newest first. `before` is a cursor from a previous page.
    pub fn timeline(&mut self, limit: usize, before: Option<&str>) -> Result<Page> {
        self.page(TIMELINE_SQL, None, limit, before)
    }

    /// A group's timeline, newest first, in pages like the home timeline:
    /// every member's posts and replies.
    pub fn group_timeline(
        &mut self,
        group: &SpaceId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page> {
        let row =
            space_row(&self.conn, group)?.ok_or_else(|| StoreError::NoKey(group.fmt_short()))?;
        self.page(GROUP_TIMELINE_SQL, Some(row), limit, before)
    }

    /// One identity's own posts and replies (not those in groups), newest
    /// first, in pages like the home timeline; a blocked identity has none.
    pub fn author_posts(
        &mut self,
        identity: &IdentityId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page> {
        let row = identity_row(&self.conn, identity)?;
        if self.is_blocked(row)? {
            return Ok(Page {
                posts: Vec::new(),
                next: None,
            });
        }
        self.page(AUTHOR_SQL, Some(row), limit, before)
    }

    /// One identity's posts with images (the profile's media), newest
    /// first. Walks their posts a page at a time, at most 1,000
    /// per call; `next` goes on from the last post looked at, so a call
    /// may return fewer than `limit` with more to come.
    pub fn author_media(
        &mut self,
        identity: &IdentityId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page> {
        let row = identity_row(&self.conn, identity)?;
        if self.is_blocked(row)? {
            return Ok(Page {
                posts: Vec::new(),
                next: None,
            });
        }
        let limit = limit.clamp(1, 100);
        let mut posts = Vec::new();
        let mut cursor = before.map(str::to_string);
        let mut scanned = 0;
        while scanned < MEDIA_SCAN {
            let rows = self.rows(AUTHOR_SQL, Some(row), MEDIA_BATCH, cursor.as_deref())?;
            let more = rows.len() == MEDIA_BATCH;
            scanned += rows.len();
            for t in rows {
                let p = to_raw(t)?;
                cursor = Some(format!("{}-{}", p.ts, p.id));
                // Only a post with images is made into a view (its quote,
                // reply and counts looked up).
                if content(&self.conn, &mut self.keys, &p)?.2.is_empty() {
                    continue;
                }
                posts.push(view(&self.conn, &mut self.keys, p)?);
                if posts.len() == limit {
                    return Ok(Page {
                        posts,
                        next: cursor,
                    });
                }
            }
            if !more {
                return Ok(Page { posts, next: None });
            }
        }
        Ok(Page {
            posts,
            next: cursor,
        })
    }

    fn is_blocked(&self, identity_row: i64) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM audience WHERE identity=?1 AND blocked=1")?
            .exists([identity_row])?)
    }

    /// Everyone this device follows, as profiles.
    pub fn following(&self) -> Result<Vec<ProfileView>> {
        let rows: Vec<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT i.identity FROM audience a JOIN identities i ON i.id=a.identity WHERE a.followed>0",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        rows.into_iter()
            .map(|b| self.profile(&IdentityId(blob32(b)?)))
            .collect()
    }

    fn page(
        &mut self,
        sql: &str,
        space: Option<i64>,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page> {
        let limit = limit.clamp(1, 500);
        let rows = self.rows(sql, space, limit, before)?;
        let full = rows.len() == limit;
        let mut posts = Vec::with_capacity(rows.len());
        for t in rows {
            posts.push(view(&self.conn, &mut self.keys, to_raw(t)?)?);
        }
        let next = match (full, posts.last()) {
            (true, Some(p)) => Some(format!("{}-{}", p.timestamp, p.id)),
            _ => None,
        };
        Ok(Page { posts, next })
    }

    /// Up to `limit` rows of a paged query (`sql`, with `space` as its
    /// fourth parameter when it takes one) from the cursor `before`.
    fn rows(
        &self,
        sql: &str,
        space: Option<i64>,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<RawTuple>> {
        let (c0, c1) = match before {
            Some(c) => parse_cursor(c).ok_or_else(|| StoreError::BadCursor(c.to_string()))?,
            // From the present (and a little ahead), not from the newest
            // date anyone wrote.
            None => (horizon(), [0xff; 32]),
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mapped = match space {
            Some(s) => stmt.query_map(params![c0, c1.to_vec(), limit as i64, s], raw)?,
            None => stmt.query_map(params![c0, c1.to_vec(), limit as i64], raw)?,
        };
        Ok(mapped.collect::<std::result::Result<_, _>>()?)
    }

    /// One post by id.
    pub fn post(&mut self, id: &EntryId) -> Result<Option<PostView>> {
        let t: Option<RawTuple> = self
            .conn
            .prepare_cached(BY_ID_SQL)?
            .query_row([id.as_bytes()], raw)
            .optional()?;
        match t {
            Some(t) => Ok(Some(view(&self.conn, &mut self.keys, to_raw(t)?)?)),
            None => Ok(None),
        }
    }

    /// A thread: the post's ancestors (root first), the post, then all
    /// replies below it in time order. Muted authors are left out; a
    /// blocked author's post is not found.
    pub fn thread(&mut self, id: &EntryId) -> Result<Vec<PostView>> {
        let Some(root) = self.post(id)? else {
            return Err(StoreError::PostNotFound(id.to_string()));
        };
        // A blocked author's posts are not shown, even by id.
        let author = identity_row(&self.conn, &root.author)?;
        if self.is_blocked(author)? {
            return Err(StoreError::PostNotFound(id.to_string()));
        }
        let mut up = Vec::new();
        let mut parent = root.reply_to;
        while let Some(pid) = parent {
            if up.len() >= MAX_THREAD {
                break;
            }
            match self.post(&pid)? {
                Some(p) => {
                    parent = p.reply_to;
                    up.push(p);
                }
                None => break,
            }
        }
        up.reverse();
        let mut down = Vec::new();
        let mut queue = vec![root.id];
        while let Some(pid) = queue.pop() {
            if down.len() >= MAX_THREAD {
                break;
            }
            let rows: Vec<RawTuple> = self
                .conn
                .prepare_cached(REPLIES_SQL)?
                .query_map([pid.as_bytes()], raw)?
                .collect::<std::result::Result<_, _>>()?;
            for t in rows {
                let v = view(&self.conn, &mut self.keys, to_raw(t)?)?;
                queue.push(v.id);
                down.push(v);
            }
        }
        down.sort_by_key(|p| (p.timestamp, p.id));
        let muted = self.muted()?;
        let mut out = up;
        out.push(root);
        out.extend(down);
        out.retain(|p| p.id == *id || !muted.contains(&p.author));
        Ok(out)
    }

    /// Full-text search over every post held here (muted authors left out),
    /// most recently stored first; a query that is one hashtag (`#birds`)
    /// finds the posts tagged so, newest first.
    pub fn search(&mut self, query: &str, limit: usize) -> Result<Vec<PostView>> {
        // One hashtag (`#birds`): the posts tagged so, newest first.
        let (sql, q) = match crate::hashtag::tag_query(query) {
            Some(tag) => (TAG_SQL, tag),
            None => match fts_query(query) {
                Some(q) => (SEARCH_SQL, q),
                None => return Ok(Vec::new()),
            },
        };
        let rows: Vec<RawTuple> = self
            .conn
            .prepare_cached(sql)?
            .query_map(params![q, limit.clamp(1, 500) as i64], raw)?
            .collect::<std::result::Result<_, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for t in rows {
            out.push(view(&self.conn, &mut self.keys, to_raw(t)?)?);
        }
        Ok(out)
    }

    fn muted(&self) -> Result<Vec<IdentityId>> {
        let rows: Vec<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT i.identity FROM audience a JOIN identities i ON i.id=a.identity WHERE a.muted=1")?
            .query_map([], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        rows.into_iter()
            .map(|b| blob32(b).map(IdentityId))
            .collect()
    }

    /// The tags people followed here used most in their feed posts dated
    /// from `since` (ms) until now, most authors first.
    pub fn trending_tags(&self, since: u64, limit: usize) -> Result<Vec<TrendingTag>> {
        let rows = self
            .conn
            .prepare_cached(TRENDING_SQL)?
            .query_map(params![since, horizon(), limit.clamp(1, 50) as i64], |r| {
                Ok(TrendingTag {
                    tag: r.get(0)?,
                    posts: r.get(1)?,
                    authors: r.get(2)?,
                })
            })?
            .collect::<std::result::Result<_, _>>()?;
        Ok(rows)
    }

    /// Who goes by `name` here (any case), for a mention: this identity
    /// first, then someone followed, then whoever has the most posts held.
    pub fn identity_named(&self, name: &str) -> Result<Option<IdentityId>> {
        let found: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT i.identity FROM profiles pr JOIN identities i ON i.id=pr.identity
                 LEFT JOIN audience a ON a.identity=pr.identity
                 LEFT JOIN post_counts c ON c.identity=pr.identity
                 WHERE pr.name=?1 COLLATE NOCASE AND coalesce(a.blocked, 0)=0
                 ORDER BY pr.identity IS ?2 DESC, coalesce(a.followed, 0) > 0 DESC,
                          coalesce(c.n, 0) DESC
                 LIMIT 1",
            )?
            .query_row(params![name, super::usage::self_row(&self.conn)?], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(found.map(blob32).transpose()?.map(IdentityId))
    }

    /// What is known of an identity's profile.
    pub fn profile(&self, identity: &IdentityId) -> Result<ProfileView> {
        let row = identity_row(&self.conn, identity)?;
        let (name, bio, avatar): (Option<String>, Option<String>, Option<Vec<u8>>) = self
            .conn
            .prepare_cached("SELECT name, bio, avatar FROM profiles WHERE identity=?1")?
            .query_row([row], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .unwrap_or((None, None, None));
        let (followed, muted, blocked): (bool, bool, bool) = self
            .conn
            .prepare_cached(
                "SELECT followed>0, muted>0, blocked>0 FROM audience WHERE identity=?1",
            )?
            .query_row([row], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .unwrap_or((false, false, false));
        let posts: u64 = self
            .conn
            .prepare_cached("SELECT n FROM post_counts WHERE identity=?1")?
            .query_row([row], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        Ok(ProfileView {
            identity: *identity,
            name,
            bio,
            avatar: avatar.map(blob32).transpose()?.map(Hash),
            followed,
            muted,
            blocked,
            posts,
            follows_you: super::follows::follows_me(&self.conn, row)?,
        })
    }
}

/// Query plans of the read queries, by name.
pub(super) fn explain(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (name, sql, args) in [
        ("timeline", TIMELINE_SQL, 3),
        ("search", SEARCH_SQL, 2),
        ("tagged", TAG_SQL, 2),
        ("trending", TRENDING_SQL, 3),
        ("post", BY_ID_SQL, 1),
        ("replies", REPLIES_SQL, 1),
        ("blocked", BLOCKED_SQL, 1),
    ] {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let vals: Vec<rusqlite::types::Value> = match args {
            3 => vec![
                rusqlite::types::Value::Null,
                rusqlite::types::Value::Null,
                50.into(),
            ],
            2 => vec!["\"x\"".to_string().into(), 50.into()],
            _ => vec![vec![0u8; 32].into()],
        };
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(vals), |r| r.get::<_, String>(3))?
            .collect::<std::result::Result<_, _>>()?;
        out.push((name.to_string(), plan.join("\n")));
    }
    Ok(out)
}
