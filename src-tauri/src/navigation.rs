//! The window never leaves the app: navigation to anything but the app's
//! own pages is refused (links open in the system browser through the
//! `open_link` command instead).

use tauri::plugin::TauriPlugin;
use tauri::{Runtime, Url};

/// Whether the webview may load `url`: the bundled UI (`tauri://localhost`
/// on Linux and macOS, `http(s)://tauri.localhost` on Windows and Android)
/// or, in development, the Vite server.
pub(crate) fn allowed(url: &Url) -> bool {
    match (url.scheme(), url.host_str()) {
        ("tauri", Some("localhost")) => true,
        ("http" | "https", Some("tauri.localhost")) => true,
        ("http", Some("localhost")) => cfg!(debug_assertions) && url.port() == Some(5173),
        ("about", _) => url.as_str() == "about:blank",
        _ => false,
    }
}

/// The plugin that enforces it.
pub(crate) fn guard<R: Runtime>() -> TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_, url| allowed(url))
        .build()
}

/// Whether `url` may be handed to the system browser: http(s) only.
pub(crate) fn external(url: &str) -> Option<Url> {
    let u = Url::parse(url).ok()?;
    matches!(u.scheme(), "http" | "https").then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_app_is_loaded_and_only_web_links_leave_it() {
        let ok = |s: &str| allowed(&Url::parse(s).unwrap());
        assert!(ok("tauri://localhost/index.html"));
        assert!(ok("http://tauri.localhost/"));
        assert!(!ok("https://example.org/"));
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("tauri://evil.example/"));
        assert!(external("https://example.org/x").is_some());
        assert!(external("javascript:alert(1)").is_none());
        assert!(external("file:///etc/passwd").is_none());
        assert!(external("not a url").is_none());
    }
}
