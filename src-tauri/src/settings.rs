//! The app's network settings, kept beside the store as `app.json`.
//!
//! Environment variables override the file, so tests and scripts can pin a
//! run to loopback: `STARLING_RELAY` (`none`, `default` or a URL),
//! `STARLING_BIND` (comma-separated socket addresses) and
//! `STARLING_LOCAL_DISCOVERY` and `STARLING_DHT` (`0` or `1`).

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use starling_core::net::{Dht, NetConfig, Relay};

/// What a person can set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Settings {
    /// `none`, `default` or a relay URL.
    pub(crate) relay: String,
    /// Find peers on the local network with mDNS.
    pub(crate) local_discovery: bool,
    /// Publish addresses in, and look peers up in, the Mainline DHT
    /// (opt-in; missing in files written before it existed).
    #[serde(default)]
    pub(crate) dht: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            relay: "default".into(),
            local_discovery: true,
            dht: false,
        }
    }
}

const FILE: &str = "app.json";

impl Settings {
    /// The saved settings, or the defaults when there are none (or they do
    /// not parse: a broken file must not stop the app).
    pub(crate) fn load(home: &Path) -> Self {
        std::fs::read(home.join(FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Saves the settings.
    pub(crate) fn save(&self, home: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(home)?;
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(home.join(FILE), json)
    }

    /// Checks a relay setting.
    pub(crate) fn check_relay(relay: &str) -> Result<(), String> {
        match Relay::parse(relay) {
            Relay::Custom(url) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                Err(format!(
                    "a relay is `none`, `default` or an http(s) URL, not {url:?}"
                ))
            }
            _ => Ok(()),
        }
    }

    /// The endpoint's configuration: these settings, then the environment.
    pub(crate) fn net_config(&self) -> NetConfig {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let relay = env("STARLING_RELAY").unwrap_or_else(|| self.relay.clone());
        let bind: Vec<SocketAddr> = env("STARLING_BIND")
            .map(|b| b.split(',').filter_map(|a| a.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![SocketAddr::from(([0, 0, 0, 0], 0))]);
        let local_discovery = env("STARLING_LOCAL_DISCOVERY")
            .map(|v| v != "0")
            .unwrap_or(self.local_discovery);
        let dht = env("STARLING_DHT").map(|v| v != "0").unwrap_or(self.dht);
        NetConfig {
            bind,
            relay: Relay::parse(&relay),
            local_discovery,
            dht: dht.then(Dht::default),
            ..NetConfig::loopback()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn settings_round_trip_and_a_broken_file_gives_defaults() {
        let dir = std::env::temp_dir().join(format!("starling-settings-{}", std::process::id()));
        let s = Settings {
            relay: "https://relay.example".into(),
            local_discovery: false,
            dht: true,
        };
        s.save(&dir).unwrap();
        assert_eq!(Settings::load(&dir), s);
        std::fs::write(dir.join(super::FILE), b"{not json").unwrap();
        assert_eq!(Settings::load(&dir), Settings::default());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relay_settings_are_checked() {
        assert!(Settings::check_relay("none").is_ok());
        assert!(Settings::check_relay("default").is_ok());
        assert!(Settings::check_relay("https://r.example").is_ok());
        assert!(Settings::check_relay("ftp://x").is_err());
    }
}
