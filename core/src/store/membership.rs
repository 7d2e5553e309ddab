//! A group's membership in the store: its operations kept in `group_ops`,
//! folded ([`crate::membership::fold`]) when needed and cached per space,
//! checked when an entry arrives, and reconciled with what is shown when it
//! changes (posts written past a removal are hidden, and shown again if the
//! member is let back in).

use std::collections::BTreeSet;

use rusqlite::{Connection, params};

use super::project::{Keys, Placed, SpaceInfo, hide_post, insert_post, open_stored};
use super::{Result, StoreError, blob32, identity_row};
use crate::id::{DeviceId, EntryId, IdentityId};
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

/// Whether an entry of `writer`'s device at `seq` may stand in the group:
/// its writer is a member, or it was written before their removal. A join
/// is judged with itself counted (it is what lets its writer in).
#[allow(clippy::too_many_arguments)]
pub(crate) fn admits(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    writer: &IdentityId,
    device: &DeviceId,
    seq: u64,
    id: &EntryId,
    timestamp: u64,
    record: Option<&Record>,
) -> Result<bool> {
    let Some((SpaceKind::Group, owner)) = space.chosen() else {
        return Ok(true);
    };
    let m = match record {
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
    Ok(m.limit(writer, device).is_none_or(|last| seq <= last))
}

/// Whether a post at `placed` by `writer` is past its writer's removal
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
            let limit = after.limit(who, &device);
            show_up_to(conn, keys, space, author, (log, device), limit)?;
        }
    }
    Ok(())
}

/// Makes a log's posts up to `limit` (all when `None`) shown and the later
/// ones hidden.
fn show_up_to(
    conn: &Connection,
    keys: &mut Keys,
    space: &SpaceInfo,
    author: i64,
    (log, device): (i64, DeviceId),
    limit: Option<u64>,
) -> Result<()> {
    let cut = limit.unwrap_or(u64::MAX);
    let shown_late: Vec<i64> = conn
        .prepare_cached(
            "SELECT p.id FROM entries e JOIN posts p ON p.ts=e.ts AND p.id=e.id
             WHERE e.log=?1 AND e.seq>?2",
        )?
        .query_map(params![log, cut.min(i64::MAX as u64)], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    for row in shown_late {
        hide_post(conn, keys, row, author)?;
    }
    // Posts up to the limit that are kept but not shown: show them.
    let kept: Vec<(i64, Vec<u8>, u64, u64)> = conn
        .prepare_cached(
            "SELECT e.id, e.hash, e.seq, e.ts FROM entries e
             WHERE e.log=?1 AND e.seq<=?2 AND e.payload IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.ts=e.ts AND p.id=e.id)",
        )?
        .query_map(params![log, cut.min(i64::MAX as u64)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<std::result::Result<_, _>>()?;
    for (row, hash, seq, ts) in kept {
        let Some(Record::Post(p)) = open_stored(conn, keys, row)? else {
            continue;
        };
        let placed = Placed {
            row,
            id: EntryId(blob32(hash)?),
            log,
            device,
            seq,
            timestamp: ts,
        };
        let deleted = conn
            .prepare_cached("SELECT 1 FROM deletes WHERE target=?1 AND identity=?2")?
            .exists(params![placed.id.as_bytes(), author])?;
        if !deleted {
            insert_post(conn, keys, space, author, &placed, &p)?;
        }
    }
    Ok(())
}
