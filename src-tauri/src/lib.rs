//! Starling's desktop and phone app: a thin Tauri 2 shell over the engine.
//!
//! The shell opens the profile folder, runs the same [`starling_core::Node`]
//! and network [`starling_core::net::Peer`] as `starling run` in the
//! background, answers the UI's typed commands ([`commands`]), pushes
//! network events to it (`net`), and serves images from the store over the
//! `starling:` protocol. The UI lives in `ui/` (Svelte); the phone entry
//! point in `mobile/` calls [`builder`] and adds the phone-only plugins.
#![deny(missing_docs)]

pub mod command_names;
mod commands;
mod events;
mod navigation;
mod protocol;
mod settings;
mod shell;

use tauri::Manager;

pub use shell::Shell;

/// The app with its commands, state and protocol, ready for phone-only
/// plugins to be added before [`tauri::Builder::run`].
pub fn builder() -> tauri::Builder<tauri::Wry> {
    shell::STARTED.get_or_init(std::time::Instant::now);
    tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(navigation::guard())
        .register_asynchronous_uri_scheme_protocol("starling", protocol::serve)
        .setup(|app| {
            let shell = Shell::new(shell::home_dir(app)?)?;
            app.manage(shell);
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                // A failure shows in the sync indicator.
                let _ = handle.state::<Shell>().start(&handle).await;
            });
            Ok(())
        })
        .invoke_handler(commands::handler())
}

/// Runs the desktop app until its window closes.
pub fn run() {
    let app = builder()
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("starling: cannot start the app: {e}");
            std::process::exit(1);
        });
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            tauri::async_runtime::block_on(handle.state::<Shell>().stop());
        }
    });
}
