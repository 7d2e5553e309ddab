//! Secrets at rest: with an OS keychain (a real Secret Service, started by
//! `scripts/keychain-test.sh` under `dbus-run-session`), no secret is in
//! any file of the home; without one, the fallback files are the owner's
//! only. The keychain half needs that session, so it is ignored by a plain
//! `cargo test` and run by the script (`--include-ignored`); there it
//! fails if it finds no keychain.

use std::path::Path;
use std::process::{Command, Output};

use starling_core::node::secrets::{Place, Secret, keychain_read, place};

fn starling(home: &Path, keychain: &str, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_starling"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("STARLING_HOME")
        .env("STARLING_KEYCHAIN", keychain)
        .output()
        .expect("run starling");
    assert!(
        out.status.success(),
        "starling {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Asserts that no file under `home` holds `secret`, raw or as hex.
fn in_no_file(home: &Path, what: &str, secret: &[u8; 32]) {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let mut dirs = vec![home.to_path_buf()];
    let mut files = 0;
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !contains(&bytes, secret) && !contains(&bytes, hex.as_bytes()),
                "the {what} secret is in {}",
                p.display()
            );
        }
    }
    assert!(files >= 2, "the home has its store");
}

#[test]
#[ignore = "needs a Secret Service: run scripts/keychain-test.sh"]
fn with_a_keychain_no_secret_is_in_any_file_of_the_home() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("kc");
    starling(&home, "on", &["init", "--name", "kc"]);
    starling(&home, "on", &["post", "kept in the keychain"]);
    let Place::Keychain(account) = place(&home).unwrap() else {
        panic!("the secrets went to files");
    };
    assert!(!home.join("identity.key").exists() && !home.join("device.key").exists());
    let identity = keychain_read(&account, Secret::Identity)
        .unwrap()
        .expect("identity key");
    let device = keychain_read(&account, Secret::Device)
        .unwrap()
        .expect("device key");
    in_no_file(&home, "identity", &identity);
    in_no_file(&home, "device", &device);
    // The node reads them back: it still posts as the same identity.
    let who = String::from_utf8(starling(&home, "on", &["whoami", "--json"]).stdout).unwrap();
    let me = starling_core::IdentityKey::from_secret_bytes(identity).id();
    assert!(who.contains(&me.to_string()), "{who}");

    // A home made with files moves into the keychain when opened with it on.
    let old = dir.path().join("old");
    starling(&old, "off", &["init", "--name", "old"]);
    assert_eq!(place(&old).unwrap(), Place::Files);
    let device = starling_core::node::secrets::read(&old, Secret::Device)
        .unwrap()
        .unwrap();
    starling(&old, "on", &["post", "moved"]);
    assert!(matches!(place(&old).unwrap(), Place::Keychain(_)));
    in_no_file(&old, "moved device", &device);
    starling(&old, "auto", &["timeline"]);
}

#[test]
fn without_a_keychain_the_secrets_fall_back_to_the_owners_files() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("files");
    // No session bus to find: `auto` falls back to files at once.
    let out = Command::new(env!("CARGO_BIN_EXE_starling"))
        .arg("--home")
        .arg(&home)
        .args(["init", "--name", "files"])
        .env_remove("STARLING_HOME")
        .env("STARLING_KEYCHAIN", "auto")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/starling-test-bus",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(place(&home).unwrap(), Place::Files);
    #[cfg(unix)]
    for f in ["identity.key", "device.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    // `on` with no keychain is a clear error, not a silent fallback.
    let out = Command::new(env!("CARGO_BIN_EXE_starling"))
        .arg("--home")
        .arg(dir.path().join("strict"))
        .args(["init", "--name", "strict"])
        .env_remove("STARLING_HOME")
        .env("STARLING_KEYCHAIN", "on")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/starling-test-bus",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("keychain"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
