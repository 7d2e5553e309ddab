//! `starling:` links opened from outside the app: a QR code a phone's
//! camera read, a link clicked in a browser or a chat, `xdg-open`, or the
//! app's binary started with the link while the app runs (the running
//! instance receives it through the single-instance plugin). The ticket a
//! link carries goes to the UI, which says what it is and asks before
//! following or joining anything: opening a link never acts by itself.

use std::sync::Mutex;

use starling_core::Ticket;
use starling_core::ticket::URI_SCHEME;
use starling_core::view::ScannedTicket;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::shell::lock;

/// Most links kept for the UI while it is not listening yet.
pub(crate) const MAX_PENDING: usize = 8;

/// The UI event that carries an opened link's ticket.
pub(crate) const EVENT: &str = "link-opened";

/// Links opened before the UI took them (at start-up, the link the app was
/// started with: the page has not loaded yet when it arrives).
#[derive(Default)]
pub(crate) struct OpenedLinks(Mutex<Vec<ScannedTicket>>);

impl OpenedLinks {
    /// Keeps `ticket` for the UI (the oldest goes past [`MAX_PENDING`]).
    fn keep(&self, ticket: ScannedTicket) {
        let mut pending = lock(&self.0);
        if pending.len() >= MAX_PENDING {
            pending.remove(0);
        }
        pending.push(ticket);
    }

    /// The links not yet taken, oldest first.
    pub(crate) fn take(&self) -> Vec<ScannedTicket> {
        std::mem::take(&mut *lock(&self.0))
    }
}

/// The ticket a `starling:` link carries; `None` for any other link, or
/// one whose ticket does not decode.
pub(crate) fn ticket_of(url: &str) -> Option<ScannedTicket> {
    let scheme = url.split_once(':')?.0;
    if !scheme.eq_ignore_ascii_case(URI_SCHEME) {
        return None;
    }
    Ticket::decode(url).ok().map(|t| t.view())
}

/// Hands the tickets of `urls` to the UI: kept until it takes them, and
/// announced at once (for a UI already running), with the window brought
/// to the front. Other links are ignored.
pub(crate) fn opened<R: Runtime>(app: &AppHandle<R>, urls: impl IntoIterator<Item = String>) {
    let Some(links) = app.try_state::<OpenedLinks>() else {
        return;
    };
    let mut any = false;
    for ticket in urls.into_iter().filter_map(|u| ticket_of(&u)) {
        links.keep(ticket);
        any = true;
    }
    if !any {
        return;
    }
    let _ = app.emit(EVENT, ());
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

#[cfg(test)]
mod tests {
    use starling_core::ticket::FeedTicket;
    use starling_core::view::TicketKind;
    use starling_core::{IdentityId, Ticket};

    use super::*;

    fn ticket() -> Ticket {
        Ticket::Feed(FeedTicket {
            identity: IdentityId([7; 32]),
            key: [9; 32],
            peer: None,
        })
    }

    #[test]
    fn only_starling_links_with_a_ticket_count() {
        let t = ticket();
        let seen = ticket_of(&t.to_uri()).expect("a starling: link");
        assert_eq!(seen.kind, TicketKind::Feed);
        assert_eq!(seen.identity, Some(IdentityId([7; 32])));
        assert!(ticket_of(&t.to_uri().to_uppercase()).is_some());
        assert!(ticket_of(&format!("starling://{}", t.encode())).is_some());
        for other in [
            format!("https://example.org/{}", t.encode()),
            t.encode(),
            "starling:nothing".into(),
            "starling:".into(),
            String::new(),
        ] {
            assert!(ticket_of(&other).is_none(), "{other}");
        }
    }

    #[test]
    fn pending_links_are_bounded_and_taken_once() {
        let links = OpenedLinks::default();
        for _ in 0..MAX_PENDING + 3 {
            links.keep(ticket().view());
        }
        assert_eq!(links.take().len(), MAX_PENDING);
        assert!(links.take().is_empty());
    }
}
