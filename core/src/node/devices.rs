//! Linked devices: one identity on several devices. A device that holds
//! the identity key shows a short-lived link code holding only its address
//! and an ephemeral key (no secret); the new device connects to it, both
//! show the same confirmation code, and once the user confirms on both the
//! new device receives, over the agreed channel ([`crate::protocol::link`]),
//! its certificate (the identity's signature on its own device key) and
//! the feed's and account's keys, and from then on posts as the same
//! person. Only a device linked as *trusted* also receives the identity
//! key: the others cannot certify or revoke devices, nor read the
//! phrase. The account space (follows, mutes, blocks) is shared by the
//! identity's devices only, merges their edits through automerge, and
//! moves to a new key whenever a device is revoked.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{HomeKeys, NodeError, Result};
use crate::crypto::SpaceKey;
use crate::id::DeviceId;
use crate::identity::{DeviceCert, DeviceKey, IdentityKey, RevocationProof};
use crate::ticket::PeerAddr;
use crate::{Node, StoreError};

/// How long a link code is valid unless told otherwise: ten minutes.
pub const LINK_VALID_MS: u64 = 10 * 60 * 1000;

use crate::view::DeviceView;

/// What a linking device hands a new one once both confirmed the code. It
/// travels only sealed under the link's key agreement, never in a code.
#[derive(Serialize, Deserialize)]
struct LinkGrant {
    /// The identity's certificate for the new device's key.
    cert: DeviceCert,
    feed_key: [u8; 32],
    /// The account space's keys by epoch.
    account_keys: Vec<(u32, [u8; 32])>,
    /// The identity's secret, for a device linked as trusted only.
    identity_secret: Option<[u8; 32]>,
}

impl Drop for LinkGrant {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.feed_key.zeroize();
        for (_, k) in &mut self.account_keys {
            k.zeroize();
        }
        if let Some(s) = &mut self.identity_secret {
            s.zeroize();
        }
    }
}

impl Node {
    /// The grant this device hands the new device `device` of its identity,
    /// encoded (the link driver seals it; see [`crate::net::LinkRequest`]).
    /// Only a device holding the identity key can certify one; `trusted`
    /// hands that key over too.
    pub fn link_grant(&mut self, device: &DeviceId, trusted: bool) -> Result<Vec<u8>> {
        let identity_key = self.identity_key()?.clone();
        let (feed, account) = (self.feed(), self.account());
        let feed_key = self
            .store
            .space_key(&feed, 0)?
            .ok_or_else(|| StoreError::NoKey(feed.fmt_short()))?
            .to_bytes();
        let account_keys = self
            .store
            .space_keys(&account)?
            .into_iter()
            .map(|(e, k)| (e, k.to_bytes()))
            .collect();
        let grant = LinkGrant {
            cert: DeviceCert::issue(&identity_key, *device, super::now_ms()),
            feed_key,
            account_keys,
            identity_secret: trusted.then(|| identity_key.secret_bytes()),
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
        let identity_key = grant.identity_secret.map(IdentityKey::from_secret_bytes);
        if identity_key
            .as_ref()
            .is_some_and(|k| k.id() != grant.cert.identity)
        {
            return Err(NodeError::Invalid(
                "the link grant's identity key is not the one that certified this device".into(),
            ));
        }
        let keys = HomeKeys {
            identity: grant.cert.identity,
            identity_key,
            device,
            cert: grant.cert.clone(),
            feed_key: SpaceKey::from_bytes(grant.feed_key),
            account_keys: grant
                .account_keys
                .iter()
                .map(|(e, k)| (*e, SpaceKey::from_bytes(*k)))
                .collect(),
        };
        Self::create_home(home, keys, |node| {
            node.store.add_peer(linker)?;
            node.store.introduce_peer(&linker.device)?;
            Ok(())
        })
    }

    /// Retires one of this identity's other devices: a revocation in the
    /// feed, signed by the identity key, names per space the last of its
    /// entries this device holds; every peer refuses what it signs after
    /// that, and takes down posts past it that arrived earlier. The
    /// account space then moves to a new key wrapped for the devices that
    /// remain. Only a device holding the identity key may revoke.
    pub fn device_revoke(&mut self, device: &DeviceId) -> Result<()> {
        let identity_key = self.identity_key()?.clone();
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
        let proof = RevocationProof::sign(&identity_key, device, &heads);
        let feed = self.feed();
        self.append(
            &feed,
            crate::record::Record::Revocation {
                device: *device,
                heads,
                proof: Some(proof),
            },
        )?;
        // The account moves to a new key that only the remaining devices
        // receive: the revoked one reads no account change from now on.
        let remaining: Vec<[u8; 32]> = self
            .devices()?
            .into_iter()
            .filter(|d| !d.revoked && d.device != *device)
            .map(|d| d.device.0)
            .collect();
        let account = self.account();
        self.rotate_key(&account, &remaining, Vec::new())?;
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
