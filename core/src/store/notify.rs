//! Notifications: what others did to this identity's posts (replies, likes,
//! reposts) and posts that mention its name, newest first.

use rusqlite::params;

use super::posts::{RawTuple, raw, to_raw, view};
use super::{LIKE, REPOST, Result, Store, blob32, identity_row};
use crate::id::{EntryId, IdentityId};
use crate::view::{Notification, NotificationKind};

/// Replies by others to this identity's posts, through the replies index.
const REPLIES_TO_ME_SQL: &str = "SELECT p.id, e.hash, p.ts, i.identity, pr.name, pr.avatar, p.reply_to, p.edit,
            (SELECT g.space FROM spaces g WHERE g.id=p.space AND g.kind=3)
     FROM posts p JOIN entries me ON substr(me.hash, 1, 8)=substr(p.reply_to, 1, 8) AND me.hash=p.reply_to
     JOIN posts m ON m.ts=me.ts AND m.id=me.id
     JOIN entries e ON e.id=p.id JOIN identities i ON i.id=p.author
     LEFT JOIN profiles pr ON pr.identity=p.author
     WHERE p.reply_to IS NOT NULL AND m.author=?1 AND p.author<>?1
       AND NOT EXISTS (SELECT 1 FROM audience a WHERE a.identity=p.author AND (a.muted=1 OR a.blocked=1))
     ORDER BY p.ts DESC LIMIT ?2";

/// Likes and reposts by others of this identity's posts.
const REACTIONS_TO_ME_SQL: &str = "SELECT r.kind, ri.identity, rp.name, coalesce(r.ts, m.ts), r.target
     FROM reactions r JOIN entries me ON substr(me.hash, 1, 8)=substr(r.target, 1, 8) AND me.hash=r.target
     JOIN posts m ON m.ts=me.ts AND m.id=me.id
     JOIN identities ri ON ri.id=r.identity LEFT JOIN profiles rp ON rp.identity=r.identity
     WHERE m.author=?1 AND r.identity<>?1
       AND NOT EXISTS (SELECT 1 FROM audience a WHERE a.identity=r.identity AND (a.muted=1 OR a.blocked=1))
     ORDER BY coalesce(r.ts, m.ts) DESC LIMIT ?2";

/// Posts by others holding the word of this identity's name.
const NAMED_SQL: &str = "SELECT p.id, e.hash, p.ts, i.identity, pr.name, pr.avatar, p.reply_to, p.edit,
            (SELECT g.space FROM spaces g WHERE g.id=p.space AND g.kind=3)
     FROM posts_fts f JOIN entries e ON e.id=f.rowid JOIN posts p ON p.ts=e.ts AND p.id=e.id
     JOIN identities i ON i.id=p.author LEFT JOIN profiles pr ON pr.identity=p.author
     WHERE posts_fts MATCH ?1 AND p.author<>?2
       AND NOT EXISTS (SELECT 1 FROM audience a WHERE a.identity=p.author AND (a.muted=1 OR a.blocked=1))
     ORDER BY f.rowid DESC LIMIT ?3";

/// Whether `text` names `name` as `@name` (any case), not as a prefix of a
/// longer name.
pub(super) fn mentions(text: &str, name: &str) -> bool {
    let name = name.trim();
    if name.is_empty() {
        return false;
    }
    let (text, name) = (text.to_lowercase(), name.to_lowercase());
    let needle = format!("@{name}");
    text.match_indices(&needle).any(|(at, m)| {
        text[at + m.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_')
    })
}

impl Store {
    /// This identity's notifications, newest first, at most `limit`.
    pub fn notifications(&mut self, me: &IdentityId, limit: usize) -> Result<Vec<Notification>> {
        let limit = limit.clamp(1, 500);
        let me_row = identity_row(&self.conn, me)?;
        let mut out = Vec::new();

        let rows: Vec<RawTuple> = self
            .conn
            .prepare_cached(REPLIES_TO_ME_SQL)?
            .query_map(params![me_row, limit as i64], raw)?
            .collect::<std::result::Result<_, _>>()?;
        for t in rows {
            let post = view(&self.conn, &mut self.keys, to_raw(t)?)?;
            out.push(Notification {
                kind: NotificationKind::Reply,
                from: post.author,
                from_name: post.author_name.clone(),
                timestamp: post.timestamp,
                post,
            });
        }

        type Reaction = (i64, Vec<u8>, Option<String>, u64, Vec<u8>);
        let rows: Vec<Reaction> = self
            .conn
            .prepare_cached(REACTIONS_TO_ME_SQL)?
            .query_map(params![me_row, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<std::result::Result<_, _>>()?;
        for (kind, from, from_name, ts, target) in rows {
            let kind = match kind {
                LIKE => NotificationKind::Like,
                REPOST => NotificationKind::Repost,
                _ => continue,
            };
            let Some(post) = self.post(&EntryId(blob32(target)?))? else {
                continue;
            };
            out.push(Notification {
                kind,
                from: IdentityId(blob32(from)?),
                from_name,
                post,
                timestamp: ts,
            });
        }

        let name = self.profile(me)?.name;
        if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
            let words: Vec<String> = name
                .split_whitespace()
                .take(8)
                .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
                .collect();
            let rows: Vec<RawTuple> = self
                .conn
                .prepare_cached(NAMED_SQL)?
                .query_map(params![words.join(" "), me_row, limit as i64], raw)?
                .collect::<std::result::Result<_, _>>()?;
            for t in rows {
                let post = view(&self.conn, &mut self.keys, to_raw(t)?)?;
                if !mentions(&post.text, &name) {
                    continue;
                }
                // A reply that also names the user is one notification.
                if out
                    .iter()
                    .any(|n| n.kind == NotificationKind::Reply && n.post.id == post.id)
                {
                    continue;
                }
                out.push(Notification {
                    kind: NotificationKind::Mention,
                    from: post.author,
                    from_name: post.author_name.clone(),
                    timestamp: post.timestamp,
                    post,
                });
            }
        }
        let horizon = super::posts::horizon();
        out.retain(|n| n.timestamp <= horizon);
        out.sort_by_key(|n| std::cmp::Reverse(n.timestamp));
        out.truncate(limit);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mentions_need_the_at_sign_and_a_whole_name() {
        assert!(mentions("hi @ann!", "Ann"));
        assert!(mentions("@ANN LARK look", "Ann Lark"));
        assert!(!mentions("hi ann", "Ann"));
        assert!(!mentions("hi @annie", "Ann"));
        assert!(!mentions("anything", " "));
    }
}
