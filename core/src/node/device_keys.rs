//! This device's published keys for forward-secret messages
//! ([`crate::ratchet`]): a batch in the identity's feed (followers learn
//! it) and in each conversation and group the device writes in (members
//! who follow no one learn it there), and a new batch once others used
//! half of the last one.

use super::{Node, NodeError, Result, now_ms};
use crate::id::SpaceId;
use crate::ratchet::ONE_TIME_KEYS;
use crate::record::Record;
use crate::space::SpaceKind;

impl Node {
    /// Publishes a new batch of this device's keys in its feed and in
    /// every conversation and group it has a log in (and is still in).
    pub fn publish_device_keys(&mut self) -> Result<()> {
        let keys = self.store.new_device_keys()?;
        let feed = self.feed();
        self.append(&feed, Record::DeviceKeys(keys.clone()))?;
        let device = self.device();
        let mut spaces = Vec::new();
        for kind in [SpaceKind::Direct, SpaceKind::Group] {
            for (space, _) in self.store.spaces_of_kind(kind)? {
                if self.store.log_head(&space, &device)?.is_some() {
                    spaces.push(space);
                }
            }
        }
        for space in spaces {
            match self.append(&space, Record::DeviceKeys(keys.clone())) {
                Ok(_) | Err(NodeError::NotAllowed(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Publishes this device's current keys in `space` (a conversation or
    /// group it just opened a log in or joined).
    pub(super) fn share_device_keys(&mut self, space: &SpaceId) -> Result<()> {
        let kind = self.store.space_kind(space)?;
        if !matches!(kind, Some(SpaceKind::Direct | SpaceKind::Group)) {
            return Ok(());
        }
        if let Some(keys) = self.store.device_keys(&self.device())? {
            self.append(space, Record::DeviceKeys(keys))?;
        }
        Ok(())
    }

    /// Forgets the one-time keys others used longer than the grace ago,
    /// and publishes a new batch once half of the last one is used.
    /// Returns whether it published.
    pub fn tend_device_keys(&mut self) -> Result<bool> {
        if self.store.spent_device_keys(now_ms())? < ONE_TIME_KEYS / 2 {
            return Ok(false);
        }
        self.publish_device_keys()?;
        Ok(true)
    }
}
