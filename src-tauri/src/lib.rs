//! Starling's desktop and phone app: a thin Tauri 2 shell over the engine.
//!
//! The shell opens the profile folder, runs the same [`starling_core::Node`]
//! and network [`starling_core::net::Peer`] as `starling run` in the
//! background, answers the UI's typed commands ([`commands`]), pushes
//! network events to it (`net`), serves images from the store over the
//! `starling-media:` protocol, raises the system's notifications when the
//! UI asks, and takes `starling:` links opened from outside (`links`; one
//! running app per profile receives them). The UI lives in `ui/` (Svelte);
//! the phone entry point in `mobile/` calls [`builder`] and adds the
//! phone-only plugins.
#![deny(missing_docs)]

mod badge;
pub mod command_names;
mod commands;
mod events;
mod files;
mod links;
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
    let builder = tauri::Builder::default();
    // First: a second start of the app hands its link to the running one
    // and exits before anything else starts.
    #[cfg(desktop)]
    let builder = builder
        .plugin(single_instance())
        .plugin(tauri_plugin_dialog::init());
    // `starling:` links: the desktop's registered scheme, a phone's
    // manifest entry (mobile/tauri.conf.json).
    builder
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(navigation::guard())
        .register_asynchronous_uri_scheme_protocol(protocol::SCHEME, protocol::serve)
        .manage(links::OpenedLinks::default())
        .setup(|app| {
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                // The link the app was started with (its event went out
                // before anyone listened), then every later one.
                if let Ok(Some(urls)) = app.deep_link().get_current() {
                    links::opened(app.handle(), urls.into_iter().map(String::from));
                }
                let handle = app.handle().clone();
                app.deep_link().on_open_url(move |event| {
                    links::opened(&handle, event.urls().into_iter().map(String::from));
                });
            }
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

/// One running app per profile: another start with the same profile (the
/// same `STARLING_HOME`, or none) passes its arguments (a `starling:` link)
/// to the running app over D-Bus and exits. Without a session bus each
/// start runs on its own (the home's lock still keeps one node per
/// profile).
#[cfg(desktop)]
fn single_instance() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    let builder = tauri_plugin_single_instance::Builder::new().callback(|app, _argv, _cwd| {
        // A link among the arguments arrives through the deep-link plugin;
        // a plain second start brings the window forward.
        if let Some(w) = app.get_webview_window("main") {
            let _ = w.unminimize();
            let _ = w.show();
            let _ = w.set_focus();
        }
    });
    match std::env::var_os("STARLING_HOME").filter(|h| !h.is_empty()) {
        Some(home) => {
            let tag = blake3::hash(home.as_encoded_bytes()).to_hex();
            // A bus name's element must not start with a digit.
            builder
                .dbus_id(format!("org.starling.app.p{}", &tag[..16]))
                .build()
        }
        None => builder.build(),
    }
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
