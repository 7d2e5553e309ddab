//! A group's membership in the store: its operations kept in `group_ops`,
//! folded ([`crate::membership::fold`]) when needed and cached per space,
//! checked when an entry arrives, and reconciled with what is shown when it
//! changes (posts written past a removal are hidden, and shown again if the
//! member is let back in).

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::project::{self, DocChanges, Keys, Placed, SpaceInfo, hide_post, open_stored, project};
use super::{Result, Store, StoreError, apply_doc_changes, blob32, identity_row};
use crate::id::{DeviceId, EntryId, IdentityId, SpaceId};
use crate::membership::{GroupOp, Membership, Op, fold};
use crate::record::Record;
use crate::space::SpaceKind;

/// The operations stored for a space.
fn ops(conn: &Connection, space: i64) -> Result<Vec<Op>> {
    let blobs: Vec<Vec<u8>> = conn
        .prepare_cached("SELECT op FROM group_ops WHERE space=?1")?
        .query_map([space], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    blobs
        .iter()
        .map(|b| {
            postcard::from_bytes(b)
                .map_err(|e| StoreError::Corrupt(format!("stored group operation: {e}")))
        })
        .collect()
}

/// The membership of a group, folded now (no cache: for reads that
/// cannot hold one).
pub(crate) fn fold_now(conn: &Connection, space: &SpaceInfo) -> Result<Membership> {
    let Some((SpaceKind::Group, owner)) = space.chosen() else {
        return Ok(Membership::default());
    };
    Ok(fold(&owner, &ops(conn, space.row)?))
}

/// The membership of a group (cached until its operations change).
pub(crate) fn membership(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
) -> Result<Membership> {
    if let Some(m) = keys.memberships.get(&space.row) {
        return Ok(m.clone());
    }
    let Some((SpaceKind::Group, owner)) = space.chosen() else {
        return Ok(Membership::default());
    };
    let m = fold(&owner, &ops(conn, space.row)?);
    keys.memberships.insert(space.row, m.clone());
    Ok(m)
}

/// How many entries past its limit a former member's device may still
/// have kept (not shown): enough that a member who wrote on before hearing
/// of their removal can be let back in — their log goes on past those
/// entries — and few enough that a removed member cannot fill a store.
pub(crate) const MAX_HIDDEN_TAIL: u64 = 64;

/// Where an entry of a group stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Its writer is a member, or wrote it before their removal.
    Shown,
    /// Written past its writer's removal: kept, not shown (shown if they
    /// are let back in).
    Hidden,
    /// Written far past its writer's removal, or by someone never let in.
    Refused,
}

/// Where an entry of `writer`'s device at `seq` stands in the group. A
/// join is judged with itself counted (it is what lets its writer in).
#[allow(clippy::too_many_arguments)]
pub(crate) fn standing(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    writer: &IdentityId,
    device: &DeviceId,
    seq: u64,
    id: &EntryId,
    timestamp: u64,
    record: Option<&Record>,
) -> Result<Standing> {
    let Some((SpaceKind::Group, owner)) = space.chosen() else {
        return Ok(Standing::Shown);
    };
    let m = match record {
        Some(Record::Group(GroupOp::Join { .. }))
            if seq > 1 && membership(conn, keys, space)?.is_member(writer) =>
        {
            // A member has no reason to join again (and each operation
            // costs every member a fold).
            return Ok(Standing::Refused);
        }
        Some(Record::Group(op @ GroupOp::Join { .. })) => {
            let mut all = ops(conn, space.row)?;
            all.push(Op {
                id: *id,
                author: *writer,
                device: *device,
                seq,
                timestamp,
                kind: op.kind(),
            });
            fold(&owner, &all)
        }
        _ => membership(conn, keys, space)?,
    };
    let was_member = m.is_member(writer) || m.former.contains_key(writer);
    Ok(match m.limit(writer, device) {
        None => Standing::Shown,
        Some(last) if seq <= last => Standing::Shown,
        Some(last) if was_member && seq <= last.saturating_add(MAX_HIDDEN_TAIL) => Standing::Hidden,
        Some(_) => Standing::Refused,
    })
}

/// Whether an entry at `placed` by `writer` is past its writer's removal
/// (kept, not shown).
pub(crate) fn hidden(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    writer: &IdentityId,
    placed: &Placed,
) -> Result<bool> {
    if space.kind != Some(SpaceKind::Group) {
        return Ok(false);
    }
    let m = membership(conn, keys, space)?;
    Ok(m.limit(writer, &placed.device)
        .is_some_and(|last| placed.seq > last))
}

/// Keeps a membership operation and reconciles what is shown with the new
/// membership.
pub(crate) fn apply_op(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    writer: IdentityId,
    placed: &Placed,
    op: GroupOp,
) -> Result<()> {
    if space.kind != Some(SpaceKind::Group) {
        return Ok(());
    }
    let before = membership(conn, keys, space)?;
    let stored = Op {
        id: placed.id,
        author: writer,
        device: placed.device,
        seq: placed.seq,
        timestamp: placed.timestamp,
        kind: op.kind(),
    };
    let bytes = postcard::to_allocvec(&stored).unwrap_or_default();
    conn.prepare_cached("INSERT OR IGNORE INTO group_ops(entry, space, op) VALUES(?1, ?2, ?3)")?
        .execute(params![placed.row, space.row, bytes])?;
    keys.memberships.remove(&space.row);
    let after = membership(conn, keys, space)?;
    reconcile(conn, keys, space, &before, &after)
}

/// Hides or shows again the posts of every identity whose standing
/// changed between `before` and `after`.
fn reconcile(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    before: &Membership,
    after: &Membership,
) -> Result<()> {
    let everyone: BTreeSet<&IdentityId> = before
        .members
        .iter()
        .chain(after.members.iter())
        .chain(before.former.keys())
        .chain(after.former.keys())
        .collect();
    for who in everyone {
        let same = before.is_member(who) == after.is_member(who)
            && before.former.get(who) == after.former.get(who);
        if same {
            continue;
        }
        let author = identity_row(conn, who)?;
        let logs: Vec<(i64, Vec<u8>)> = conn
            .prepare_cached("SELECT id, device FROM logs WHERE space=?1 AND identity=?2")?
            .query_map(params![space.row, author], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<std::result::Result<_, _>>()?;
        for (log, device) in logs {
            let device = DeviceId(blob32(device)?);
            let limits = (before.limit(who, &device), after.limit(who, &device));
            show_up_to(conn, keys, space, (*who, author), (log, device), limits)?;
        }
    }
    Ok(())
}

/// Makes a log's entries up to its new limit (all when `None`) shown and
/// its later posts hidden: when the limit drops, posts past it come down
/// (other records that arrived before the removal stay); when it rises (let
/// back in), the entries kept between the two limits are projected.
fn show_up_to(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    (who, author): (IdentityId, i64),
    (log, device): (i64, DeviceId),
    (before, after): (Option<u64>, Option<u64>),
) -> Result<()> {
    let seq_of = |l: Option<u64>| l.unwrap_or(i64::MAX as u64).min(i64::MAX as u64);
    let (was, now) = (seq_of(before), seq_of(after));
    if now < was {
        let shown_late: Vec<i64> = conn
            .prepare_cached(
                "SELECT p.id FROM entries e JOIN posts p ON p.ts=e.ts AND p.id=e.id
                 WHERE e.log=?1 AND e.seq>?2",
            )?
            .query_map(params![log, now], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        for row in shown_late {
            hide_post(conn, keys, row, author)?;
        }
    }
    if now <= was {
        return Ok(());
    }
    // Kept while hidden: project them now. Projection is idempotent for
    // what was projected before the removal arrived; posts already shown
    // are left alone, and membership operations were applied on arrival.
    let kept: Vec<(i64, Vec<u8>, u64, u64)> = conn
        .prepare_cached(
            "SELECT e.id, e.hash, e.seq, e.ts FROM entries e
             WHERE e.log=?1 AND e.seq>?2 AND e.seq<=?3 AND e.payload IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.ts=e.ts AND p.id=e.id)
             ORDER BY e.id",
        )?
        .query_map(params![log, was, now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<std::result::Result<_, _>>()?;
    let mut changes = DocChanges::default();
    for (row, hash, seq, ts) in kept {
        let Some(record) = open_stored(conn, keys, row)? else {
            continue;
        };
        if matches!(record, Record::Group(_) | Record::DeviceCert(_)) {
            continue;
        }
        let placed = Placed {
            row,
            id: EntryId(blob32(hash)?),
            log,
            device,
            seq,
            timestamp: ts,
        };
        project(conn, keys, space, who, &placed, record, &mut changes)?;
    }
    apply_doc_changes(conn, keys, changes)
}

impl Store {
    /// Keeps the nonce a group's id was made from (its owner's devices put
    /// it in invites, so that joiners can check who owns the group).
    pub fn set_group_nonce(&self, space: &SpaceId, nonce: &[u8; 16]) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE spaces SET nonce=?2 WHERE space=?1")?
            .execute(params![space.as_bytes(), nonce.as_slice()])?;
        Ok(())
    }

    /// The nonce a group's id was made from, if known here.
    pub fn group_nonce(&self, space: &SpaceId) -> Result<Option<[u8; 16]>> {
        let n: Option<Option<Vec<u8>>> = self
            .conn
            .prepare_cached("SELECT nonce FROM spaces WHERE space=?1")?
            .query_row([space.as_bytes()], |r| r.get(0))
            .optional()?;
        Ok(n.flatten()
            .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok()))
    }

    /// A group's membership as its stored operations give it (see
    /// [`crate::membership`]).
    pub fn group_membership(&mut self, space: &SpaceId) -> Result<Membership> {
        let Some(info) = project::space_info(&self.conn, space)? else {
            return Ok(Membership::default());
        };
        // Fresh: another process may have written to the group.
        self.keys.memberships.remove(&info.row);
        super::membership::membership(&self.conn, &mut self.keys, &info)
    }
}
