//! The shell's state: the profile folder, the open node and its network
//! face, and what the sync indicator shows.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use starling_core::net::{Peer, SharedNode};
use starling_core::{DeviceId, Node};
use tauri::AppHandle;

use crate::settings::Settings;

/// How often every known peer is asked for a catch-up (live posts arrive
/// through gossip in between).
const SYNC_EVERY: Duration = Duration::from_secs(60);

/// What the sync indicator shows.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct NetStatus {
    pub(crate) online: bool,
    pub(crate) peers: usize,
    pub(crate) syncing: Option<Syncing>,
    pub(crate) listening: Vec<String>,
    pub(crate) error: Option<String>,
}

/// A catch-up under way.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Syncing {
    pub(crate) peer: String,
    pub(crate) entries: u64,
    pub(crate) bytes: u64,
}

/// The network side of the status, kept by the event forwarder.
#[derive(Debug, Default)]
pub(crate) struct Live {
    pub(crate) neighbours: BTreeSet<DeviceId>,
    pub(crate) status: NetStatus,
}

/// Everything the commands share.
pub struct Shell {
    pub(crate) home: PathBuf,
    pub(crate) started: Instant,
    node: Mutex<Option<SharedNode>>,
    peer: tokio::sync::Mutex<Option<Arc<Peer>>>,
    pub(crate) live: Mutex<Live>,
    pub(crate) first_paint: Mutex<Option<u64>>,
    tasks: Mutex<Vec<tauri::async_runtime::JoinHandle<()>>>,
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell").field("home", &self.home).finish()
    }
}

/// Locks a mutex; a panic elsewhere cannot leave these half-written, so a
/// poisoned lock is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The profile folder: `STARLING_HOME`, else the platform's data folder
/// (the same one the CLI uses).
pub(crate) fn home_dir() -> Result<PathBuf, String> {
    if let Some(h) = std::env::var_os("STARLING_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    directories::ProjectDirs::from("org", "starling", "starling")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| "cannot find a data folder; set STARLING_HOME".to_string())
}

impl Shell {
    /// Opens the profile in `home` if there is one (else the UI shows the
    /// first-start screen).
    pub fn new(home: PathBuf) -> Result<Self, String> {
        let node = if Node::exists(&home) {
            Some(Arc::new(Mutex::new(Node::open(&home).map_err(|e| {
                format!("cannot open {}: {e}", home.display())
            })?)))
        } else {
            None
        };
        Ok(Self {
            home,
            started: Instant::now(),
            node: Mutex::new(node),
            peer: tokio::sync::Mutex::new(None),
            live: Mutex::new(Live::default()),
            first_paint: Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// The open node, or an error the UI can show before first start.
    pub(crate) fn node(&self) -> Result<SharedNode, String> {
        lock(&self.node)
            .clone()
            .ok_or_else(|| "no identity yet: create one first".to_string())
    }

    /// Whether a profile is open.
    pub(crate) fn has_node(&self) -> bool {
        lock(&self.node).is_some()
    }

    /// Makes the profile on first start.
    pub(crate) fn create(&self, name: &str) -> Result<SharedNode, String> {
        let mut slot = lock(&self.node);
        if slot.is_some() {
            return Err("this device already has an identity".into());
        }
        let node = Node::init(&self.home, name).map_err(|e| e.to_string())?;
        let shared = Arc::new(Mutex::new(node));
        *slot = Some(shared.clone());
        Ok(shared)
    }

    /// The running network face, if it is up.
    pub(crate) async fn peer(&self) -> Option<Arc<Peer>> {
        self.peer.lock().await.clone()
    }

    /// Starts the network for the open profile (nothing before first start).
    pub(crate) async fn start(&self, app: &AppHandle) {
        let Ok(node) = self.node() else { return };
        let mut slot = self.peer.lock().await;
        if slot.is_some() {
            return;
        }
        let config = Settings::load(&self.home).net_config();
        let discovery = config.local_discovery;
        match Peer::start(node.clone(), config).await {
            Ok(peer) => {
                let peer = Arc::new(peer);
                // A relay, if any, is briefly waited for so tickets carry it.
                peer.online(Duration::from_secs(3)).await;
                let addr = peer.addr();
                let _ = lock(&node).set_reachable_at(&addr);
                {
                    let mut live = lock(&self.live);
                    live.status.listening = addr.addrs.iter().map(|a| a.to_string()).collect();
                    live.status.online = true;
                    live.status.error = match (discovery, peer.local_discovery()) {
                        (true, Err(why)) => Some(format!("local discovery off: {why}")),
                        _ => None,
                    };
                }
                let mut tasks = lock(&self.tasks);
                tasks.push(crate::events::forward(app.clone(), peer.clone()));
                let every = peer.clone();
                tasks.push(tauri::async_runtime::spawn(async move {
                    loop {
                        let _ = every.sync_known().await;
                        tokio::time::sleep(SYNC_EVERY).await;
                    }
                }));
                *slot = Some(peer);
            }
            Err(e) => {
                let mut live = lock(&self.live);
                live.status.online = false;
                live.status.error = Some(format!("network not started: {e}"));
            }
        }
        drop(slot);
        crate::events::status_changed(app);
    }

    /// Stops the network (on exit, or to apply new settings).
    pub(crate) async fn stop(&self) {
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
        let peer = self.peer.lock().await.take();
        if let Some(peer) = peer {
            match Arc::try_unwrap(peer) {
                Ok(peer) => peer.shutdown().await,
                // A command still holds it: it closes when that one ends.
                Err(_still_used) => {}
            }
        }
        *lock(&self.live) = Live::default();
    }

    /// Tells the network this process wrote to the store, so new entries
    /// go out now.
    pub(crate) async fn changed(&self) {
        if let Some(peer) = self.peer().await {
            peer.notify_local_change();
        }
    }
}
