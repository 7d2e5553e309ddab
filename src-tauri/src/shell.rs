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

/// When this process started the app (for the first-paint benchmark).
pub(crate) static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// How a first start makes the profile.
#[derive(Debug)]
pub(crate) enum Create<'a> {
    /// A new identity with this name.
    New(&'a str),
    /// Another device of the identity that made this link ticket.
    Join(&'a starling_core::Ticket),
}

/// Everything the commands share.
pub struct Shell {
    pub(crate) home: PathBuf,
    node: Mutex<Option<SharedNode>>,
    peer: tokio::sync::Mutex<Option<Arc<Peer>>>,
    /// Held while the network starts or stops, so two never overlap.
    starting: tokio::sync::Mutex<()>,
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

/// The profile folder: `STARLING_HOME`; else on a desktop the platform's
/// data folder (the same one the CLI uses), on a phone the app's own.
pub(crate) fn home_dir<R: tauri::Runtime>(app: &tauri::App<R>) -> Result<PathBuf, String> {
    if let Some(h) = std::env::var_os("STARLING_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    #[cfg(mobile)]
    {
        use tauri::Manager;
        app.path()
            .app_data_dir()
            .map_err(|e| format!("cannot find the app's data folder: {e}"))
    }
    #[cfg(not(mobile))]
    {
        let _ = app;
        directories::ProjectDirs::from("org", "starling", "starling")
            .map(|d| d.data_dir().to_path_buf())
            .ok_or_else(|| "cannot find a data folder; set STARLING_HOME".to_string())
    }
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
            node: Mutex::new(node),
            peer: tokio::sync::Mutex::new(None),
            starting: tokio::sync::Mutex::new(()),
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

    /// Makes the profile on first start: a new identity, or (`Join`) this
    /// device linked to an existing one by a link ticket.
    pub(crate) fn create(&self, how: Create<'_>) -> Result<SharedNode, String> {
        let mut slot = lock(&self.node);
        if slot.is_some() {
            return Err("this device already has an identity".into());
        }
        let node = match how {
            Create::New(name) => Node::init(&self.home, name),
            Create::Join(ticket) => Node::device_join(&self.home, ticket),
        }
        .map_err(|e| e.to_string())?;
        let shared = Arc::new(Mutex::new(node));
        *slot = Some(shared.clone());
        Ok(shared)
    }

    /// The running network face, if it is up.
    pub(crate) async fn peer(&self) -> Option<Arc<Peer>> {
        self.peer.lock().await.clone()
    }

    /// Starts the network for the open profile (nothing before first
    /// start); the error, if any, is also shown by the sync indicator.
    pub(crate) async fn start(&self, app: &AppHandle) -> Result<(), String> {
        let Ok(node) = self.node() else {
            return Ok(());
        };
        let _starting = self.starting.lock().await;
        if self.peer.lock().await.is_some() {
            return Ok(());
        }
        let config = Settings::load(&self.home).net_config();
        let discovery = config.local_discovery;
        // Commands keep working meanwhile: the peer slot is not held.
        let started = Peer::start(node.clone(), config).await;
        let result = match started {
            Ok(peer) => {
                let peer = Arc::new(peer);
                // A relay, if any, is briefly waited for so tickets carry it.
                peer.online(Duration::from_secs(3)).await;
                let addr = peer.addr();
                let reachable = lock(&node).set_reachable_at(&addr);
                {
                    let mut live = lock(&self.live);
                    live.status.listening = addr.addrs.iter().map(|a| a.to_string()).collect();
                    live.status.online = true;
                    live.status.error = match (discovery, peer.local_discovery(), reachable) {
                        (_, _, Err(e)) => Some(format!("cannot record this device's address: {e}")),
                        (true, Err(why), _) => Some(format!("local discovery off: {why}")),
                        _ => None,
                    };
                }
                let every = peer.clone();
                let sync = tauri::async_runtime::spawn(async move {
                    loop {
                        let _ = every.sync_known().await;
                        tokio::time::sleep(SYNC_EVERY).await;
                    }
                });
                lock(&self.tasks).extend([crate::events::forward(app.clone(), peer.clone()), sync]);
                *self.peer.lock().await = Some(peer);
                Ok(())
            }
            Err(e) => {
                let why = format!("network not started: {e}");
                {
                    let mut live = lock(&self.live);
                    live.status.online = false;
                    live.status.error = Some(why.clone());
                }
                Err(why)
            }
        };
        crate::events::status_changed(app);
        result
    }

    /// Stops the network (on exit, or to apply new settings). Commands that
    /// still hold the old peer finish against a closed endpoint.
    pub(crate) async fn stop(&self) {
        let _starting = self.starting.lock().await;
        let tasks: Vec<_> = lock(&self.tasks).drain(..).collect();
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
        let peer = self.peer.lock().await.take();
        if let Some(peer) = peer {
            peer.shutdown().await;
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
