//! Automerge documents: loaded only to apply a change, merged once per
//! transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, Store, StoreError, identity_row, project, space_row};
use crate::crypto::SpaceKey;
use crate::doc::Doc;
use crate::id::SpaceId;
use crate::space::SpaceKind;
use crate::space::feed_space_id;
use project::{DocChanges, Keys, add_space, is_self, want_blob};

impl Store {
    /// The document of `space`, as stored.
    pub fn doc(&self, space: &SpaceId) -> Result<crate::doc::Doc> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(crate::doc::Doc::new());
        };
        load_doc(&self.conn, row)
    }
}

pub(crate) fn load_doc(conn: &Connection, row: i64) -> Result<Doc> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT doc FROM docs WHERE space=?1")?
        .query_row([row], |r| r.get(0))
        .optional()?;
    match bytes {
        Some(b) => Ok(Doc::load(&b)?),
        None => Ok(Doc::new()),
    }
}

/// Merges the gathered automerge changes into each space's document, saves
/// it, and projects it (profile, or follows and mutes). Following someone
/// can project their stored feed, which can gather more changes: repeated
/// until none are left.
pub(crate) fn apply_doc_changes(
    conn: &Connection,
    keys: &mut Keys,
    mut changes: DocChanges,
) -> Result<()> {
    // (Every projecting transaction ends here: the ratchet it moved is
    // written with it.)
    super::ratchet::flush(conn, keys)?;
    for _round in 0..64 {
        if changes.by_space.is_empty() {
            return Ok(());
        }
        let current = std::mem::take(&mut changes.by_space);
        for (row, (space, list)) in current {
            let mut doc = load_doc(conn, row)?;
            doc.apply(list)?;
            conn.prepare_cached("INSERT OR REPLACE INTO docs(space, doc) VALUES(?1, ?2)")?
                .execute(params![row, doc.save()])?;
            let Some(owner) = space.owner else { continue };
            match space.kind {
                Some(SpaceKind::Feed) => {
                    let p = doc.profile();
                    let ir = identity_row(conn, &owner)?;
                    conn.prepare_cached(
                        "INSERT OR REPLACE INTO profiles(identity, name, bio, avatar) VALUES(?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![
                        ir,
                        p.name,
                        p.bio,
                        p.avatar.as_ref().map(|h| h.as_bytes().as_slice())
                    ])?;
                    if let Some(avatar) = &p.avatar {
                        // Fetched like a post's image, from the log that
                        // wrote the feed most lately.
                        let log: Option<i64> = conn
                            .prepare_cached("SELECT max(id) FROM logs WHERE space=?1")?
                            .query_row([row], |r| r.get(0))?;
                        if let Some(log) = log {
                            want_blob(conn, avatar, row, log, crate::node::MAX_SEALED_IMAGE_LEN)?;
                        }
                    }
                }
                Some(SpaceKind::Account) => {
                    if !is_self(conn, &owner)? {
                        continue;
                    }
                    let acc = doc.account();
                    conn.execute_batch(
                        "UPDATE audience SET followed=0 WHERE followed=1;
                         UPDATE audience SET muted=0, blocked=0;",
                    )?;
                    for (who, key) in &acc.follows {
                        let ir = identity_row(conn, who)?;
                        conn.prepare_cached(
                            "INSERT INTO audience(identity, followed) VALUES(?1, 1)
                             ON CONFLICT(identity) DO UPDATE SET followed=max(followed, 1)",
                        )?
                        .execute([ir])?;
                        add_space(
                            conn,
                            keys,
                            &feed_space_id(who),
                            SpaceKind::Feed,
                            who,
                            &SpaceKey::from_bytes(*key),
                            &mut changes,
                        )?;
                    }
                    for who in &acc.mutes {
                        let ir = identity_row(conn, who)?;
                        conn.prepare_cached(
                            "INSERT INTO audience(identity, muted) VALUES(?1, 1)
                             ON CONFLICT(identity) DO UPDATE SET muted=1",
                        )?
                        .execute([ir])?;
                    }
                    // Blocked: hidden wherever muted ones are, and never
                    // served to peers.
                    for who in &acc.blocks {
                        let ir = identity_row(conn, who)?;
                        conn.prepare_cached(
                            "INSERT INTO audience(identity, muted, blocked) VALUES(?1, 1, 1)
                             ON CONFLICT(identity) DO UPDATE SET muted=1, blocked=1",
                        )?
                        .execute([ir])?;
                    }
                }
                // A group's document is read where it is stored, when asked.
                Some(SpaceKind::Group | SpaceKind::Direct) | None => {}
            }
        }
    }
    Err(StoreError::Corrupt(
        "document changes did not settle".into(),
    ))
}
