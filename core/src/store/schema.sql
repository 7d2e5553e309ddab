-- Starling store schema, version 1.
-- Entries are stored compactly: the space and device live once in `logs`,
-- the previous-entry hash is the id of the entry at seq - 1, and the payload
-- hash and length are kept (in `dropped`) only once the payload itself is
-- dropped. A post's reply and quote targets live in its sealed payload;
-- `posts.reply_to` is kept for the thread index. A log's entries are
-- stored in seq order (a gap waits in `pending`), so row order is chain
-- order and no (log, seq) index is kept.
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS identities(id INTEGER PRIMARY KEY, identity BLOB NOT NULL UNIQUE);
-- The spaces this store holds: chosen ones have a kind, an owner and an
-- epoch-0 key. `nonce` is a group's (its id hashes the owner and it).
-- `departed`: a group this device left; its content is dropped and what
-- arrives for it later is kept as headers only (erase.rs).
CREATE TABLE IF NOT EXISTS spaces(
  id INTEGER PRIMARY KEY,
  space BLOB NOT NULL UNIQUE,
  kind INTEGER NOT NULL DEFAULT 0,
  owner INTEGER,
  nonce BLOB,
  departed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS keys(
  space INTEGER NOT NULL, epoch INTEGER NOT NULL, key BLOB NOT NULL,
  PRIMARY KEY(space, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs(
  id INTEGER PRIMARY KEY,
  space INTEGER NOT NULL,
  device BLOB NOT NULL,
  identity INTEGER,
  seq INTEGER NOT NULL,
  head BLOB NOT NULL,
  compromised INTEGER NOT NULL DEFAULT 0,
  evicted_to INTEGER NOT NULL DEFAULT 0,
  UNIQUE(space, device)
);
-- `evicted_to`: posts of this log up to that seq were evicted to headers
-- (storage budgets, evict.rs); the log is served only to peers past it.
CREATE TABLE IF NOT EXISTS entries(
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL,
  log INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  sig BLOB NOT NULL,
  dropped BLOB,
  payload BLOB
);
-- `sig` is the header's signature, then — only for an entry whose header
-- is not of the current format version — that version in one byte
-- (entries.rs: `stored_sig`), so current entries pay nothing for it.
-- Entries are found by id through an index of the id's first 8 bytes (the
-- full id is compared too): a third the size of an index of whole ids.
CREATE INDEX IF NOT EXISTS entries_id ON entries(substr(hash, 1, 8));
-- A log's entries in order (row order is seq order within a log), for sync
-- to send exactly the entries a peer lacks.
CREATE INDEX IF NOT EXISTS entries_log ON entries(log);
CREATE TABLE IF NOT EXISTS equivocations(
  space BLOB NOT NULL, device BLOB NOT NULL, seq INTEGER NOT NULL, entry BLOB NOT NULL,
  PRIMARY KEY(space, device, seq, entry)
) WITHOUT ROWID;
-- Posts keyed by (timestamp, entry row): the table is itself the
-- timeline's index, walked backwards from the newest.
-- `space` is NULL for feed posts and the space row for a group's posts,
-- so the home timeline leaves group posts out without a join.
CREATE TABLE IF NOT EXISTS posts(
  ts INTEGER NOT NULL,
  id INTEGER NOT NULL,
  author INTEGER NOT NULL,
  reply_to BLOB,
  edit INTEGER,
  space INTEGER,
  PRIMARY KEY(ts, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS posts_reply ON posts(reply_to) WHERE reply_to IS NOT NULL;
-- Posts held per author (a counter rather than an index by author).
CREATE TABLE IF NOT EXISTS post_counts(identity INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reactions(
  target BLOB NOT NULL, kind INTEGER NOT NULL, identity INTEGER NOT NULL,
  PRIMARY KEY(target, kind, identity)
) WITHOUT ROWID;
-- Likes and reposts taken back: per identity and post, the latest time.
-- A reaction counts only when made after it (reactions.ts is the latest).
CREATE TABLE IF NOT EXISTS unreactions(
  target BLOB NOT NULL, kind INTEGER NOT NULL, identity INTEGER NOT NULL, ts INTEGER NOT NULL,
  PRIMARY KEY(target, kind, identity)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edits(
  target BLOB NOT NULL, entry INTEGER NOT NULL, identity INTEGER NOT NULL,
  PRIMARY KEY(target, entry)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deletes(
  target BLOB NOT NULL, identity INTEGER NOT NULL,
  PRIMARY KEY(target, identity)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs(space INTEGER PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS profiles(identity INTEGER PRIMARY KEY, name TEXT, bio TEXT, avatar BLOB);
CREATE TABLE IF NOT EXISTS audience(
  identity INTEGER PRIMARY KEY,
  followed INTEGER NOT NULL DEFAULT 0,
  muted INTEGER NOT NULL DEFAULT 0,
  blocked INTEGER NOT NULL DEFAULT 0
);
-- `log`: the log whose post named the blob, when it came wanted (NULL for
-- this device's own and older rows).
CREATE TABLE IF NOT EXISTS blobs(
  id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, space INTEGER NOT NULL, data BLOB NOT NULL,
  log INTEGER
);
-- Images evicted from the media cache: fetched again (moved to `wants`)
-- when a post that shows one is shown.
CREATE TABLE IF NOT EXISTS evicted_blobs(
  hash BLOB PRIMARY KEY, space INTEGER NOT NULL, log INTEGER NOT NULL, len INTEGER
) WITHOUT ROWID;
-- Blobs that stored posts refer to and this store lacks: what a running
-- node fetches from its peers.
-- `len` is the size the post declared for the sealed blob: a fetch stops there.
CREATE TABLE IF NOT EXISTS wants(
  hash BLOB PRIMARY KEY, space INTEGER NOT NULL, log INTEGER NOT NULL, len INTEGER
);
-- Search needs which posts hold a word, not where in the post or how long
-- it is: no positions (detail=none), no sizes (columnsize=0), no copy of
-- the text (content=''). Removing a row hands FTS5 the text it indexed,
-- read back by decrypting the post or its winning edit.
CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5(
  text, content='', detail=none, columnsize=0,
  tokenize='unicode61 remove_diacritics 2'
);
-- The hashtags of each post in the search index (`crate::hashtag`),
-- kept and dropped with its index row; `ts` orders a tag's posts.
CREATE TABLE IF NOT EXISTS tags(
  tag TEXT NOT NULL, ts INTEGER NOT NULL, post INTEGER NOT NULL,
  PRIMARY KEY(tag, ts, post)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_post ON tags(post);
CREATE INDEX IF NOT EXISTS tags_recent ON tags(ts);
-- Every key a group's rotations gave this identity, by epoch and rotation
-- entry id. Two rotations to the same epoch (two devices of the admin,
-- apart) both count: entries sealed with either open, and the key in
-- `keys` — the one new entries are sealed with — is that of the rotation
-- with the lowest id, whatever the order they arrived in.
CREATE TABLE IF NOT EXISTS rotated_keys(
  space INTEGER NOT NULL, epoch INTEGER NOT NULL, rotation BLOB NOT NULL, key BLOB NOT NULL,
  PRIMARY KEY(space, epoch, rotation)
) WITHOUT ROWID;
-- Revocations, each by the identity whose feed carries it (the issuer):
-- it counts only for a device whose logs that identity certified. Per space,
-- the last seq of the device still accepted (none in a space not listed).
CREATE TABLE IF NOT EXISTS revocations(
  device BLOB NOT NULL, issuer INTEGER NOT NULL, PRIMARY KEY(device, issuer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revocation_heads(
  device BLOB NOT NULL, issuer INTEGER NOT NULL, space BLOB NOT NULL, last INTEGER NOT NULL,
  PRIMARY KEY(device, issuer, space)
) WITHOUT ROWID;
-- A group's membership operations (joins, removals, leaves), one row per
-- entry that holds one: membership is folded from them (membership.rs).
CREATE TABLE IF NOT EXISTS group_ops(
  entry INTEGER PRIMARY KEY, space INTEGER NOT NULL, op BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS group_ops_space ON group_ops(space);
-- The newest account backup of each identity (by timestamp, then id):
-- only its payload is kept, older ones keep their headers (backups.rs).
CREATE TABLE IF NOT EXISTS backups(
  identity INTEGER PRIMARY KEY, entry INTEGER NOT NULL, ts INTEGER NOT NULL, hash BLOB NOT NULL
);
-- Public follow lists (`Record::Follows`): each identity's newest, as
-- `backups` keeps backups; `public_follows` holds the names it lists, for
-- "follows you" (by `followed`) and "who to follow".
CREATE TABLE IF NOT EXISTS follow_lists(
  identity INTEGER PRIMARY KEY, entry INTEGER NOT NULL, ts INTEGER NOT NULL, hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS public_follows(
  identity INTEGER NOT NULL, followed INTEGER NOT NULL,
  PRIMARY KEY(identity, followed)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS public_follows_followed ON public_follows(followed);
-- Verified entries that arrived before their predecessor; applied when it comes.
-- Bounded per log and in all, and dropped after a day (`arrived`, ms);
-- `certified`: the log's certificate was held when it came.
CREATE TABLE IF NOT EXISTS pending(
  space BLOB NOT NULL, device BLOB NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL,
  entry BLOB NOT NULL, arrived INTEGER NOT NULL DEFAULT 0, certified INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY(space, device, seq, hash)
);
-- Peers this device knows: their device (endpoint) id, direct addresses
-- (postcard list of socket addresses), when they were last seen, and what
-- the last sync sessions with them covered (postcard): `asked`, the spaces
-- this device asked them about and whether each was served; `named`, the
-- spaces they asked this device about.
-- `introduced`: the peer came with a ticket this device took (follow,
-- group join, device link); the table keeps at most a few thousand others.
CREATE TABLE IF NOT EXISTS peers(
  device BLOB PRIMARY KEY, addrs BLOB NOT NULL, last_seen INTEGER, asked BLOB, named BLOB,
  introduced INTEGER NOT NULL DEFAULT 0, path INTEGER, rtt_ms INTEGER
) WITHOUT ROWID;
-- This device's ratchet state (crate::ratchet), sealed under the store
-- key (store/ratchet.rs).
CREATE TABLE IF NOT EXISTS ratchet_state(
  id INTEGER PRIMARY KEY CHECK (id = 0), sealed BLOB NOT NULL
);
-- The newest keys each device published for forward-secret messages.
CREATE TABLE IF NOT EXISTS device_keys(
  device BLOB PRIMARY KEY, identity INTEGER NOT NULL, ts INTEGER NOT NULL, keys BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS device_keys_identity ON device_keys(identity);
-- The record inside a ratcheted entry once opened here, sealed under the
-- store key; it goes with the entry's payload.
CREATE TABLE IF NOT EXISTS opened(entry INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS opened_dropped AFTER UPDATE OF payload ON entries
  WHEN new.payload IS NULL BEGIN DELETE FROM opened WHERE entry = new.id; END;
CREATE TRIGGER IF NOT EXISTS opened_deleted AFTER DELETE ON entries
  BEGIN DELETE FROM opened WHERE entry = old.id; END;
