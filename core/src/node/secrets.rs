//! Where a device keeps its two secrets (the identity key, where this
//! device holds it, and the device key): the OS keychain when one answers
//! (Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows, through the `keyring` crate), else files in the home readable
//! only by their owner, written through a temporary file with the file and
//! its folder synced.
//!
//! A home whose secrets are in the keychain holds a file `keychain` with
//! the account name they are kept under (not a secret). `STARLING_KEYCHAIN`
//! chooses for new homes: `auto` (the default: the keychain if it answers
//! within a few seconds, else files), `on` (the keychain or an error) or
//! `off` (files). A home made with files moves its secrets into the
//! keychain when opened with `on`.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::{NodeError, Result, io_err, random};

const IDENTITY_FILE: &str = "identity.key";
const DEVICE_FILE: &str = "device.key";
/// Names the keychain account of a home whose secrets live there.
const KEYCHAIN_FILE: &str = "keychain";
/// The keychain service every Starling secret is filed under.
pub const KEYCHAIN_SERVICE: &str = "starling";
/// How long a keychain may take to answer before `auto` falls back to files.
const KEYCHAIN_WAIT: Duration = Duration::from_secs(5);

/// Which secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The identity's signing key.
    Identity,
    /// This device's signing key.
    Device,
}

impl Secret {
    fn file(self) -> &'static str {
        match self {
            Secret::Identity => IDENTITY_FILE,
            Secret::Device => DEVICE_FILE,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Secret::Identity => "identity",
            Secret::Device => "device",
        }
    }
}

/// Where new secrets go (`STARLING_KEYCHAIN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeychainChoice {
    /// The keychain if it answers, else files.
    Auto,
    /// The keychain, or an error.
    On,
    /// Files.
    Off,
}

impl KeychainChoice {
    /// The choice `STARLING_KEYCHAIN` makes (`auto` when unset or unknown).
    pub fn from_env() -> Self {
        match std::env::var("STARLING_KEYCHAIN").as_deref() {
            Ok("on" | "1" | "yes") => Self::On,
            Ok("off" | "0" | "no") => Self::Off,
            _ => Self::Auto,
        }
    }
}

/// Whether `home` holds a device's secrets (in files or the keychain).
pub(crate) fn exist(home: &Path) -> bool {
    [IDENTITY_FILE, DEVICE_FILE, KEYCHAIN_FILE]
        .iter()
        .any(|f| home.join(f).exists())
}

/// Where a home's secrets are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// In the keychain, under this account name.
    Keychain(String),
    /// In files in the home.
    Files,
}

/// Where the secrets of `home` are kept.
pub fn place(home: &Path) -> Result<Place> {
    let path = home.join(KEYCHAIN_FILE);
    if path.exists() {
        let account = fs::read_to_string(&path).map_err(io_err(&path))?;
        Ok(Place::Keychain(account.trim().to_string()))
    } else {
        Ok(Place::Files)
    }
}

/// Reads a secret of `home` (`None` when this device does not hold it).
pub fn read(home: &Path, secret: Secret) -> Result<Option<[u8; 32]>> {
    match place(home)? {
        Place::Keychain(account) => keychain_read(&account, secret),
        Place::Files => {
            let path = home.join(secret.file());
            if !path.exists() {
                return Ok(None);
            }
            read_file(&path).map(Some)
        }
    }
}

/// Keeps the secrets of a new home where `choice` says. Returns where.
pub(crate) fn keep(
    home: &Path,
    choice: KeychainChoice,
    secrets: &[(Secret, [u8; 32])],
) -> Result<Place> {
    if choice != KeychainChoice::Off {
        let account = crate::id::hex(&random::<16>()?);
        match keychain_write_all(&account, secrets) {
            Ok(()) => {
                write_file(&home.join(KEYCHAIN_FILE), account.as_bytes())?;
                return Ok(Place::Keychain(account));
            }
            Err(e) if choice == KeychainChoice::On => return Err(e),
            Err(_) => {}
        }
    }
    for (secret, bytes) in secrets {
        write_file(&home.join(secret.file()), crate::id::hex(bytes).as_bytes())?;
    }
    Ok(Place::Files)
}

/// Moves the secrets of a home kept in files into the keychain (and
/// removes the files). Nothing changes if the keychain does not answer.
pub(crate) fn move_to_keychain(home: &Path) -> Result<Place> {
    if place(home)? != Place::Files {
        return place(home);
    }
    let mut secrets = Vec::new();
    for s in [Secret::Identity, Secret::Device] {
        if let Some(b) = read(home, s)? {
            secrets.push((s, b));
        }
    }
    let account = crate::id::hex(&random::<16>()?);
    keychain_write_all(&account, &secrets)?;
    write_file(&home.join(KEYCHAIN_FILE), account.as_bytes())?;
    for (s, _) in &secrets {
        let path = home.join(s.file());
        fs::remove_file(&path).map_err(io_err(&path))?;
    }
    sync_dir(home)?;
    Ok(Place::Keychain(account))
}

/// Reads a secret kept in the keychain under `account` (for tests that
/// check what a home's files do not hold).
pub fn keychain_read(account: &str, secret: Secret) -> Result<Option<[u8; 32]>> {
    let entry = keychain_entry(account, secret)?;
    let got = on_keychain(move || match entry.get_secret() {
        Ok(b) => Ok(Some(b)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(e),
    })?;
    got.map(|b| {
        <[u8; 32]>::try_from(b.as_slice()).map_err(|_| {
            NodeError::Keychain(format!("the {} key there is not 32 bytes", secret.suffix()))
        })
    })
    .transpose()
}

fn keychain_write_all(account: &str, secrets: &[(Secret, [u8; 32])]) -> Result<()> {
    for (secret, bytes) in secrets {
        let entry = keychain_entry(account, *secret)?;
        let bytes = *bytes;
        on_keychain(move || entry.set_secret(&bytes))?;
        if keychain_read(account, *secret)? != Some(bytes) {
            return Err(NodeError::Keychain(
                "the keychain did not give back what was stored".into(),
            ));
        }
    }
    Ok(())
}

fn keychain_entry(account: &str, secret: Secret) -> Result<keyring::Entry> {
    let user = format!("{account}/{}", secret.suffix());
    keyring::Entry::new(KEYCHAIN_SERVICE, &user).map_err(|e| NodeError::Keychain(e.to_string()))
}

/// Runs a keychain call on its own thread, waiting at most
/// [`KEYCHAIN_WAIT`] (a Secret Service that never answers must not hang
/// the app).
fn on_keychain<T: Send + 'static>(
    f: impl FnOnce() -> keyring::Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(KEYCHAIN_WAIT) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(NodeError::Keychain(e.to_string())),
        Err(_) => Err(NodeError::Keychain(format!(
            "no answer within {} s",
            KEYCHAIN_WAIT.as_secs()
        ))),
    }
}

/// Writes a file readable only by its owner, atomically: a temporary file
/// written and synced, renamed over the file, and the folder synced.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Syncs a folder, so that a rename or removal in it is on disk.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn read_file(path: &Path) -> Result<[u8; 32]> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    let v = data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.trim().as_bytes())
        .map_err(|_| NodeError::BadKeyFile(path.to_path_buf()))?;
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| NodeError::BadKeyFile(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn files_are_the_owners_only_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let place = keep(
            dir.path(),
            KeychainChoice::Off,
            &[(Secret::Identity, [7; 32]), (Secret::Device, [9; 32])],
        )
        .unwrap();
        assert_eq!(place, Place::Files);
        for f in [IDENTITY_FILE, DEVICE_FILE] {
            let mode = fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        assert!(!dir.path().join("identity.tmp").exists());
        assert_eq!(read(dir.path(), Secret::Identity).unwrap(), Some([7; 32]));
        assert_eq!(read(dir.path(), Secret::Device).unwrap(), Some([9; 32]));
        assert!(exist(dir.path()));
    }

    #[test]
    fn a_damaged_key_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(DEVICE_FILE), "not hex").unwrap();
        assert!(matches!(
            read(dir.path(), Secret::Device),
            Err(NodeError::BadKeyFile(_))
        ));
    }
}
