//! What a running node polls between sync sessions: whether anything
//! changed in the database, by this process or another.

use super::{Result, Store};

impl Store {
    /// A number that changes whenever the database changes, by this
    /// connection or any other process: a cheap "anything new?" check.
    pub fn change_counter(&self) -> Result<u64> {
        let other: u64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok(other.wrapping_add(self.conn.total_changes()))
    }
}
