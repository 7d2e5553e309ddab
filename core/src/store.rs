//! The SQLite store: entries, logs and frontiers, derived tables, full-text
//! index and blobs.
//!
//! One database per device profile, in WAL mode with `synchronous=FULL`, so a
//! committed transaction survives a crash. Every import is verified first and
//! then committed batch by batch, one transaction per batch: a batch is in the
//! store whole or not at all. Timelines and threads are served from derived
//! tables; payloads are decrypted only for the rows a page shows.

mod group;
mod import;
mod membership;
mod notify;
mod project;
mod query;
mod serve;
mod watch;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::bundle::BundleWriter;
use crate::crypto::SpaceKey;
use crate::doc::DocError;
use crate::entry::{Entry, EntryError, Header};
use crate::id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};
use crate::space::SpaceKind;

pub use crate::view::{Notification, NotificationKind, Page, PostView, ProfileView};
pub use import::{
    COMMIT_BATCH, ImportReport, MAX_DEVICES_PER_IDENTITY, MAX_LOGS_PER_SPACE, MAX_REJECTIONS_KEPT,
    Rejection, Verified,
};
pub use query::MAX_AHEAD_MS;
pub use serve::ServedTo;
pub use watch::Want;

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

/// Most rows the peers table keeps for peers not introduced by a ticket.
pub const MAX_PEERS: i64 = 4096;

/// Reaction kinds in the `reactions` table.
pub(crate) const LIKE: i64 = 1;
pub(crate) const REPOST: i64 = 2;

/// Which key a new entry is sealed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seal {
    /// The newest epoch held: what only current members read.
    Newest,
    /// Epoch 0: what every member who ever joined reads — a group's
    /// membership, its name, the certificates that open logs — so that a
    /// newcomer, whose invite carries epoch 0 and the newest keys only,
    /// can check them all.
    First,
}

/// The head of one device's log in one space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    /// Highest seq held.
    pub seq: u64,
    /// Id of the entry at that seq.
    pub id: EntryId,
    /// Timestamp of that entry.
    pub timestamp: u64,
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

/// Adds `column` (with its SQL declaration) to `table` unless it is there.
fn add_column(conn: &Connection, table: &str, column: &str, decl: &str) -> Result<()> {
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
fn migrate(conn: &Connection) -> Result<bool> {
    add_column(conn, "posts", "space", "INTEGER")?;
    add_column(conn, "entries", "version", "INTEGER NOT NULL DEFAULT 1")?;
    add_column(conn, "audience", "blocked", "INTEGER NOT NULL DEFAULT 0")?;
    // A group's timeline, newest first.
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS posts_space ON posts(space, ts) WHERE space IS NOT NULL",
    )?;
    // When a like or repost was made, for notifications (older rows: NULL).
    add_column(conn, "reactions", "ts", "INTEGER")?;
    add_column(conn, "spaces", "nonce", "BLOB")?;
    add_column(conn, "wants", "len", "INTEGER")?;
    add_column(conn, "peers", "introduced", "INTEGER NOT NULL DEFAULT 0")?;
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

    fn setup(conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
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
        let mut store = Self {
            conn,
            keys: project::Keys::default(),
        };
        if rescan {
            store.rederive_revocations()?;
        }
        Ok(store)
    }

    /// Reads every revocation again from the feeds held (stores made
    /// before revocations named their issuer).
    fn rederive_revocations(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        let feeds: Vec<SpaceId> = {
            let mut stmt = tx.prepare("SELECT space FROM spaces WHERE kind=?1")?;
            let rows = stmt.query_map([SpaceKind::Feed.code()], |r| r.get::<_, Vec<u8>>(0))?;
            rows.map(|r| Ok(SpaceId(blob32(r?)?)))
                .collect::<Result<_>>()?
        };
        for feed in feeds {
            let Some(info) = project::space_info(&tx, &feed)? else {
                continue;
            };
            project::rederive_revocations(&tx, &mut self.keys, &info)?;
        }
        tx.commit()?;
        Ok(())
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

    /// Registers a space of `kind` owned by `owner` with its epoch-0 `key`,
    /// and projects any entries of it already stored (mirrored before the key
    /// was known).
    pub fn add_space(
        &mut self,
        space: &SpaceId,
        kind: SpaceKind,
        owner: &IdentityId,
        key: &SpaceKey,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let mut changes = project::DocChanges::default();
        let added = project::add_space(&tx, &mut self.keys, space, kind, owner, key, &mut changes)?;
        if added {
            project::apply_doc_changes(&tx, &mut self.keys, changes)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every key of `space` held, by epoch (oldest first).
    pub fn space_keys(&mut self, space: &SpaceId) -> Result<Vec<(u32, SpaceKey)>> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(Vec::new());
        };
        let epochs: Vec<u32> = self
            .conn
            .prepare_cached("SELECT epoch FROM keys WHERE space=?1 ORDER BY epoch")?
            .query_map([row], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        let mut out = Vec::new();
        for e in epochs {
            if let Some(k) = project::key_for(&self.conn, &mut self.keys, row, e)? {
                out.push((e, k));
            }
        }
        Ok(out)
    }

    /// Keeps more keys of a space (a group's other epochs, from an invite)
    /// and projects the entries they open.
    pub fn add_epoch_keys(&mut self, space: &SpaceId, keys: &[(u32, SpaceKey)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        let mut changes = project::DocChanges::default();
        let info =
            project::space_info(&tx, space)?.ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
        for (epoch, key) in keys {
            project::add_epoch_key(&tx, &mut self.keys, &info, *epoch, key, &mut changes)?;
        }
        project::apply_doc_changes(&tx, &mut self.keys, changes)?;
        tx.commit()?;
        Ok(())
    }

    /// Lets this store unwrap group keys rotated for `identity`.
    pub(crate) fn set_identity(&mut self, identity: crate::identity::IdentityKey) {
        self.keys.me = Some(identity);
    }

    /// The key of `space` at `epoch`, if held.
    pub fn space_key(&mut self, space: &SpaceId, epoch: u32) -> Result<Option<SpaceKey>> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(None);
        };
        project::key_for(&self.conn, &mut self.keys, row, epoch)
    }

    /// Sets whether an identity is followed or muted in the local audience
    /// table (derived from the account document, or the owner themself).
    pub fn set_self(&self, identity: &IdentityId) -> Result<()> {
        let row = identity_row(&self.conn, identity)?;
        self.conn.execute(
            "INSERT INTO audience(identity, followed) VALUES(?1, 2)
             ON CONFLICT(identity) DO UPDATE SET followed=2",
            [row],
        )?;
        Ok(())
    }

    /// The head of `device`'s log in `space`.
    pub fn log_head(&self, space: &SpaceId, device: &DeviceId) -> Result<Option<LogHead>> {
        log_head(&self.conn, space, device)
    }

    /// Appends a new entry written on this device: reads the log head and
    /// stores the entry `make` builds from it (sealed with the key `seal`
    /// picks), in one write transaction so two processes never write the
    /// same seq.
    pub fn append(
        &mut self,
        space: &SpaceId,
        device: &DeviceId,
        seal: Seal,
        make: impl FnOnce(Option<LogHead>, &SpaceKey, u32) -> Entry,
    ) -> Result<Entry> {
        let made = self.append_with(
            space,
            device,
            seal,
            |_| Ok(Some(())),
            |head, key, epoch, ()| make(head, key, epoch),
        )?;
        made.ok_or_else(|| StoreError::Corrupt("append made no entry".into()))
    }

    /// Edits the space's document and appends the change as a new entry, in
    /// one write transaction (so two processes never build on the same doc
    /// state). `edit` returns the change bytes, or `None` for no change.
    pub fn append_change(
        &mut self,
        space: &SpaceId,
        device: &DeviceId,
        seal: Seal,
        edit: impl FnOnce(&mut crate::doc::Doc) -> Result<Option<Vec<u8>>, DocError>,
        make: impl FnOnce(Option<LogHead>, &SpaceKey, u32, &[u8]) -> Entry,
    ) -> Result<Option<Entry>> {
        self.append_with(
            space,
            device,
            seal,
            |tx| {
                let row =
                    space_row(tx, space)?.ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
                let mut doc = project::load_doc(tx, row)?;
                Ok(edit(&mut doc)?.map(|c| crate::record::Record::DocChange(c).encode()))
            },
            |head, key, epoch, plain| make(head, key, epoch, &plain),
        )
    }

    fn append_with<T>(
        &mut self,
        space: &SpaceId,
        device: &DeviceId,
        seal: Seal,
        prepare: impl FnOnce(&Connection) -> Result<Option<T>>,
        make: impl FnOnce(Option<LogHead>, &SpaceKey, u32, T) -> Entry,
    ) -> Result<Option<Entry>> {
        let res = Self::append_in(
            &mut self.conn,
            &mut self.keys,
            (space, device, seal),
            prepare,
            make,
        );
        if res.is_err() {
            // The transaction rolled back: forget what was cached in it.
            self.keys.clear();
        }
        res
    }

    fn append_in<T>(
        conn: &mut Connection,
        keys: &mut project::Keys,
        (space, device, seal): (&SpaceId, &DeviceId, Seal),
        prepare: impl FnOnce(&Connection) -> Result<Option<T>>,
        make: impl FnOnce(Option<LogHead>, &SpaceKey, u32, T) -> Entry,
    ) -> Result<Option<Entry>> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let Some(prepared) = prepare(&tx)? else {
            return Ok(None);
        };
        let head = log_head(&tx, space, device)?;
        let row = space_row(&tx, space)?.ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
        let epoch = match seal {
            Seal::Newest => project::current_epoch(&tx, row)?,
            Seal::First => 0,
        };
        let key = project::key_for(&tx, keys, row, epoch)?
            .ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
        let entry = make(head, &key, epoch, prepared);
        let mut apply = import::Apply::new(&tx, keys, now_ms());
        match apply.apply_one(&entry)? {
            import::Outcome::Accepted => {}
            import::Outcome::Rejected(reason) => return Err(StoreError::Refused(reason)),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "own new entry was not accepted: {other:?}"
                )));
            }
        }
        apply.finish()?;
        tx.commit()?;
        Ok(Some(entry))
    }

    /// This identity's private account space.
    pub fn account_space(&self) -> Result<Option<SpaceId>> {
        Ok(self
            .spaces_of_kind(SpaceKind::Account)?
            .into_iter()
            .next()
            .map(|(s, _)| s))
    }

    /// Every feed, group and conversation this store holds a key for (what
    /// sync asks peers for, and whose gossip topics a node joins).
    pub fn synced_spaces(&self) -> Result<Vec<SpaceId>> {
        Ok(self
            .spaces()?
            .into_iter()
            .filter(|(_, k)| {
                matches!(
                    k,
                    Some(SpaceKind::Feed | SpaceKind::Group | SpaceKind::Direct)
                )
            })
            .map(|(s, _)| s)
            .collect())
    }

    /// Remembers a peer's addresses (from a ticket or a connection).
    pub fn add_peer(&self, peer: &crate::ticket::PeerAddr) -> Result<()> {
        let addrs = peer.encode_reach();
        self.conn.execute(
            "INSERT INTO peers(device, addrs) VALUES(?1, ?2)
             ON CONFLICT(device) DO UPDATE SET addrs=?2",
            params![peer.device.as_bytes(), addrs],
        )?;
        Ok(())
    }

    /// Marks a peer as one a ticket this device took came with (a follow,
    /// a group invite, a device link): it is kept whatever the number of
    /// others, and its sessions may name every space held here.
    pub fn introduce_peer(&self, device: &DeviceId) -> Result<()> {
        self.conn.execute(
            "INSERT INTO peers(device, addrs, introduced) VALUES(?1, x'00', 1)
             ON CONFLICT(device) DO UPDATE SET introduced=1",
            [device.as_bytes()],
        )?;
        Ok(())
    }

    /// Notes that a peer was seen at `now_ms`.
    pub fn touch_peer(&self, device: &DeviceId, now_ms: u64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO peers(device, addrs, last_seen) VALUES(?1, x'00', ?2)
             ON CONFLICT(device) DO UPDATE SET last_seen=?2",
            params![device.as_bytes(), now_ms],
        )?;
        self.prune_peers()
    }

    /// Keeps the peers table to [`MAX_PEERS`] rows: any peer that connects
    /// gets a row, so the ones seen longest ago (and not introduced by a
    /// ticket) make room.
    pub(crate) fn prune_peers(&self) -> Result<()> {
        self.conn
            .prepare_cached(
                "DELETE FROM peers WHERE device IN (
                   SELECT device FROM peers WHERE introduced=0
                   ORDER BY coalesce(last_seen, 0) LIMIT max(0, (SELECT count(*) FROM peers) - ?1))",
            )?
            .execute([MAX_PEERS])?;
        Ok(())
    }

    /// Whether `device` is a peer this node has a reason to trust with the
    /// names of everything it holds: one a ticket came with, or a device
    /// that writes (under a certificate) in a space held here.
    pub fn is_related(&self, device: &DeviceId) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM peers WHERE device=?1 AND introduced=1)
                     OR EXISTS(SELECT 1 FROM logs l JOIN spaces s ON s.id=l.space
                               WHERE l.device=?1 AND l.identity IS NOT NULL AND s.kind>0)",
            )?
            .query_row([device.as_bytes()], |r| r.get(0))?)
    }

    /// Known peers and when each was last seen (ms), most recent first.
    pub fn peers(&self) -> Result<Vec<(crate::ticket::PeerAddr, Option<u64>)>> {
        let mut stmt = self.conn.prepare(
            "SELECT device, addrs, last_seen FROM peers ORDER BY last_seen DESC, device",
        )?;
        let rows = stmt.query_map([], peer_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(peer_of(row?)?);
        }
        Ok(out)
    }

    /// What this store knows of one peer's addresses.
    pub fn peer(&self, device: &DeviceId) -> Result<Option<crate::ticket::PeerAddr>> {
        let row = self
            .conn
            .prepare_cached("SELECT device, addrs, last_seen FROM peers WHERE device=?1")?
            .query_row([device.as_bytes()], peer_row)
            .optional()?;
        Ok(match row {
            Some(r) => Some(peer_of(r)?.0),
            None => None,
        })
    }

    /// Every space this store knows, with its kind when known.
    pub fn spaces(&self) -> Result<Vec<(SpaceId, Option<SpaceKind>)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT space, kind FROM spaces ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (s, k) = row?;
            out.push((SpaceId(blob32(s)?), SpaceKind::from_code(k)));
        }
        Ok(out)
    }

    /// Stores a sealed blob belonging to `space`.
    pub fn put_blob(&self, space: &SpaceId, hash: &Hash, data: &[u8]) -> Result<()> {
        let row = ensure_space(&self.conn, space)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO blobs(hash, space, data) VALUES(?1, ?2, ?3)",
            params![hash.as_bytes(), row, data],
        )?;
        self.conn
            .execute("DELETE FROM wants WHERE hash=?1", [hash.as_bytes()])?;
        Ok(())
    }

    /// Whether the store holds the blob `hash`.
    pub fn has_blob(&self, hash: &Hash) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM blobs WHERE hash=?1")?
            .exists([hash.as_bytes()])?)
    }

    /// A sealed blob by hash.
    pub fn blob(&self, hash: &Hash) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT data FROM blobs WHERE hash=?1",
                [hash.as_bytes()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The document of `space`, as stored.
    pub fn doc(&self, space: &SpaceId) -> Result<crate::doc::Doc> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(crate::doc::Doc::new());
        };
        project::load_doc(&self.conn, row)
    }

    /// Writes a bundle of every entry (and blob) of `spaces` held here.
    pub fn export(&self, spaces: &[SpaceId]) -> Result<Vec<u8>> {
        let mut w = BundleWriter::new();
        let mut rows = HashSet::new();
        for space in spaces {
            if let Some(row) = space_row(&self.conn, space)? {
                rows.insert(row);
            }
        }
        self.for_each_entry(Some(&rows), |e| {
            w.entry(&e.encode());
            Ok(())
        })?;
        let mut stmt = self
            .conn
            .prepare("SELECT b.hash, s.space, b.data FROM blobs b JOIN spaces s ON s.id=b.space ORDER BY b.id")?;
        let mut found = stmt.query([])?;
        while let Some(r) = found.next()? {
            let space = SpaceId(blob32(r.get(1)?)?);
            if !spaces.contains(&space) {
                continue;
            }
            let h = Hash(blob32(r.get(0)?)?);
            let d: Vec<u8> = r.get(2)?;
            w.blob(&h, &space, &d);
        }
        Ok(w.finish())
    }

    /// Calls `f` with every stored entry (of the given space rows, or all),
    /// rebuilt and checked against its stored id, in storage order: each
    /// log's entries come in seq order, as they were stored.
    fn for_each_entry(
        &self,
        spaces: Option<&HashSet<i64>>,
        mut f: impl FnMut(Entry) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(
            &format!(
                "SELECT {ENTRY_COLS}, l.id, l.space
                 FROM entries e JOIN logs l ON l.id=e.log JOIN spaces s ON s.id=l.space ORDER BY e.id"
            ),
        )?;
        let mut rows = stmt.query([])?;
        let mut heads: HashMap<i64, (u64, EntryId)> = HashMap::new();
        while let Some(r) = rows.next()? {
            let space_row: i64 = r.get(11)?;
            if spaces.is_some_and(|set| !set.contains(&space_row)) {
                continue;
            }
            let log: i64 = r.get(10)?;
            let seq: u64 = r.get(2)?;
            let previous = match heads.get(&log) {
                Some((s, id)) if *s + 1 == seq => Some(*id),
                None if seq == 1 => None,
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "log {log} is not stored in order at seq {seq}"
                    )));
                }
            };
            let e = rebuild(r, seq, previous)?;
            heads.insert(log, (seq, e.id()));
            f(e)?;
        }
        Ok(())
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
        report.problems.extend(self.check_projection()?);
        Ok(report)
    }

    /// Every readable post entry must be projected (or tombstoned).
    fn check_projection(&self) -> Result<Vec<String>> {
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
                let m = membership::membership(&self.conn, &mut keys, &info)?;
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

    /// Counts of stored rows, for reports: (entries, posts, logs).
    pub fn counts(&self) -> Result<(u64, u64, u64)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM posts), (SELECT count(*) FROM logs)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }

    /// What the store holds, in rows and bytes.
    pub fn storage(&self) -> Result<crate::view::Storage> {
        let (entries, posts, logs) = self.counts()?;
        let (blob_bytes, file_bytes): (u64, u64) = self.conn.query_row(
            "SELECT (SELECT coalesce(sum(length(data)), 0) FROM blobs),
                    (SELECT page_count * page_size FROM pragma_page_count, pragma_page_size)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(crate::view::Storage {
            entries,
            posts,
            logs,
            waiting: self.waiting()?,
            payload_bytes: self.payload_bytes()?,
            blob_bytes,
            file_bytes,
        })
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

    /// Evidence of equivocation: (space, device, seq) with two entries.
    pub fn equivocations(&self) -> Result<Vec<(SpaceId, DeviceId, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT space, device, seq FROM equivocations ORDER BY 1, 2, 3")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, u64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (s, d, q) = row?;
            out.push((blob32(s).map(SpaceId)?, blob32(d).map(DeviceId)?, q));
        }
        Ok(out)
    }

    /// The query plans of the read queries (to check they use indexes).
    #[doc(hidden)]
    pub fn explain_reads(&self) -> Result<Vec<(String, String)>> {
        query::explain(&self.conn)
    }
}

/// The columns [`rebuild`] reads, in order, from `entries e`, `logs l` and
/// `spaces s`.
pub(crate) const ENTRY_COLS: &str =
    "s.space, l.device, e.seq, e.ts, e.epoch, e.dropped, e.sig, e.payload, e.hash, e.version";

/// Rebuilds a stored entry from a row of [`ENTRY_COLS`] and the id of its
/// predecessor, and checks it against its stored id.
pub(crate) fn rebuild(r: &rusqlite::Row<'_>, seq: u64, previous: Option<EntryId>) -> Result<Entry> {
    let payload: Option<Vec<u8>> = r.get(7)?;
    let (payload_hash, payload_len) = match (&payload, r.get::<_, Option<Vec<u8>>>(5)?) {
        (Some(p), _) => (Hash::of(p), p.len() as u32),
        (None, Some(d)) if d.len() == 36 => {
            let hash =
                Hash::from_slice(&d[..32]).ok_or_else(|| StoreError::Corrupt("dropped".into()))?;
            let len = u32::from_le_bytes([d[32], d[33], d[34], d[35]]);
            (hash, len)
        }
        _ => {
            return Err(StoreError::Corrupt(
                "entry without payload or its hash".into(),
            ));
        }
    };
    let header = Header {
        version: r.get(9)?,
        space: blob32(r.get(0)?).map(SpaceId)?,
        author: blob32(r.get(1)?).map(DeviceId)?,
        seq,
        previous,
        timestamp: r.get(3)?,
        key_epoch: r.get(4)?,
        payload_hash,
        payload_len,
    };
    let sig: Vec<u8> = r.get(6)?;
    let sig = <[u8; 64]>::try_from(sig.as_slice())
        .map_err(|_| StoreError::Corrupt("signature length".into()))?;
    let e = Entry::from_parts(header, sig, payload)?;
    let stored = blob32(r.get(8)?).map(EntryId)?;
    if e.id() != stored {
        return Err(StoreError::Corrupt(format!(
            "entry {stored} does not rebuild to its id"
        )));
    }
    Ok(e)
}

pub(crate) fn blob32(v: Vec<u8>) -> Result<[u8; 32]> {
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| StoreError::Corrupt("expected 32 bytes".into()))
}

type PeerRow = (Vec<u8>, Vec<u8>, Option<u64>);

fn peer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PeerRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn peer_of((d, a, seen): PeerRow) -> Result<(crate::ticket::PeerAddr, Option<u64>)> {
    let device = DeviceId(blob32(d)?);
    Ok((crate::ticket::PeerAddr::decode_reach(device, &a), seen))
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

fn log_head(conn: &Connection, space: &SpaceId, device: &DeviceId) -> Result<Option<LogHead>> {
    conn.prepare_cached(
        "SELECT l.seq, l.head, e.ts FROM logs l JOIN spaces s ON s.id=l.space
             JOIN entries e ON substr(e.hash, 1, 8)=substr(l.head, 1, 8) AND e.hash=l.head
             WHERE s.space=?1 AND l.device=?2",
    )?
    .query_row(params![space.as_bytes(), device.as_bytes()], |r| {
        Ok((
            r.get::<_, u64>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, u64>(2)?,
        ))
    })
    .optional()?
    .map(|(seq, head, timestamp)| {
        blob32(head).map(|h| LogHead {
            seq,
            id: EntryId(h),
            timestamp,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// A store made before entries kept their header version (all its
    /// entries were version 1) opens, reads and checks clean.
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
            s.conn
                .execute_batch("ALTER TABLE entries DROP COLUMN version")
                .unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        assert!(s.check().unwrap().problems.is_empty());
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
