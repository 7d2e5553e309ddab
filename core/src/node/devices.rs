//! Linked devices: one identity on several devices. The device that holds
//! the identity shows a short-lived link code holding only its address and
//! an ephemeral key (no secret); the new device connects to it, both show
//! the same confirmation code, and once the user confirms on both the new
//! device receives the identity's keys over the agreed channel
//! ([`crate::protocol::link`]), makes its own device key's certificate,
//! and from then on posts as the same person. The account space (follows,
//! mutes, blocks) is shared by the identity's devices only, and merges
//! their edits through automerge.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{NodeError, Result};
use crate::crypto::SpaceKey;
use crate::id::DeviceId;
use crate::identity::{DeviceKey, IdentityKey};
use crate::ticket::PeerAddr;
use crate::{Node, StoreError};

/// How long a link code is valid unless told otherwise: ten minutes.
pub const LINK_VALID_MS: u64 = 10 * 60 * 1000;

use crate::view::DeviceView;

/// What a linking device hands a new one once both confirmed the code:
/// the identity's secret and its feed's and account's keys. It travels
/// only sealed under the link's key agreement, never in a code.
#[derive(Serialize, Deserialize)]
struct LinkGrant {
    identity_secret: [u8; 32],
    feed_key: [u8; 32],
    account_key: [u8; 32],
}

impl Drop for LinkGrant {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.identity_secret);
    }
}

impl Node {
    /// The grant this device hands a new device of its identity, encoded
    /// (the link driver seals it; see [`crate::net::LinkRequest`]).
    pub fn link_grant(&mut self) -> Result<Vec<u8>> {
        let (feed, account) = (self.feed(), self.account());
        let key = |node: &mut Self, space| -> Result<[u8; 32]> {
            Ok(node
                .store
                .space_key(&space, 0)?
                .ok_or_else(|| StoreError::NoKey(space.fmt_short()))?
                .to_bytes())
        };
        let grant = LinkGrant {
            identity_secret: self.identity_key.secret_bytes(),
            feed_key: key(self, feed)?,
            account_key: key(self, account)?,
        };
        postcard::to_allocvec(&grant).map_err(|e| NodeError::Invalid(e.to_string()))
    }

    /// Makes `home` the new device `device` of the identity a link grant
    /// names; `linker` is the device that granted it. Its feed, account
    /// and profile arrive when it syncs with the linker.
    pub fn device_join(
        home: &Path,
        device: DeviceKey,
        grant: &[u8],
        linker: &PeerAddr,
    ) -> Result<Self> {
        let grant: LinkGrant = postcard::from_bytes(grant)
            .map_err(|_| NodeError::Invalid("the link grant is damaged".into()))?;
        let identity_key = IdentityKey::from_secret_bytes(grant.identity_secret);
        let keys = (
            SpaceKey::from_bytes(grant.feed_key),
            SpaceKey::from_bytes(grant.account_key),
        );
        Self::create_with(home, identity_key, device, keys, |node| {
            node.store.add_peer(linker)?;
            node.store.introduce_peer(&linker.device)?;
            Ok(())
        })
    }

    /// Retires one of this identity's other devices: a revocation in the
    /// feed names, per space, the last of its entries this device holds;
    /// every peer refuses what it signs after that, and takes down posts
    /// past it that arrived earlier.
    pub fn device_revoke(&mut self, device: &DeviceId) -> Result<()> {
        if *device == self.device() {
            return Err(NodeError::Invalid(
                "this is the device you are using; revoke it from another one".into(),
            ));
        }
        if !self.devices()?.iter().any(|d| d.device == *device) {
            return Err(NodeError::Invalid(format!(
                "{} is not one of your devices",
                device.fmt_short()
            )));
        }
        let heads = self.store.logs_of(device)?;
        let feed = self.feed();
        self.append(
            &feed,
            crate::record::Record::Revocation {
                device: *device,
                heads,
            },
        )?;
        Ok(())
    }

    /// This identity's devices, as far as this device knows them.
    pub fn devices(&mut self) -> Result<Vec<DeviceView>> {
        let feed = self.feed();
        let mut out = Vec::new();
        for device in self.store.log_devices(&feed)? {
            if let Some(cert) = self.store.device_cert(&feed, &device)?
                && cert.identity == self.identity
            {
                out.push(DeviceView {
                    device,
                    certified_at: cert.issued_at,
                    this_device: device == self.device(),
                    revoked: self.store.is_revoked(&device)?,
                });
            }
        }
        out.sort_by_key(|d| (d.certified_at, d.device));
        Ok(out)
    }
}
