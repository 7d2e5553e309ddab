//! Catch-up connections kept open between sessions.
//!
//! A node checks the peers it saw lately every few seconds ("anything
//! new?", 42 bytes when in sync). A new QUIC connection per check costs a
//! handshake and new paths (through a relay, and hole punching) many times
//! the size of the check itself, so the connection a session used is kept
//! here and the next session with that peer opens a new stream on it.
//! The side that accepted closes a connection after [`IDLE_CLOSE`] (the
//! default of `NetConfig::idle_close`) with no new stream, and older
//! software after each session, so a kept connection may be gone: the
//! session then dials again (see `catchup::initiate`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use iroh::endpoint::Connection;

use super::guard;
use crate::id::DeviceId;

/// Most connections kept open for the next session (the peers checked
/// lately are far fewer).
pub(super) const MAX_KEPT: usize = 64;

/// A connection that was accepted for catch-up is closed once no new
/// session came on it for this long. Longer than the check interval, so
/// the peers checked regularly keep theirs.
pub const IDLE_CLOSE: Duration = Duration::from_secs(20);

/// Open catch-up connections this node dialed, one per peer.
#[derive(Debug, Default)]
pub(super) struct Pool {
    kept: Mutex<HashMap<DeviceId, Connection>>,
}

impl Pool {
    /// The connection kept for `peer`, if it is still open. It leaves the
    /// pool until the session gives it back.
    pub(super) fn take(&self, peer: &DeviceId) -> Option<Connection> {
        let conn = guard(&self.kept).remove(peer)?;
        conn.close_reason().is_none().then_some(conn)
    }

    /// Keeps `conn` for the next session with `peer`; closed connections
    /// are dropped, and a full pool lets one go.
    pub(super) fn give_back(&self, peer: DeviceId, conn: Connection) {
        let mut kept = guard(&self.kept);
        kept.retain(|_, c| c.close_reason().is_none());
        if kept.len() >= MAX_KEPT
            && !kept.contains_key(&peer)
            && let Some(k) = kept.keys().next().copied()
            && let Some(old) = kept.remove(&k)
        {
            old.close(0u32.into(), b"done");
        }
        let id = conn.stable_id();
        if let Some(old) = kept.insert(peer, conn)
            && old.stable_id() != id
        {
            old.close(0u32.into(), b"done");
        }
    }
}
