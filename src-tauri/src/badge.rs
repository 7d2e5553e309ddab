//! The unread count on the app's dock or taskbar icon.
//!
//! On Linux the docks that show counts (KDE Plasma's task manager,
//! Ubuntu's dock and GNOME's Dash to Dock, Unity's launcher) read them
//! from the `com.canonical.Unity.LauncherEntry.Update` signal on the
//! session bus, naming the app by its desktop file; this module sends it.
//! (Tauri's own `set_badge_count` reaches that signal on Linux only
//! through libunity, which most systems lack.) Elsewhere it is Tauri's
//! `set_badge_count` (macOS's dock, iOS).

use tauri::AppHandle;

/// Shows `count` on the app's icon (0 takes it away).
pub(crate) fn show(app: &AppHandle, count: u32) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        linux::update(&app.package_info().name, count)
    }
    #[cfg(not(target_os = "linux"))]
    {
        use tauri::Manager;
        let Some(window) = app.get_webview_window("main") else {
            return Ok(());
        };
        window
            .set_badge_count((count > 0).then_some(i64::from(count)))
            .map_err(|e| e.to_string())
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    use zbus::blocking::Connection;
    use zbus::zvariant::Value;

    /// The session bus, connected once (`None`: there is none).
    static BUS: OnceLock<Option<Connection>> = OnceLock::new();

    /// Sends the launcher entry's new count for the app whose desktop
    /// file is `<name>.desktop`.
    pub(super) fn update(name: &str, count: u32) -> Result<(), String> {
        let Some(bus) = BUS.get_or_init(|| Connection::session().ok()) else {
            return Ok(());
        };
        let uri = format!("application://{name}.desktop");
        // One object per app, as libunity names it: any path unique to it.
        let path = format!(
            "/com/canonical/unity/launcherentry/{}",
            &blake3::hash(uri.as_bytes()).to_hex()[..16]
        );
        let mut props: HashMap<&str, Value<'_>> = HashMap::new();
        props.insert("count", Value::I64(i64::from(count)));
        props.insert("count-visible", Value::Bool(count > 0));
        bus.emit_signal(
            None::<&str>,
            path.as_str(),
            "com.canonical.Unity.LauncherEntry",
            "Update",
            &(uri.as_str(), props),
        )
        .map_err(|e| e.to_string())
    }
}
