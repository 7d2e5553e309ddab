//! On a phone target, builds the Tauri context from `tauri.conf.json` and
//! `capabilities/` here (the barcode scanner's permissions exist only
//! there); on a desktop target, only says that this is not `mobile`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mobile)");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "android" || os == "ios" {
        tauri_build::try_build(
            tauri_build::Attributes::new().app_manifest(
                tauri_build::AppManifest::new().commands(starling_commands::COMMANDS),
            ),
        )
        .expect("tauri build script failed");
    }
}

#[allow(unreachable_pub, dead_code)]
#[path = "../src-tauri/src/command_names.rs"]
mod starling_commands;
