//! Network events pushed to the UI on the `net` channel, so screens update
//! live without polling; the sync indicator's state is kept on the way.

use std::sync::Arc;

use serde_json::{Value, json};
use starling_core::net::{NetEvent, Peer};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

use crate::shell::{Live, Shell, Syncing, lock};

/// The event's JSON for the UI (`ui/src/lib/api.ts`, `NetEvent`), after
/// noting what it changes in the status.
fn apply(live: &mut Live, e: &NetEvent) -> Option<Value> {
    Some(match e {
        NetEvent::Received {
            peer,
            space,
            accepted,
        } => {
            json!({"kind": "received", "peer": peer.to_string(), "space": space.to_string(), "accepted": accepted})
        }
        NetEvent::Synced {
            peer,
            accepted,
            rejected,
            ..
        } => {
            live.status.syncing = None;
            json!({"kind": "synced", "peer": peer.to_string(), "accepted": accepted, "rejected": rejected})
        }
        NetEvent::Progress {
            peer,
            entries,
            bytes,
            ..
        } => {
            live.status.syncing = Some(Syncing {
                peer: peer.to_string(),
                entries: *entries,
                bytes: *bytes,
            });
            json!({"kind": "progress", "peer": peer.to_string(), "entries": entries, "bytes": bytes})
        }
        NetEvent::SyncFailed { peer, error } => {
            live.status.syncing = None;
            json!({"kind": "sync_failed", "peer": peer.to_string(), "error": error})
        }
        NetEvent::PeerUp(peer) => {
            live.neighbours.insert(*peer);
            live.status.peers = live.neighbours.len();
            json!({"kind": "peer_up", "peer": peer.to_string()})
        }
        NetEvent::PeerDown(peer) => {
            live.neighbours.remove(peer);
            live.status.peers = live.neighbours.len();
            json!({"kind": "peer_down", "peer": peer.to_string()})
        }
        NetEvent::Published { space, .. } => {
            json!({"kind": "published", "space": space.to_string()})
        }
        NetEvent::BlobFetched { hash, .. } => json!({"kind": "blob", "hash": hash.to_string()}),
        _ => return None,
    })
}

/// Forwards the peer's events to the UI until the peer stops.
pub(crate) fn forward(app: AppHandle, peer: Arc<Peer>) -> tauri::async_runtime::JoinHandle<()> {
    let mut rx = peer.events();
    drop(peer);
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let shell = app.state::<Shell>();
                    let payload = apply(&mut lock(&shell.live), &e);
                    if let Some(p) = payload {
                        let _ = app.emit("net", p);
                    }
                }
                // Too far behind: whatever was missed, the UI reloads.
                Err(RecvError::Lagged(_)) => status_changed(&app),
                Err(RecvError::Closed) => break,
            }
        }
    })
}

/// Tells the UI to reload what it shows (after a local write, a restart
/// of the network, or missed events).
pub(crate) fn status_changed(app: &AppHandle) {
    let _ = app.emit("net", json!({"kind": "changed"}));
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_core::DeviceId;

    #[test]
    fn the_status_follows_the_events() {
        let mut live = Live::default();
        let a = DeviceId([1; 32]);
        let up = apply(&mut live, &NetEvent::PeerUp(a)).unwrap();
        assert_eq!(up["kind"], "peer_up");
        assert_eq!(live.status.peers, 1);
        apply(
            &mut live,
            &NetEvent::Progress {
                peer: a,
                entries: 2048,
                bytes: 9000,
                per_space: vec![],
            },
        );
        assert_eq!(live.status.syncing.as_ref().map(|s| s.entries), Some(2048));
        let done = apply(
            &mut live,
            &NetEvent::Synced {
                peer: a,
                initiated: true,
                accepted: 5,
                rejected: 0,
                bytes_received: 10,
            },
        )
        .unwrap();
        assert_eq!(done["accepted"], 5);
        assert!(live.status.syncing.is_none());
        apply(&mut live, &NetEvent::PeerDown(a));
        assert_eq!(live.status.peers, 0);
    }
}
