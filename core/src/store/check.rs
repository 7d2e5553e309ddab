//! Checking the store and counting what it holds.

use rusqlite::params;

use super::{Result, Store, blob32, posts, project};
use crate::entry::Entry;
use crate::id::{DeviceId, IdentityId, SpaceId};
use crate::space::SpaceKind;

impl Store {
    /// Every readable post entry must be projected (or tombstoned).
    pub(super) fn check_projection(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut keys = project::Keys::default();
        type Row = (
            i64,
            Vec<u8>,
            Option<i64>,
            Vec<u8>,
            Vec<u8>,
            u64,
            Option<Vec<u8>>,
        );
        let rows: Vec<Row> = self
            .conn
            .prepare(
                "SELECT e.id, e.hash, l.identity, s.space, l.device, e.seq, i.identity
                 FROM entries e JOIN logs l ON l.id=e.log JOIN spaces s ON s.id=l.space
                 LEFT JOIN identities i ON i.id=l.identity
                 WHERE s.kind IN (1, 3, 4) AND e.payload IS NOT NULL",
            )?
            .query_map([], |r| r.try_into())?
            .collect::<std::result::Result<_, _>>()?;
        for (row, hash, identity, space, device, seq, writer) in rows {
            let Some(crate::record::Record::Post(_)) =
                project::open_stored(&self.conn, &mut keys, row)?
            else {
                continue;
            };
            // A post written past its writer's removal from a group is kept
            // and not shown, on purpose.
            if let (Some(info), Some(writer)) = (
                project::space_info(&self.conn, &SpaceId(blob32(space)?))?,
                writer,
            ) {
                let m = super::membership::membership(&self.conn, &mut keys, &info)?;
                let limit = m.limit(&IdentityId(blob32(writer)?), &DeviceId(blob32(device)?));
                if info.kind == Some(SpaceKind::Group) && limit.is_some_and(|l| seq > l) {
                    continue;
                }
            }
            let projected: bool = self
                .conn
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM posts WHERE ts=(SELECT ts FROM entries WHERE id=?1) AND id=?1)
                         OR EXISTS(SELECT 1 FROM deletes WHERE target=?2 AND identity=?3)",
                )?
                .query_row(params![row, hash, identity], |r| r.get(0))?;
            if !projected {
                problems.push(format!(
                    "post entry {} is stored but not projected",
                    crate::id::hex(&hash)
                ));
            }
        }
        Ok(problems)
    }

    /// Re-verifies every stored entry (signatures, chains, payload hashes)
    /// and the derived tables' basic consistency.
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        let ok: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if ok != "ok" {
            report
                .problems
                .push(format!("sqlite integrity_check: {ok}"));
        }
        let mut cache = crate::entry::KeyCache::default();
        let mut batch = Vec::with_capacity(1024);
        let mut verify = |batch: &mut Vec<Entry>, report: &mut CheckReport| {
            for (e, r) in batch
                .iter()
                .zip(crate::entry::verify_batch(batch, &mut cache))
            {
                report.entries += 1;
                if let Err(err) = r {
                    report.problems.push(format!("entry {}: {err}", e.id()));
                }
            }
            batch.clear();
        };
        let res = self.for_each_entry(None, |e| {
            batch.push(e);
            if batch.len() == 1024 {
                verify(&mut batch, &mut report);
            }
            Ok(())
        });
        verify(&mut batch, &mut report);
        if let Err(e) = res {
            report.problems.push(e.to_string());
        }
        let heads_bad: i64 = self.conn.query_row(
            "SELECT count(*) FROM logs l LEFT JOIN
               (SELECT log, count(*) AS n, max(seq) AS top FROM entries GROUP BY log) c ON c.log=l.id
             WHERE l.seq != coalesce(c.n, 0) OR l.seq != coalesce(c.top, 0)
               OR (l.seq > 0 AND NOT EXISTS (SELECT 1 FROM entries e
                   WHERE substr(e.hash, 1, 8)=substr(l.head, 1, 8) AND e.hash=l.head AND e.log=l.id AND e.seq=l.seq))",
            [],
            |r| r.get(0),
        )?;
        if heads_bad > 0 {
            report.problems.push(format!(
                "{heads_bad} logs whose frontier does not match their entries"
            ));
        }
        let orphans: i64 = self.conn.query_row(
            "SELECT count(*) FROM posts p WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.id=p.id)",
            [],
            |r| r.get(0),
        )?;
        if orphans > 0 {
            report
                .problems
                .push(format!("{orphans} posts without an entry"));
        }
        let miscounted: i64 = self.conn.query_row(
            "SELECT count(*) FROM (SELECT author, count(*) AS c FROM posts GROUP BY author) p
             LEFT JOIN post_counts k ON k.identity=p.author WHERE k.n IS NOT p.c",
            [],
            |r| r.get(0),
        )?;
        if miscounted > 0 {
            report
                .problems
                .push(format!("{miscounted} authors whose post count is wrong"));
        }
        if let Err(e) = self.conn.execute(
            "INSERT INTO posts_fts(posts_fts) VALUES('integrity-check')",
            [],
        ) {
            report.problems.push(format!("search index: {e}"));
        }
        let stray_tags: i64 = self.conn.query_row(
            "SELECT count(*) FROM tags t WHERE NOT EXISTS
               (SELECT 1 FROM entries e JOIN posts p ON p.ts=e.ts AND p.id=e.id WHERE e.id=t.post)",
            [],
            |r| r.get(0),
        )?;
        if stray_tags > 0 {
            report
                .problems
                .push(format!("{stray_tags} hashtags of posts no longer shown"));
        }
        report.problems.extend(self.check_projection()?);
        Ok(report)
    }

    /// Counts of stored rows, for reports: (entries, posts, logs).
    pub fn counts(&self) -> Result<(u64, u64, u64)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM posts), (SELECT count(*) FROM logs)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }

    /// Entries waiting in `pending` for an earlier entry of their log.
    pub fn waiting(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM pending", [], |r| r.get(0))?)
    }

    /// Total bytes of stored payloads (for storage-overhead figures).
    pub fn payload_bytes(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT coalesce(sum(length(payload)), 0) FROM entries",
            [],
            |r| r.get(0),
        )?)
    }

    /// Bytes on disk per table and index (SQLite's `dbstat`), largest first.
    pub fn table_sizes(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Checkpoints the WAL into the main database file.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    /// The query plans of the read queries (to check they use indexes).
    #[doc(hidden)]
    pub fn explain_reads(&self) -> Result<Vec<(String, String)>> {
        posts::explain(&self.conn)
    }
}

/// A consistency report from [`Store::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Entries checked.
    pub entries: u64,
    /// Problems found (empty when all is well).
    pub problems: Vec<String>,
}

impl CheckReport {
    /// The report as commands show it.
    pub fn summary(&self) -> crate::view::CheckSummary {
        crate::view::CheckSummary {
            ok: self.problems.is_empty(),
            entries: self.entries,
            problems: self.problems.clone(),
        }
    }
}
