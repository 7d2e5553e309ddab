//! Moving a space's key to a new epoch: a group's when members are removed,
//! the account space's when a device is revoked. The new key is wrapped
//! for each recipient (a member's identity, or one of the identity's own
//! devices) with a fresh ephemeral key, so any device can rotate.

use super::{Node, NodeError, Result, random};
use crate::crypto::{SpaceKey, wrap_key};
use crate::id::{IdentityId, SpaceId};
use crate::record::{KeyRotation, Record};

impl Node {
    /// A new epoch key for `space`, wrapped for each ed25519 public key in
    /// `recipients`; `removed` names the members it leaves out. Returns
    /// the new epoch; what this device writes next in `space` is sealed
    /// with it.
    pub(super) fn rotate_key(
        &mut self,
        space: &SpaceId,
        recipients: &[[u8; 32]],
        removed: Vec<IdentityId>,
    ) -> Result<u32> {
        let epoch = self.store.space_keys(space)?.last().map_or(0, |(e, _)| *e) + 1;
        let key = SpaceKey::from_bytes(random()?);
        let mut wrapped = Vec::new();
        for r in recipients {
            let w = wrap_key(r, space, epoch, &key, random()?, random()?).ok_or_else(|| {
                NodeError::Invalid(format!("{} is not a valid key", IdentityId(*r).fmt_short()))
            })?;
            wrapped.push((IdentityId(*r), w));
        }
        // Sealed with the current key.
        self.append(
            space,
            Record::KeyRotation(KeyRotation {
                epoch,
                removed,
                wrapped,
            }),
        )?;
        // Projecting it unwrapped this device's own copy when it could (a
        // group owner's device without the identity key cannot): keep the
        // key made here either way.
        if self.store.space_key(space, epoch)?.is_none() {
            self.store.add_epoch_keys(space, &[(epoch, key)])?;
        }
        Ok(epoch)
    }
}
