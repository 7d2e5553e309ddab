//! The shell's state: the profile folder, the open node and the service
//! that keeps it on the network (`starling_core::net::Service`, the same
//! one `starling run` keeps).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use starling_core::Node;
use starling_core::net::{Peer, Service, ServiceConfig, SharedNode};
use starling_core::view::{ErrorKind, ErrorView, NetStatus};
use tauri::AppHandle;

use crate::settings::Settings;

/// How often every known peer is asked for a catch-up (live posts arrive
/// through gossip in between).
const SYNC_EVERY: Duration = Duration::from_secs(60);
/// How long a relay is waited for at start, so tickets carry it.
const RELAY_WAIT: Duration = Duration::from_secs(3);

/// When this process started the app (for the first-paint benchmark).
pub(crate) static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// How a first start makes the profile.
#[derive(Debug)]
pub(crate) enum Create<'a> {
    /// A new identity with this name.
    New(&'a str),
    /// A new device of the identity that granted it, with its own device
    /// key and the device that linked it.
    Join {
        /// This device's key (the one the link was made with).
        device: Box<starling_core::DeviceKey>,
        /// The grant's bytes.
        grant: &'a [u8],
        /// The device that linked it.
        linker: &'a starling_core::PeerAddr,
    },
    /// The identity these 24 words name, on this new device.
    Recover(&'a str),
}

/// Everything the commands share.
pub struct Shell {
    pub(crate) home: PathBuf,
    node: Mutex<Option<SharedNode>>,
    service: tokio::sync::Mutex<Option<Arc<Service>>>,
    /// Why the network did not start, if it did not.
    failure: Mutex<Option<String>>,
    /// Held while the network starts or stops, so two never overlap.
    starting: tokio::sync::Mutex<()>,
    pub(crate) first_paint: Mutex<Option<u64>>,
    forward: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    /// A new device asking to link, waiting for the user's answer.
    pub(crate) link_request: Mutex<Option<starling_core::net::LinkRequest>>,
    /// This (new) device's link under way, waiting for the user's answer.
    pub(crate) joining: Mutex<Option<Joining>>,
}

/// A link this new device started: the user's answer to send, and the
/// session that returns the grant.
pub(crate) struct Joining {
    pub(crate) decide: tokio::sync::oneshot::Sender<bool>,
    pub(crate) session:
        tauri::async_runtime::JoinHandle<Result<Vec<u8>, starling_core::net::NetError>>,
    pub(crate) device: starling_core::DeviceKey,
    pub(crate) linker: starling_core::PeerAddr,
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
            service: tokio::sync::Mutex::new(None),
            failure: Mutex::new(None),
            starting: tokio::sync::Mutex::new(()),
            first_paint: Mutex::new(None),
            forward: Mutex::new(None),
            link_request: Mutex::new(None),
            joining: Mutex::new(None),
        })
    }

    /// The open node, or an error the UI can show before first start.
    pub(crate) fn node(&self) -> Result<SharedNode, ErrorView> {
        lock(&self.node).clone().ok_or_else(|| {
            ErrorView::new(ErrorKind::NoIdentity, "no identity yet: create one first")
        })
    }

    /// Whether a profile is open.
    pub(crate) fn has_node(&self) -> bool {
        lock(&self.node).is_some()
    }

    /// Makes the profile on first start: a new identity, or (`Join`) this
    /// device linked to an existing one by a link ticket.
    pub(crate) fn create(&self, how: Create<'_>) -> Result<SharedNode, ErrorView> {
        let mut slot = lock(&self.node);
        if slot.is_some() {
            return Err(ErrorView::new(
                ErrorKind::AlreadyExists,
                "this device already has an identity",
            ));
        }
        let node = match how {
            Create::New(name) => Node::init(&self.home, name),
            Create::Join {
                device,
                grant,
                linker,
            } => Node::device_join(&self.home, *device, grant, linker),
            Create::Recover(words) => Node::recover(&self.home, words),
        }
        .map_err(|e| e.view())?;
        let shared = Arc::new(Mutex::new(node));
        *slot = Some(shared.clone());
        Ok(shared)
    }

    /// The running peer, if the network is up.
    pub(crate) async fn peer(&self) -> Option<Arc<Peer>> {
        self.service.lock().await.as_ref().map(|s| s.peer().clone())
    }

    /// The running peer, or the error a command returns without one.
    pub(crate) async fn running_peer(&self) -> Result<Arc<Peer>, ErrorView> {
        self.peer()
            .await
            .ok_or_else(|| ErrorView::new(ErrorKind::Network, "the network is not running"))
    }

    /// What the sync indicator shows.
    pub(crate) async fn net_status(&self) -> NetStatus {
        match self.service.lock().await.as_ref() {
            Some(s) => s.status(),
            None => NetStatus {
                error: lock(&self.failure).clone(),
                ..NetStatus::default()
            },
        }
    }

    /// Starts the network for the open profile (nothing before first
    /// start); the error, if any, is also shown by the sync indicator.
    pub(crate) async fn start(&self, app: &AppHandle) -> Result<(), ErrorView> {
        let Ok(node) = self.node() else {
            return Ok(());
        };
        let _starting = self.starting.lock().await;
        if self.service.lock().await.is_some() {
            return Ok(());
        }
        let config = ServiceConfig {
            net: Settings::load(&self.home).net_config(),
            sync_every: SYNC_EVERY,
            relay_wait: RELAY_WAIT,
            storage_every: starling_core::net::STORAGE_CHECK_EVERY,
        };
        // Commands keep working meanwhile: the service slot is not held.
        let result = match Service::start(node, config).await {
            Ok(service) => {
                let service = Arc::new(service);
                *lock(&self.forward) = Some(crate::events::forward(app.clone(), &service));
                *lock(&self.failure) = None;
                *self.service.lock().await = Some(service);
                Ok(())
            }
            Err(e) => {
                let why = format!("network not started: {e}");
                *lock(&self.failure) = Some(why.clone());
                Err(ErrorView::new(ErrorKind::Network, why))
            }
        };
        crate::events::changed(app);
        result
    }

    /// Stops the network (on exit, or to apply new settings). Commands that
    /// still hold the old peer finish against a closed endpoint.
    pub(crate) async fn stop(&self) {
        let _starting = self.starting.lock().await;
        if let Some(t) = lock(&self.forward).take() {
            t.abort();
        }
        if let Some(service) = self.service.lock().await.take() {
            service.shutdown().await;
        }
        *lock(&self.failure) = None;
    }

    /// Tells the network this process wrote to the store, so new entries
    /// go out now.
    pub(crate) async fn changed(&self) {
        if let Some(s) = self.service.lock().await.as_ref() {
            s.notify_local_change();
        }
    }
}
