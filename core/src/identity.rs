//! Identities, devices and device certificates.
//!
//! An *identity* is an ed25519 key pair that names a person. Each *device*
//! has its own ed25519 key that signs its entries. The identity signs a
//! [`DeviceCert`] for each of its devices; readers accept a device's entries
//! as the identity's only with a valid certificate.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::id::{DeviceId, IdentityId};

/// Domain separation for device certificate signatures.
const CERT_CONTEXT: &[u8] = b"starling/device-cert/v1\0";

/// A signature or key did not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The bytes are not a valid ed25519 public key.
    #[error("not a valid ed25519 public key: {0}")]
    BadPublicKey(String),
    /// The certificate's signature does not verify under its identity.
    #[error("device certificate for device {device} has a bad signature")]
    BadCertSignature {
        /// The device the certificate names.
        device: String,
    },
}

macro_rules! signing_key {
    ($(#[$doc:meta])* $name:ident, $id:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SigningKey);

        impl $name {
            /// Builds the key from its 32 secret bytes.
            pub fn from_secret_bytes(bytes: [u8; 32]) -> Self {
                Self(SigningKey::from_bytes(&bytes))
            }

            /// The 32 secret bytes (for storing in the profile folder).
            pub fn secret_bytes(&self) -> [u8; 32] {
                self.0.to_bytes()
            }

            /// The public id.
            pub fn id(&self) -> $id {
                $id(self.0.verifying_key().to_bytes())
            }

            /// Signs `msg`.
            pub(crate) fn sign(&self, msg: &[u8]) -> [u8; 64] {
                self.0.sign(msg).to_bytes()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.id().fmt_short())
            }
        }
    };
}

signing_key!(
    /// The secret key of an identity. It signs device certificates, and
    /// (as X25519) unwraps group keys wrapped for it.
    IdentityKey,
    IdentityId
);

impl IdentityKey {
    /// An X25519 Diffie-Hellman agreement between this identity and
    /// `other`, both keys taken as X25519 keys (the ed25519 → X25519 map).
    /// Both sides get the same 32 bytes; `None` when `other` is not a
    /// valid key.
    pub fn agree(&self, other: &IdentityId) -> Option<[u8; 32]> {
        let theirs = verifying_key(other.as_bytes()).ok()?.to_montgomery();
        let shared = theirs.mul_clamped(self.0.to_scalar_bytes()).to_bytes();
        // An all-zero result means a low-order point: refuse it.
        (shared != [0u8; 32]).then_some(shared)
    }
}
signing_key!(
    /// The secret key of one device. It signs that device's entries.
    DeviceKey,
    DeviceId
);

/// Decompresses a 32-byte ed25519 public key.
pub(crate) fn verifying_key(bytes: &[u8; 32]) -> Result<VerifyingKey, IdentityError> {
    VerifyingKey::from_bytes(bytes).map_err(|e| IdentityError::BadPublicKey(e.to_string()))
}

/// An identity's statement that a device speaks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCert {
    /// The identity that vouches.
    pub identity: IdentityId,
    /// The device it vouches for.
    pub device: DeviceId,
    /// When it was issued, in milliseconds since the Unix epoch.
    pub issued_at: u64,
    /// The identity's signature over the fields above.
    #[serde(with = "sig_bytes")]
    pub signature: [u8; 64],
}

impl DeviceCert {
    /// The identity `key` certifies `device` at time `issued_at`.
    pub fn issue(key: &IdentityKey, device: DeviceId, issued_at: u64) -> Self {
        let identity = key.id();
        let signature = key.sign(&Self::message(&identity, &device, issued_at));
        Self {
            identity,
            device,
            issued_at,
            signature,
        }
    }

    fn message(identity: &IdentityId, device: &DeviceId, issued_at: u64) -> Vec<u8> {
        let mut m = Vec::with_capacity(CERT_CONTEXT.len() + 72);
        m.extend_from_slice(CERT_CONTEXT);
        m.extend_from_slice(identity.as_bytes());
        m.extend_from_slice(device.as_bytes());
        m.extend_from_slice(&issued_at.to_le_bytes());
        m
    }

    /// Checks the identity's signature.
    pub fn verify(&self) -> Result<(), IdentityError> {
        let vk = verifying_key(self.identity.as_bytes())?;
        let sig = Signature::from_bytes(&self.signature);
        vk.verify_strict(
            &Self::message(&self.identity, &self.device, self.issued_at),
            &sig,
        )
        .map_err(|_| IdentityError::BadCertSignature {
            device: self.device.to_string(),
        })
    }
}

/// Serde for 64-byte signatures (serde derives arrays only up to 32).
pub(crate) mod sig_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(sig: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(sig)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let v: &[u8] = <&[u8]>::deserialize(d)?;
        <[u8; 64]>::try_from(v).map_err(|_| serde::de::Error::invalid_length(v.len(), &"64 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_verifies_and_detects_tampering() {
        let id = IdentityKey::from_secret_bytes([1; 32]);
        let dev = DeviceKey::from_secret_bytes([2; 32]);
        let cert = DeviceCert::issue(&id, dev.id(), 42);
        cert.verify().unwrap();
        let mut bad = cert.clone();
        bad.issued_at = 43;
        assert!(matches!(
            bad.verify(),
            Err(IdentityError::BadCertSignature { .. })
        ));
        let mut bad = cert.clone();
        bad.device = DeviceId([3; 32]);
        assert!(bad.verify().is_err());
    }

    #[test]
    fn cert_round_trips_through_postcard() {
        let id = IdentityKey::from_secret_bytes([1; 32]);
        let cert = DeviceCert::issue(&id, DeviceId([5; 32]), 7);
        let bytes = postcard::to_allocvec(&cert).unwrap();
        let back: DeviceCert = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, cert);
    }

    #[test]
    fn debug_shows_no_secret() {
        let id = IdentityKey::from_secret_bytes([1; 32]);
        let text = format!("{id:?}");
        assert!(text.starts_with("IdentityKey("));
        assert!(!text.contains("0101010101"));
    }
}
