//! The SQLite store: entries, logs and frontiers, derived tables, full-text
//! index and blobs.
//!
//! One database per device profile, in WAL mode with `synchronous=FULL`, so a
//! committed transaction survives a crash. Every import is verified first and
//! then committed batch by batch, one transaction per batch: a batch is in the
//! store whole or not at all. Timelines and threads are served from derived
//! tables; payloads are decrypted only for the rows a page shows.

mod backups;
mod blobs;
mod check;
mod devices;
mod docs;
mod entries;
mod erase;
mod evict;
mod follows;
mod ingest;
mod keys;
mod membership;
mod notify;
mod peers;
mod posts;
mod project;
mod ratchet;
mod schema;
mod serve;
mod usage;
mod watch;

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::doc::DocError;
use crate::entry::EntryError;
use crate::id::{IdentityId, SpaceId};

pub use crate::view::{Notification, NotificationKind, Page, PostView, ProfileView};
pub use blobs::Want;
pub use check::CheckReport;
use docs::{apply_doc_changes, load_doc};
use entries::{ENTRY_COLS, rebuild};
pub use entries::{LogHead, Seal};
pub use evict::Eviction;
pub use ingest::{
    COMMIT_BATCH, ImportProgress, ImportReport, MAX_DEVICES_PER_IDENTITY, MAX_LOGS_PER_SPACE,
    MAX_REJECTIONS_KEPT, Rejection, Verified, pipeline,
};
pub use peers::MAX_PEERS;
pub use posts::MAX_AHEAD_MS;
pub use ratchet::store_key_of;
use schema::migrate;
pub use serve::ServedTo;

/// The store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Db(String),
    /// The bundle's framing is broken; nothing was imported.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    /// A stored row does not make a valid entry.
    #[error("store is inconsistent: {0}")]
    Corrupt(String),
    /// A document failed to load or change.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// An entry could not be built.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// The space has no key here.
    #[error("no key for space {0}")]
    NoKey(String),
    /// A post the command names is not in the store.
    #[error("post {0} not found")]
    PostNotFound(String),
    /// A blob's bytes do not hash to the hash it was asked for by.
    #[error("blob does not match its hash {0}")]
    BlobMismatch(String),
    /// A new entry of this device broke a rule of its space (a removed
    /// member writing to a group, a revoked device…).
    #[error("refused: {0}")]
    Refused(String),
    /// A timeline cursor that no page gave.
    #[error("bad cursor {0:?}: pass back the `next` of a page")]
    BadCursor(String),
}

impl StoreError {
    /// The error as a command returns it.
    pub fn view(&self) -> crate::view::ErrorView {
        use crate::view::ErrorKind as K;
        let kind = match self {
            StoreError::Db(_) | StoreError::Corrupt(_) => K::Storage,
            StoreError::NoKey(_) | StoreError::PostNotFound(_) => K::NotFound,
            StoreError::Refused(_) => K::NotAllowed,
            StoreError::Bundle(_)
            | StoreError::Doc(_)
            | StoreError::Entry(_)
            | StoreError::BlobMismatch(_)
            | StoreError::BadCursor(_) => K::Invalid,
        };
        crate::view::ErrorView::new(kind, self)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The system clock, in ms since the Unix epoch (the store dates what
/// waits in `pending`, and pages timelines from the present).
pub(crate) fn now_ms() -> u64 {
    crate::node::now_ms()
}

/// Reaction kinds in the `reactions` table.
pub(crate) const LIKE: i64 = 1;
pub(crate) const REPOST: i64 = 2;

/// A Starling store.
pub struct Store {
    conn: Connection,
    keys: project::Keys,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::setup(conn)
    }

    /// An in-memory store, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Every transaction here writes: take the write lock at BEGIN, so
        // that another process's commit (`starling run` beside a CLI
        // command) makes it wait for the lock rather than fail with
        // "database is locked" when a deferred one upgrades.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        // Import and projection use a few dozen distinct statements; the
        // default cache of 16 would re-prepare them all the time.
        conn.set_prepared_statement_cache_capacity(256);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "cache_size", -64000)?;
        // Checkpoint the WAL every ~40 MB rather than every 4 MB: fewer
        // double writes during large imports.
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
        conn.execute_batch(include_str!("store/schema.sql"))?;
        let rescan = migrate(&conn)?;
        erase::configure(&conn)?;
        let mut store = Self {
            conn,
            keys: project::Keys::default(),
        };
        if rescan {
            store.rederive_revocations()?;
        }
        Ok(store)
    }

    /// A value from the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key=?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a value in the `meta` table.
    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value=?2",
            params![key, value],
        )?;
        Ok(())
    }
}

pub(crate) fn blob32(v: Vec<u8>) -> Result<[u8; 32]> {
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| StoreError::Corrupt("expected 32 bytes".into()))
}

pub(crate) fn space_row(conn: &Connection, space: &SpaceId) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM spaces WHERE space=?1")?
        .query_row([space.as_bytes()], |r| r.get(0))
        .optional()?)
}

pub(crate) fn ensure_space(conn: &Connection, space: &SpaceId) -> Result<i64> {
    if let Some(r) = space_row(conn, space)? {
        return Ok(r);
    }
    conn.prepare_cached("INSERT INTO spaces(space) VALUES(?1)")?
        .execute([space.as_bytes()])?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn identity_row(conn: &Connection, identity: &IdentityId) -> Result<i64> {
    if let Some(r) = conn
        .prepare_cached("SELECT id FROM identities WHERE identity=?1")?
        .query_row([identity.as_bytes()], |r| r.get(0))
        .optional()?
    {
        return Ok(r);
    }
    conn.prepare_cached("INSERT INTO identities(identity) VALUES(?1)")?
        .execute([identity.as_bytes()])?;
    Ok(conn.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;
    use crate::synth::SynthAuthor;

    #[test]
    fn empty_store_checks_clean_and_keeps_meta() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.check().unwrap(), CheckReport::default());
        s.set_meta("k", b"v").unwrap();
        assert_eq!(s.meta("k").unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(s.meta("none").unwrap(), None);
    }

    #[test]
    fn entries_of_a_space_not_chosen_are_refused_and_kept_once_followed() {
        let mut a = SynthAuthor::new(3);
        let mut s = Store::open_in_memory().unwrap();
        let es = vec![a.cert(1), a.name("Ann", 2), a.post("hi", None, 3)];
        let r = s.import_entries(es.clone()).unwrap();
        assert_eq!((r.accepted, r.refused), (0, 3));
        assert!(r.rejected[0].reason.contains("not held here"), "{r:?}");
        assert_eq!(s.counts().unwrap(), (0, 0, 0), "nothing kept");
        assert!(s.spaces().unwrap().is_empty(), "not even a row");
        a.followed_by(&mut s).unwrap();
        let r = s.import_entries(es).unwrap();
        assert_eq!(r.accepted, 3);
        assert_eq!(s.counts().unwrap(), (3, 1, 1));
        assert_eq!(
            s.profile(&a.identity()).unwrap().name.as_deref(),
            Some("Ann")
        );
        assert!(s.check().unwrap().problems.is_empty());
    }

    #[test]
    fn export_rebuilds_identical_entries() {
        let mut a = SynthAuthor::new(4);
        let es = vec![a.cert(1), a.post("one", None, 2), a.post("two", None, 3)];
        let mut s = Store::open_in_memory().unwrap();
        a.followed_by(&mut s).unwrap();
        s.import_entries(es.clone()).unwrap();
        let bundle = s
            .export(&[crate::space::feed_space_id(&a.identity())])
            .unwrap();
        let items = crate::bundle::parse(&bundle).unwrap();
        let back: Vec<Entry> = items
            .iter()
            .map(|i| match i {
                crate::bundle::Item::Entry(b) => Entry::decode(b).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(back, es);
    }

    /// A store made before headers had a second format version (all its
    /// entries are version 1) opens, reads and checks clean.
    #[test]
    fn a_store_from_before_header_versions_opens_and_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let mut a = SynthAuthor::new(5);
        let first_format = |r: &crate::record::Record| {
            let mut b = r.encode();
            b.remove(1);
            b
        };
        // The author's certificate, as its current entry holds it.
        let real = SynthAuthor::new(5).cert(1);
        let real = crate::record::Record::decode(2, &real.open(a.space_key()).unwrap()).unwrap();
        let post = crate::record::Record::Post(crate::record::Post {
            text: "before versions".into(),
            reply_to: None,
            quote_of: None,
            images: vec![],
        });
        let es = vec![
            a.write_plain(1, &first_format(&real), 1),
            a.write_plain(1, &first_format(&post), 2),
        ];
        {
            let mut s = Store::open(&path).unwrap();
            a.followed_by(&mut s).unwrap();
            assert_eq!(s.import_entries(es.clone()).unwrap().accepted, 2);
            // As a store made before then had them: signatures alone.
            s.conn
                .execute_batch(
                    "UPDATE entries SET sig = substr(sig, 1, 64);
                     DELETE FROM meta WHERE key = 'entry_format';",
                )
                .unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        let report = s.check().unwrap();
        assert!(report.problems.is_empty(), "{report:?}");
        let shown = s.post(&es[1].id()).unwrap().unwrap();
        assert_eq!(shown.text, "before versions");
        let space = crate::space::feed_space_id(&a.identity());
        let items = crate::bundle::parse(&s.export(&[space]).unwrap())
            .unwrap()
            .into_iter()
            .map(|i| match i {
                crate::bundle::Item::Entry(b) => Entry::decode(b).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>();
        assert_eq!(items, es);
    }
}
