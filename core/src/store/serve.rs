//! What the store serves to sync peers: frontiers and the entries after a
//! given seq, for the spaces it may share.

use rusqlite::{OptionalExtension, params};

use super::{ENTRY_COLS, Result, Store, blob32, rebuild, space_row};
use crate::entry::Entry;
use crate::id::{DeviceId, EntryId, IdentityId, SpaceId};
use crate::protocol::catchup::{Frontier, Holdings};
use crate::space::AuthKey;
use crate::space::SpaceKind;

impl Store {
    /// The frontier of a space this store serves: feeds and mirrored
    /// spaces, never a private account space, and never the logs of a
    /// blocked identity.
    pub fn served_frontier(&self, space: &SpaceId) -> Result<Option<Frontier>> {
        self.served_frontier_to(space, None)
    }

    /// What this store serves to `peer`: as [`Holdings`], with the private
    /// account space open to this identity's own devices only.
    pub fn served_to(&self, peer: DeviceId) -> ServedTo<'_> {
        ServedTo { store: self, peer }
    }

    /// The spaces this store would name or serve in a sync session, with
    /// their auth keys: feeds, groups and conversations it chose, and with
    /// `own_device` the private account space too.
    pub fn sync_spaces(&self, own_device: bool) -> Result<Vec<(SpaceId, AuthKey)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.space, s.kind, k.key FROM spaces s JOIN keys k ON k.space=s.id AND k.epoch=0
             WHERE s.kind>0 AND s.owner IS NOT NULL ORDER BY s.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (space, kind, key) = row?;
            let kind = SpaceKind::from_code(kind);
            if kind == Some(SpaceKind::Account) && !own_device {
                continue;
            }
            let key = crate::crypto::SpaceKey::from_bytes(blob32(key)?);
            out.push((SpaceId(blob32(space)?), AuthKey::of(&key)));
        }
        Ok(out)
    }

    /// The frontier of `space` as served to `peer` (the account space only
    /// to this identity's own devices).
    fn served_frontier_to(
        &self,
        space: &SpaceId,
        peer: Option<&DeviceId>,
    ) -> Result<Option<Frontier>> {
        let found: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT id, kind FROM spaces WHERE space=?1")?
            .query_row([space.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((row, kind)) = found else {
            return Ok(None);
        };
        // Only spaces this store chose (a row left by an older version
        // without a kind is not served).
        if SpaceKind::from_code(kind).is_none() {
            return Ok(None);
        }
        if SpaceKind::from_code(kind) == Some(SpaceKind::Account) {
            let own = match peer {
                Some(p) => self.is_own_device(p)?,
                None => false,
            };
            if !own {
                return Ok(None);
            }
        }
        let limits = Limits::of(self, space)?;
        let mut f = Frontier::default();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT l.id, l.device, l.seq, l.head, i.identity FROM logs l
                 LEFT JOIN identities i ON i.id=l.identity WHERE l.space=?1 AND l.seq>0
                 AND NOT EXISTS (SELECT 1 FROM audience a WHERE a.identity=l.identity AND a.blocked=1)",
            )?;
        let rows = stmt.query_map([row], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, u64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
            ))
        })?;
        for row in rows {
            let (log, d, seq, head, who) = row?;
            let device = DeviceId(blob32(d)?);
            let who = who.map(blob32).transpose()?.map(IdentityId);
            match limits.of_log(self, space, &device, who.as_ref())? {
                Some(last) if last < seq => {
                    // Served only as far as the rules accept it.
                    if let Some(at) = self.entry_at(log, last)? {
                        f.insert(device, last, at);
                    }
                }
                _ => f.insert(device, seq, EntryId(blob32(head)?)),
            }
        }
        Ok(Some(f))
    }

    /// The id of a log's entry at `seq` (from 1).
    fn entry_at(&self, log: i64, seq: u64) -> Result<Option<EntryId>> {
        if seq == 0 {
            return Ok(None);
        }
        let hash: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT hash FROM entries INDEXED BY entries_log WHERE log=?1
                 ORDER BY id LIMIT 1 OFFSET ?2",
            )?
            .query_row(params![log, seq - 1], |r| r.get(0))
            .optional()?;
        hash.map(|h| Ok(EntryId(blob32(h)?))).transpose()
    }

    /// Entries of `device`'s log in `space` after seq `after`, in seq order,
    /// at most `limit`. A log's rows are stored in seq order, so the entry
    /// at seq `after` is the `after`-th row of the log's index, and the rest
    /// follow it.
    pub fn entries_after(
        &self,
        space: &SpaceId,
        device: &DeviceId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Entry>> {
        let Some(space_row) = space_row(&self.conn, space)? else {
            return Ok(Vec::new());
        };
        let log: Option<(i64, Option<Vec<u8>>, u64)> = self
            .conn
            .prepare_cached(
                "SELECT l.id, i.identity, l.evicted_to FROM logs l LEFT JOIN identities i ON i.id=l.identity
                 WHERE l.space=?1 AND l.device=?2
                 AND NOT EXISTS (SELECT 1 FROM audience a WHERE a.identity=l.identity AND a.blocked=1)",
            )?
            .query_row(params![space_row, device.as_bytes()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((log, who, evicted_to)) = log else {
            return Ok(Vec::new());
        };
        // Posts evicted to headers (storage budgets) are not served: a
        // peer behind them takes this log from someone who holds it whole.
        if after < evicted_to {
            return Ok(Vec::new());
        }
        // Never past what the rules accept (a revoked device's or removed
        // member's entries that arrived before the news did).
        let who = who.map(blob32).transpose()?.map(IdentityId);
        // Of a group this device left, only its own log: the others' are
        // kept as headers only, and a peer must not take those for copies.
        if super::erase::is_left(&self.conn, space_row)? {
            let own = match &who {
                Some(w) => super::project::is_self(&self.conn, w)?,
                None => false,
            };
            if !own {
                return Ok(Vec::new());
            }
        }
        let limit = match Limits::of(self, space)?.of_log(self, space, device, who.as_ref())? {
            Some(last) if last <= after => return Ok(Vec::new()),
            Some(last) => limit.min((last - after) as usize),
            None => limit,
        };
        let (start, mut previous) = if after == 0 {
            (0, None)
        } else {
            let at: Option<(i64, Vec<u8>)> = self
                .conn
                .prepare_cached(
                    "SELECT id, hash FROM entries INDEXED BY entries_log WHERE log=?1
                     ORDER BY id LIMIT 1 OFFSET ?2",
                )?
                .query_row(params![log, after - 1], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match at {
                Some((row, hash)) => (row, Some(EntryId(blob32(hash)?))),
                None => return Ok(Vec::new()),
            }
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLS} FROM entries e JOIN logs l ON l.id=e.log JOIN spaces s ON s.id=l.space
             WHERE e.log=?1 AND e.id>?2 ORDER BY e.id LIMIT ?3"
        ))?;
        let mut rows = stmt.query(params![log, start, limit as i64])?;
        let mut out = Vec::new();
        let mut seq = after;
        while let Some(r) = rows.next()? {
            seq += 1;
            let e = rebuild(r, seq, previous)?;
            previous = Some(e.id());
            out.push(e);
        }
        Ok(out)
    }
}

/// What limits the entries a store serves in one space: revocations (by
/// the identity that certified a log) and, in a group, its membership.
struct Limits {
    membership: Option<crate::membership::Membership>,
}

impl Limits {
    fn of(store: &Store, space: &SpaceId) -> Result<Self> {
        let info = super::project::space_info(&store.conn, space)?;
        let membership = match info {
            Some(i) if i.kind == Some(SpaceKind::Group) => {
                Some(super::membership::fold_now(&store.conn, &i)?)
            }
            _ => None,
        };
        Ok(Self { membership })
    }

    /// The last seq of `device`'s log (written by `who`) that is served.
    fn of_log(
        &self,
        store: &Store,
        space: &SpaceId,
        device: &DeviceId,
        who: Option<&IdentityId>,
    ) -> Result<Option<u64>> {
        let Some(who) = who else { return Ok(None) };
        let revoked = super::project::revoked_limit(&store.conn, device, who, space)?;
        let removed = self.membership.as_ref().and_then(|m| m.limit(who, device));
        Ok(match (revoked, removed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }
}

/// A store read for sync. Database errors read as "not served" / "nothing
/// more": the session then ends short and the next one retries.
/// A store as one peer sees it (see [`Store::served_to`]).
#[derive(Debug, Clone, Copy)]
pub struct ServedTo<'a> {
    store: &'a Store,
    peer: DeviceId,
}

impl Holdings for ServedTo<'_> {
    fn frontier(&self, space: &SpaceId) -> Option<Frontier> {
        self.store
            .served_frontier_to(space, Some(&self.peer))
            .ok()
            .flatten()
    }

    fn entries_after(
        &self,
        space: &SpaceId,
        device: &DeviceId,
        after: u64,
        limit: usize,
    ) -> Vec<Vec<u8>> {
        // A session only owes entries of spaces whose frontier it served.
        Holdings::entries_after(self.store, space, device, after, limit)
    }

    fn servable(&self) -> Vec<(SpaceId, AuthKey)> {
        let own = self.store.is_own_device(&self.peer).unwrap_or(false);
        self.store.sync_spaces(own).unwrap_or_default()
    }
}

impl Holdings for Store {
    fn frontier(&self, space: &SpaceId) -> Option<Frontier> {
        self.served_frontier(space).ok().flatten()
    }

    fn entries_after(
        &self,
        space: &SpaceId,
        device: &DeviceId,
        after: u64,
        limit: usize,
    ) -> Vec<Vec<u8>> {
        Store::entries_after(self, space, device, after, limit)
            .map(|es| es.iter().map(Entry::encode).collect())
            .unwrap_or_default()
    }

    fn servable(&self) -> Vec<(SpaceId, AuthKey)> {
        self.sync_spaces(false).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::SynthAuthor;

    #[test]
    fn serves_entries_after_a_seq() {
        let mut a = SynthAuthor::new(5);
        let mut b = SynthAuthor::new(6);
        let mut s = Store::open_in_memory().unwrap();
        a.followed_by(&mut s).unwrap();
        b.followed_by(&mut s).unwrap();
        let mut es = vec![a.cert(1), b.cert(1)];
        for i in 0..20 {
            es.push(a.post(&format!("a{i}"), None, 2 + i));
            es.push(b.post(&format!("b{i}"), None, 2 + i));
        }
        s.import_entries(es.clone()).unwrap();
        let space = crate::space::feed_space_id(&a.identity());
        let dev = a.device_key().id();
        let f = s.served_frontier(&space).unwrap().unwrap();
        assert_eq!(f.seq(&dev), 21);
        let all = Store::entries_after(&s, &space, &dev, 0, 100).unwrap();
        assert_eq!(all.len(), 21);
        let tail = Store::entries_after(&s, &space, &dev, 15, 3).unwrap();
        assert_eq!(
            tail.iter().map(|e| e.header().seq).collect::<Vec<_>>(),
            vec![16, 17, 18]
        );
        let mine: Vec<&Entry> = es.iter().filter(|e| e.header().author == dev).collect();
        assert_eq!(&tail[0], mine[15]);
        assert!(
            Store::entries_after(&s, &space, &dev, 21, 5)
                .unwrap()
                .is_empty()
        );
        assert!(
            Store::entries_after(&s, &space, &dev, 99, 5)
                .unwrap()
                .is_empty()
        );
        // A private account space is never served.
        let acct = crate::space::account_space_id(&a.identity());
        assert!(s.served_frontier(&acct).unwrap().is_none());
    }
}
