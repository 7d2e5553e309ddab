//! Linked devices: one identity on several devices. The device that holds
//! the identity shows a short-lived ticket; a new device takes it, makes
//! its own device key and certificate, and from then on posts as the same
//! person. The account space (follows, mutes, blocks) is shared by the
//! identity's devices only, and merges their edits through automerge.

use std::path::Path;

use super::{NodeError, Result, now_ms};
use crate::crypto::SpaceKey;
use crate::id::DeviceId;
use crate::identity::IdentityKey;
use crate::ticket::{DeviceTicket, PeerAddr, Ticket};
use crate::{Node, StoreError};

/// How long a link ticket is valid unless told otherwise: ten minutes.
pub const LINK_VALID_MS: u64 = 10 * 60 * 1000;

use crate::view::DeviceView;

impl Node {
    /// A ticket that links a new device to this identity, valid for
    /// `valid_ms`.
    pub fn device_link(&mut self, valid_ms: u64) -> Result<Ticket> {
        let (feed, account) = (self.feed(), self.account());
        let key = |node: &mut Self, space| -> Result<[u8; 32]> {
            Ok(node
                .store
                .space_key(&space, 0)?
                .ok_or_else(|| StoreError::NoKey(space.fmt_short()))?
                .to_bytes())
        };
        let reach = self.store.meta("listen_addrs")?.unwrap_or_default();
        Ok(Ticket::Device(DeviceTicket {
            identity_secret: self.identity_key.secret_bytes(),
            feed_key: key(self, feed)?,
            account_key: key(self, account)?,
            peer: Some(PeerAddr::decode_reach(self.device(), &reach)),
            expires_at: now_ms().saturating_add(valid_ms),
        }))
    }

    /// Makes `home` a new device of the identity a link ticket names. Its
    /// feed, account and profile arrive when it syncs with the linking
    /// device (whose address the ticket carries).
    pub fn device_join(home: &Path, ticket: &Ticket) -> Result<Self> {
        let Ticket::Device(t) = ticket else {
            return Err(NodeError::Invalid(
                "that is not a device link ticket (make one with `device link`)".into(),
            ));
        };
        if now_ms() > t.expires_at {
            return Err(NodeError::Invalid(
                "this link ticket has expired; make a new one with `device link`".into(),
            ));
        }
        let identity_key = IdentityKey::from_secret_bytes(t.identity_secret);
        let keys = (
            SpaceKey::from_bytes(t.feed_key),
            SpaceKey::from_bytes(t.account_key),
        );
        let peer = t.peer.clone();
        Self::create(home, identity_key, keys, |node| {
            if let Some(peer) = &peer {
                node.store.add_peer(peer)?;
                node.store.introduce_peer(&peer.device)?;
            }
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
