//! Public follow lists ([`Record::Follows`](crate::record::Record::Follows)):
//! of each identity only the newest list counts (and keeps its payload,
//! as account backups do); the identities it names are kept in
//! `public_follows`, for "follows you" on a profile and "who to follow".

use rusqlite::{Connection, OptionalExtension, params};

use super::backups::{Newest, keep_newest_in};
use super::project::Placed;
use super::{Result, Store, blob32, identity_row};
use crate::id::IdentityId;
use crate::record::MAX_PUBLIC_FOLLOWS;
use crate::view::Suggestion;

/// Keeps `list`, written by `author` at `placed`, if it is the newest
/// of theirs: it replaces what their previous list said.
pub(crate) fn keep(
    conn: &Connection,
    author: i64,
    placed: &Placed,
    list: &[IdentityId],
) -> Result<()> {
    if !keep_newest_in(conn, Newest::FollowLists, author, placed)? {
        return Ok(());
    }
    conn.prepare_cached("DELETE FROM public_follows WHERE identity=?1")?
        .execute([author])?;
    // (Admission refused longer lists; `take` keeps this bounded anyway.)
    for who in list.iter().take(MAX_PUBLIC_FOLLOWS) {
        let row = identity_row(conn, who)?;
        if row != author {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO public_follows(identity, followed) VALUES(?1, ?2)",
            )?
            .execute(params![author, row])?;
        }
    }
    Ok(())
}

/// Whether the identity at row `who` says publicly that it follows this
/// identity.
pub(super) fn follows_me(conn: &Connection, who: i64) -> Result<bool> {
    let Some(me) = super::usage::self_row(conn)? else {
        return Ok(false);
    };
    Ok(conn
        .prepare_cached("SELECT 1 FROM public_follows WHERE identity=?1 AND followed=?2")?
        .exists([who, me])?)
}

/// People the people followed here (not muted or blocked) follow
/// publicly, who are not followed, blocked, or this identity: most
/// followers among the user's follows first.
const SUGGESTIONS_SQL: &str = "SELECT i.identity, count(*) AS n,
        group_concat(coalesce(by.name, ''), char(31)) AS names
     FROM public_follows pf
     JOIN audience mine ON mine.identity=pf.identity
         AND mine.followed>0 AND mine.muted=0 AND mine.blocked=0
     JOIN identities i ON i.id=pf.followed
     LEFT JOIN profiles by ON by.identity=pf.identity
     WHERE NOT EXISTS (SELECT 1 FROM audience a WHERE a.identity=pf.followed
                        AND (a.followed>0 OR a.blocked>0))
       AND pf.followed IS NOT ?2
     GROUP BY pf.followed ORDER BY n DESC, i.identity LIMIT ?1";

impl Store {
    /// Who to follow: people those followed here say publicly that they
    /// follow, most such followers first, with the names of up to three.
    pub fn suggestions(&self, limit: usize) -> Result<Vec<Suggestion>> {
        let rows: Vec<(Vec<u8>, u64, Option<String>)> = self
            .conn
            .prepare_cached(SUGGESTIONS_SQL)?
            .query_map(
                params![
                    limit.clamp(1, 50) as i64,
                    super::usage::self_row(&self.conn)?
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?
            .collect::<std::result::Result<_, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (identity, followers, names) in rows {
            let identity = IdentityId(blob32(identity)?);
            let mut followed_by: Vec<String> = names
                .unwrap_or_default()
                .split('\u{1f}')
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect();
            followed_by.sort();
            followed_by.truncate(3);
            let key_held = self
                .conn
                .prepare_cached(
                    "SELECT 1 FROM keys k JOIN spaces s ON s.id=k.space
                     WHERE s.space=?1 AND k.epoch=0",
                )?
                .query_row([crate::space::feed_space_id(&identity).as_bytes()], |_| {
                    Ok(())
                })
                .optional()?
                .is_some();
            out.push(Suggestion {
                profile: self.profile(&identity)?,
                followers,
                followed_by,
                key_held,
            });
        }
        Ok(out)
    }
}

impl Store {
    /// What `identity`'s newest public follow list held here names.
    pub fn public_follows_of(&self, identity: &IdentityId) -> Result<Vec<IdentityId>> {
        let who = identity_row(&self.conn, identity)?;
        let rows: Vec<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT i.identity FROM public_follows pf JOIN identities i ON i.id=pf.followed
                 WHERE pf.identity=?1 ORDER BY i.identity",
            )?
            .query_map([who], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        rows.into_iter()
            .map(|b| blob32(b).map(IdentityId))
            .collect()
    }

    /// Whether `identity` has published a public follow list held here
    /// (an empty one included).
    pub fn has_follow_list(&self, identity: &IdentityId) -> Result<bool> {
        let who = identity_row(&self.conn, identity)?;
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM follow_lists WHERE identity=?1")?
            .exists([who])?)
    }
}
