//! Files the user picks: the system's own save and open dialogs (the
//! dialog plugin: GTK's file chooser on Linux, the native panels on macOS
//! and Windows), so a bundle goes where the user says and is read from
//! where it is, never through the UI as base64. Phones have no such path
//! (their pickers hand out content URIs): there an export is written under
//! the profile folder's `exports/` and an import is read by the page.

use std::path::PathBuf;

use tauri::AppHandle;

/// Whether this build asks with the system's dialogs.
pub(crate) const NATIVE: bool = cfg!(desktop);

/// The extension of bundle files.
pub(crate) const BUNDLE_EXTENSION: &str = "bundle";

/// Where the dialogs start: the user's documents folder, else home.
#[cfg(desktop)]
fn documents() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(
        dirs.document_dir()
            .unwrap_or_else(|| dirs.home_dir())
            .to_path_buf(),
    )
}

/// The system's file dialog titled `title`, for bundles: starting in the
/// documents folder, over the app's window.
#[cfg(desktop)]
fn chooser(app: &AppHandle, title: &str) -> tauri_plugin_dialog::FileDialogBuilder<tauri::Wry> {
    use tauri_plugin_dialog::DialogExt;
    let mut dialog = app
        .dialog()
        .file()
        .set_title(title)
        .add_filter("Starling bundle", &[BUNDLE_EXTENSION]);
    if let Some(dir) = documents() {
        dialog = dialog.set_directory(dir);
    }
    if let Some(window) = tauri::Manager::get_webview_window(app, "main") {
        dialog = dialog.set_parent(&window);
    }
    dialog
}

/// Asks where to save a file (`default_name` proposed, in the user's
/// documents folder): `None` when the user cancels.
#[cfg(desktop)]
pub(crate) fn save_path(app: &AppHandle, title: &str, default_name: &str) -> Option<PathBuf> {
    chooser(app, title)
        .set_file_name(default_name)
        .blocking_save_file()?
        .into_path()
        .ok()
}

/// Asks which file to open: `None` when the user cancels.
#[cfg(desktop)]
pub(crate) fn open_path(app: &AppHandle, title: &str) -> Option<PathBuf> {
    chooser(app, title)
        .add_filter("Any file", &["*"])
        .blocking_pick_file()?
        .into_path()
        .ok()
}

/// Phones: no dialog (see the module's note).
#[cfg(mobile)]
pub(crate) fn save_path(_app: &AppHandle, _title: &str, _default_name: &str) -> Option<PathBuf> {
    None
}

/// Phones: no dialog (see the module's note).
#[cfg(mobile)]
pub(crate) fn open_path(_app: &AppHandle, _title: &str) -> Option<PathBuf> {
    None
}
