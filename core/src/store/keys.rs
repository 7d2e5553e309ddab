//! Spaces and their keys: which spaces this store chose (kind, owner,
//! epoch-0 key), the key of each epoch, and the one new entries use.

use rusqlite::{OptionalExtension, params};

use super::{
    Result, Store, StoreError, apply_doc_changes, blob32, identity_row, project, space_row,
};
use crate::crypto::SpaceKey;
use crate::id::{IdentityId, SpaceId};
use crate::space::SpaceKind;

impl Store {
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
            apply_doc_changes(&tx, &mut self.keys, changes)?;
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
        apply_doc_changes(&tx, &mut self.keys, changes)?;
        tx.commit()?;
        Ok(())
    }

    /// Lets this store unwrap group keys rotated for `identity` (when this
    /// device holds it) and account keys rotated for `device`.
    pub(crate) fn set_keys(
        &mut self,
        identity: Option<crate::identity::IdentityKey>,
        device: crate::identity::DeviceKey,
    ) {
        self.keys.me = identity;
        self.keys.device = Some(device);
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

    /// The kind of `space`, if known here.
    pub fn space_kind(&self, space: &SpaceId) -> Result<Option<SpaceKind>> {
        let kind: Option<i64> = self
            .conn
            .prepare_cached("SELECT kind FROM spaces WHERE space=?1")?
            .query_row([space.as_bytes()], |r| r.get(0))
            .optional()?;
        Ok(kind.and_then(SpaceKind::from_code))
    }

    /// The spaces of `kind` held, with their owner (for a conversation:
    /// the other side).
    pub fn spaces_of_kind(&self, kind: SpaceKind) -> Result<Vec<(SpaceId, Option<IdentityId>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.space, i.identity FROM spaces s LEFT JOIN identities i ON i.id=s.owner
             WHERE s.kind=?1 ORDER BY s.id",
        )?;
        let rows = stmt.query_map([kind.code()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (s, o) = r?;
            out.push((
                SpaceId(blob32(s)?),
                o.map(blob32).transpose()?.map(IdentityId),
            ));
        }
        Ok(out)
    }

    /// The key new entries (and images) of `space` are sealed with: the
    /// newest epoch held.
    pub fn sealing_key(&mut self, space: &SpaceId) -> Result<Option<(u32, SpaceKey)>> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(None);
        };
        let epoch = project::current_epoch(&self.conn, row)?;
        Ok(project::key_for(&self.conn, &mut self.keys, row, epoch)?.map(|k| (epoch, k)))
    }

    /// Every key held for `space` at `epoch`: the one that seals, and any
    /// other a concurrent rotation gave that epoch.
    pub fn epoch_keys(&mut self, space: &SpaceId, epoch: u32) -> Result<Vec<SpaceKey>> {
        let Some(row) = space_row(&self.conn, space)? else {
            return Ok(Vec::new());
        };
        let mut out: Vec<SpaceKey> = project::key_for(&self.conn, &mut self.keys, row, epoch)?
            .into_iter()
            .collect();
        let others: Vec<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT key FROM rotated_keys WHERE space=?1 AND epoch=?2")?
            .query_map(params![row, epoch], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        for k in others {
            let k = SpaceKey::from_bytes(blob32(k)?);
            if !out.contains(&k) {
                out.push(k);
            }
        }
        Ok(out)
    }
}
