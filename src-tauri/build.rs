//! Generates the app's command permissions: each command must be granted
//! to the window by a capability (`capabilities/`), nothing is on by default.

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(starling_commands::COMMANDS)),
    )
    .expect("tauri build script failed");
}

#[allow(unreachable_pub, dead_code)]
#[path = "src/command_names.rs"]
mod starling_commands;
