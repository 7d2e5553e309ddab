//! Known peers: their addresses, when they were last seen, which are
//! relations, and what each was asked and named in sync sessions.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, blob32};
use crate::id::DeviceId;
use crate::protocol::catchup::{Asked, Named, Remember};
use crate::view::{Path, PeerView};

impl Store {
    pub(super) fn peer_memory<T: serde::de::DeserializeOwned>(
        &self,
        column: &str,
        device: &DeviceId,
    ) -> Result<Option<T>> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .prepare_cached(&format!("SELECT {column} FROM peers WHERE device=?1"))?
            .query_row([device.as_bytes()], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(bytes.and_then(|b| postcard::from_bytes(&b).ok()))
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

    /// Notes the path (and its round-trip time) the last session with
    /// `device` ended on.
    pub fn note_path(&self, device: &DeviceId, path: Path, rtt_ms: u64) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE peers SET path=?2, rtt_ms=?3 WHERE device=?1")?
            .execute(params![device.as_bytes(), path_code(path), rtt_ms])?;
        Ok(())
    }

    /// Known peers as `starling peers` and the app show them: addresses,
    /// when each was last seen, and the path and round-trip time of the
    /// last session; most recently seen first.
    pub fn peer_views(&self) -> Result<Vec<PeerView>> {
        let mut stmt = self.conn.prepare(
            "SELECT device, addrs, last_seen, path, rtt_ms FROM peers
             ORDER BY last_seen DESC, device",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?, r.get(2)?),
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<u64>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (peer, path, rtt_ms) = row?;
            let (p, last_seen) = peer_of(peer)?;
            out.push(PeerView {
                device: p.device,
                addrs: p.addrs.iter().map(|a| a.to_string()).collect(),
                relay: p.relay,
                last_seen,
                path: path.and_then(path_of_code),
                rtt_ms,
            });
        }
        Ok(out)
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

    /// Whether `device` is one of this identity's own devices (its
    /// certificate is held).
    pub fn is_own_device(&self, device: &DeviceId) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM logs l JOIN audience a ON a.identity=l.identity
                 WHERE l.device=?1 AND a.followed=2",
            )?
            .exists([device.as_bytes()])?)
    }

    /// What the last session this device started with `device` asked.
    pub fn peer_asked(&self, device: &DeviceId) -> Result<Option<Asked>> {
        self.peer_memory("asked", device)
    }

    /// What `device` named in the last session it started.
    pub fn peer_named(&self, device: &DeviceId) -> Result<Option<Named>> {
        self.peer_memory("named", device)
    }

    /// Remembers what a session with `device` covered.
    pub fn remember_peer(&self, device: &DeviceId, what: &Remember) -> Result<()> {
        let (column, bytes) = match what {
            Remember::Asked(a) => ("asked", postcard::to_allocvec(a)),
            Remember::Named(n) => ("named", postcard::to_allocvec(n)),
        };
        let bytes = bytes.unwrap_or_default();
        self.conn.execute(
            &format!(
                "INSERT INTO peers(device, addrs, {column}) VALUES(?1, x'00', ?2)
                 ON CONFLICT(device) DO UPDATE SET {column}=?2"
            ),
            params![device.as_bytes(), bytes],
        )?;
        self.prune_peers()
    }
}

type PeerRow = (Vec<u8>, Vec<u8>, Option<u64>);

fn peer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PeerRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn peer_of((d, a, seen): PeerRow) -> Result<(crate::ticket::PeerAddr, Option<u64>)> {
    let device = DeviceId(blob32(d)?);
    Ok((crate::ticket::PeerAddr::decode_reach(device, &a), seen))
}

fn path_code(path: Path) -> i64 {
    match path {
        Path::Direct => 0,
        Path::Relay => 1,
    }
}

fn path_of_code(code: i64) -> Option<Path> {
    match code {
        0 => Some(Path::Direct),
        1 => Some(Path::Relay),
        _ => None,
    }
}

/// Most rows the peers table keeps for peers not introduced by a ticket.
pub const MAX_PEERS: i64 = 4096;
