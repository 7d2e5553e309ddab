//! Starling on phones: the Tauri mobile entry point. The shell, commands
//! and UI are the desktop app's (`src-tauri`, `ui`); phones add the
//! barcode scanner, which the UI uses to scan tickets with the camera.
//!
//! Build with the Tauri CLI from this folder (see the README):
//! `npx tauri android build` or `npx tauri ios build`.

/// Runs the app on a phone.
#[cfg(mobile)]
#[tauri::mobile_entry_point]
pub fn run() {
    starling_app::builder()
        .plugin(tauri_plugin_barcode_scanner::init())
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| panic!("cannot start Starling: {e}"));
}

/// On a desktop target this crate is the desktop app.
#[cfg(not(mobile))]
pub fn run() {
    starling_app::run();
}
