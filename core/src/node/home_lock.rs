//! One endpoint per device: a lock in the home that the process running
//! the device's network holds, so that the app and `starling run` never
//! start two endpoints with one device key (two endpoints with one key
//! steal each other's connections and relay registration).
//!
//! The lock is an advisory file lock (`flock`): the kernel drops it when
//! the process exits, however it exits, so a crash never leaves a home
//! locked. Everything else (posting, following, reading) goes through the
//! store, which SQLite already shares between processes; the process that
//! holds the network sends what others wrote.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{NodeError, Result};

/// The lock file's name in a home.
pub const LOCK_FILE: &str = "network.lock";

/// Held while this process runs the home's network; dropping it lets
/// another process start one.
#[derive(Debug)]
pub struct HomeLock {
    _file: File,
    path: PathBuf,
}

impl HomeLock {
    /// Takes the home's network lock for this process, described as
    /// `holder` (for example "starling run"), or says which process holds
    /// it.
    pub fn acquire(home: &Path, holder: &str) -> Result<Self> {
        let path = home.join(LOCK_FILE);
        let io = |e: std::io::Error| NodeError::Io {
            path: path.clone(),
            reason: e.to_string(),
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut said = String::new();
                // What the holder wrote; a torn or unreadable note still
                // says the home is in use.
                let _ = file.read_to_string(&mut said);
                let said = said.trim();
                return Err(NodeError::InUse {
                    home: home.to_path_buf(),
                    holder: if said.is_empty() {
                        "another process".to_string()
                    } else {
                        said.chars().take(200).collect()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{holder} (pid {})", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_told_who_holds_the_home_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = HomeLock::acquire(dir.path(), "starling run").unwrap();
        let err = HomeLock::acquire(dir.path(), "the app").unwrap_err();
        let said = err.to_string();
        assert!(matches!(err, NodeError::InUse { .. }), "{said}");
        assert!(said.contains("starling run"), "{said}");
        assert!(
            said.contains(&format!("pid {}", std::process::id())),
            "{said}"
        );
        assert_eq!(err.view().kind, crate::view::ErrorKind::InUse);
        drop(first);
        let again = HomeLock::acquire(dir.path(), "the app").unwrap();
        assert!(again.path().ends_with(LOCK_FILE));
    }
}
