//! Network events pushed to the UI on the `net` channel — the core's
//! `Event`s, the same `starling run --json` prints — so screens update live
//! without polling.

use starling_core::net::Service;
use starling_core::view::Event;
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

/// Forwards the service's events to the UI until the service stops.
pub(crate) fn forward(app: AppHandle, service: &Service) -> tauri::async_runtime::JoinHandle<()> {
    let mut rx = service.events();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let _ = app.emit("net", e);
                }
                // Too far behind: whatever was missed, the UI reloads.
                Err(RecvError::Lagged(_)) => changed(&app),
                Err(RecvError::Closed) => break,
            }
        }
    })
}

/// Tells the UI to reload what it shows (after the network started or
/// stopped, or missed events).
pub(crate) fn changed(app: &AppHandle) {
    let _ = app.emit("net", Event::Changed);
}
