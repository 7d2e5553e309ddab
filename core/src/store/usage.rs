//! What the store holds, by kind of data and by author, and the budgets
//! that eviction (evict.rs) keeps it within.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};

use super::{Result, Store, blob32};
use crate::id::IdentityId;
use crate::space::SpaceKind;
use crate::view::{AuthorUse, Budgets, StorageKind, StorageUse};

/// About what one entry row takes beyond its id, signature and payload:
/// its integers, the row header and its two index entries.
const ROW_OVERHEAD: u64 = 40;
/// Authors listed in the report.
const BIGGEST: usize = 10;
/// Where the budgets live in `meta`.
const BUDGETS_KEY: &str = "budgets";

/// This identity's row in `identities`, once it has one.
pub(super) fn self_row(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT i.id FROM identities i JOIN meta m ON m.key='self' AND m.value=i.identity",
        )?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// The kind of data a log holds, seen from this device.
fn kind_of_log(own: bool, space: Option<SpaceKind>, followed: bool) -> StorageKind {
    match (own, space) {
        (true, _) | (_, Some(SpaceKind::Account)) => StorageKind::Own,
        (_, Some(SpaceKind::Group)) => StorageKind::Groups,
        (_, Some(SpaceKind::Direct)) => StorageKind::Conversations,
        (_, Some(SpaceKind::Feed)) if followed => StorageKind::Followed,
        _ => StorageKind::Mirrored,
    }
}

/// Counts and bytes, added up.
#[derive(Default, Clone, Copy)]
struct Tally {
    count: u64,
    bytes: u64,
}

impl Tally {
    fn add(&mut self, count: u64, bytes: u64) {
        self.count += count;
        self.bytes += bytes;
    }
}

impl Store {
    /// What the store holds: rows and bytes in all, by kind of data, and
    /// the people whose data takes the most room.
    pub fn storage(&self) -> Result<crate::view::Storage> {
        let (entries, posts, logs) = self.counts()?;
        let me = self_row(&self.conn)?;
        let mut kinds: BTreeMap<StorageKind, Tally> = BTreeMap::new();
        let mut authors: BTreeMap<i64, Tally> = BTreeMap::new();
        let mut payload_bytes = 0;
        let mut headers_only = 0;
        {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT l.identity, s.kind, coalesce(a.followed, 0), count(e.id),
                        coalesce(sum(length(e.hash) + length(e.sig) + coalesce(length(e.payload), 0)
                                     + coalesce(length(e.dropped), 0) + {ROW_OVERHEAD}), 0),
                        coalesce(sum(length(e.payload)), 0), coalesce(sum(e.payload IS NULL), 0)
                 FROM logs l JOIN spaces s ON s.id=l.space
                 LEFT JOIN audience a ON a.identity=s.owner
                 LEFT JOIN entries e ON e.log=l.id GROUP BY l.id"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let who: Option<i64> = r.get(0)?;
                let space = SpaceKind::from_code(r.get(1)?);
                let followed: i64 = r.get(2)?;
                let (n, bytes, payload): (u64, u64, u64) = (r.get(3)?, r.get(4)?, r.get(5)?);
                payload_bytes += payload;
                headers_only += r.get::<_, u64>(6)?;
                let own = who.is_some() && who == me;
                kinds
                    .entry(kind_of_log(own, space, followed != 0))
                    .or_default()
                    .add(n, bytes);
                if let (Some(w), false) = (who, own) {
                    authors.entry(w).or_default().add(n, bytes);
                }
            }
        }
        let mut blob_bytes = 0;
        {
            // A blob is its poster's: the log that wanted it, or (own and
            // older rows) the feed it is stored in; a group's or
            // conversation's blob of unknown origin counts as this
            // device's own, and is never evicted.
            let mut stmt = self.conn.prepare(
                "SELECT CASE WHEN b.log IS NOT NULL THEN l.identity
                             WHEN s.kind=1 THEN s.owner END,
                        b.log IS NULL AND s.kind<>1, count(*), sum(length(b.data))
                 FROM blobs b JOIN spaces s ON s.id=b.space LEFT JOIN logs l ON l.id=b.log
                 GROUP BY 1, 2",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let who: Option<i64> = r.get(0)?;
                let unknown: bool = r.get(1)?;
                let (n, bytes): (u64, u64) = (r.get(2)?, r.get(3)?);
                blob_bytes += bytes;
                let own = unknown || (who.is_some() && who == me);
                let kind = if own {
                    StorageKind::OwnMedia
                } else {
                    StorageKind::MediaCache
                };
                kinds.entry(kind).or_default().add(n, bytes);
                if let (Some(w), false) = (who, own) {
                    authors.entry(w).or_default().add(0, bytes);
                }
            }
        }
        let index: u64 = self.conn.query_row(
            "SELECT coalesce(sum(length(block)), 0) FROM posts_fts_data",
            [],
            |r| r.get(0),
        )?;
        kinds.insert(
            StorageKind::SearchIndex,
            Tally {
                count: posts,
                bytes: index,
            },
        );
        let (file_bytes, free_bytes): (u64, u64) = self.conn.query_row(
            "SELECT (SELECT page_count FROM pragma_page_count) * (SELECT page_size FROM pragma_page_size),
                    (SELECT freelist_count FROM pragma_freelist_count) * (SELECT page_size FROM pragma_page_size)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let wal_bytes = self
            .conn
            .path()
            .filter(|p| !p.is_empty())
            .and_then(|p| std::fs::metadata(format!("{p}-wal")).ok())
            .map_or(0, |m| m.len());
        Ok(crate::view::Storage {
            entries,
            posts,
            logs,
            waiting: self.waiting()?,
            payload_bytes,
            blob_bytes,
            file_bytes,
            free_bytes,
            wal_bytes,
            kinds: kinds
                .into_iter()
                .map(|(kind, t)| StorageUse {
                    kind,
                    count: t.count,
                    bytes: t.bytes,
                })
                .collect(),
            biggest: self.biggest(authors)?,
            headers_only,
            budgets: self.budgets()?,
        })
    }

    /// The largest of `authors` (identity rows), named.
    fn biggest(&self, authors: BTreeMap<i64, Tally>) -> Result<Vec<AuthorUse>> {
        let mut all: Vec<(i64, Tally)> = authors.into_iter().collect();
        all.sort_by_key(|(row, t)| (std::cmp::Reverse(t.bytes), *row));
        let mut out = Vec::new();
        for (row, t) in all.into_iter().take(BIGGEST) {
            let (identity, name): (Vec<u8>, Option<String>) = self
                .conn
                .prepare_cached(
                    "SELECT i.identity, p.name FROM identities i
                     LEFT JOIN profiles p ON p.identity=i.id WHERE i.id=?1",
                )?
                .query_row([row], |r| Ok((r.get(0)?, r.get(1)?)))?;
            out.push(AuthorUse {
                identity: IdentityId(blob32(identity)?),
                name,
                entries: t.count,
                bytes: t.bytes,
            });
        }
        Ok(out)
    }

    /// The budgets eviction keeps this store within (the defaults until
    /// the user sets others).
    pub fn budgets(&self) -> Result<Budgets> {
        Ok(self
            .meta(BUDGETS_KEY)?
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default())
    }

    /// Sets the budgets; the next storage check keeps to them.
    pub fn set_budgets(&self, budgets: &Budgets) -> Result<()> {
        let json = serde_json::to_vec(budgets)
            .map_err(|e| super::StoreError::Corrupt(format!("budgets: {e}")))?;
        self.set_meta(BUDGETS_KEY, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_sorted_into_kinds() {
        use StorageKind as K;
        assert_eq!(kind_of_log(true, Some(SpaceKind::Feed), false), K::Own);
        assert_eq!(kind_of_log(true, Some(SpaceKind::Group), false), K::Own);
        assert_eq!(kind_of_log(false, Some(SpaceKind::Account), false), K::Own);
        assert_eq!(kind_of_log(false, Some(SpaceKind::Feed), true), K::Followed);
        assert_eq!(
            kind_of_log(false, Some(SpaceKind::Feed), false),
            K::Mirrored
        );
        assert_eq!(kind_of_log(false, None, true), K::Mirrored);
        assert_eq!(kind_of_log(false, Some(SpaceKind::Group), true), K::Groups);
        assert_eq!(
            kind_of_log(false, Some(SpaceKind::Direct), false),
            K::Conversations
        );
    }

    #[test]
    fn budgets_round_trip_and_default() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.budgets().unwrap(), Budgets::default());
        let b = Budgets {
            media_cache_bytes: 5,
            others_posts_bytes: 6,
            keep_others_posts_days: 7,
        };
        s.set_budgets(&b).unwrap();
        assert_eq!(s.budgets().unwrap(), b);
    }
}
