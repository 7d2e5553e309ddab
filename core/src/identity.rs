//! Identities, devices and device certificates.
//!
//! An *identity* is an ed25519 key pair that names a person. Each *device*
//! has its own ed25519 key that signs its entries. The identity signs a
//! [`DeviceCert`] for each of its devices; readers accept a device's entries
//! as the identity's only with a valid certificate.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::id::{DeviceId, IdentityId, SpaceId};

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

/// An ed25519 secret key used, through the ed25519 → X25519 map, for
/// Diffie-Hellman agreements.
pub trait Agreement {
    /// The agreement between this key and the ed25519 public key `other`.
    /// Both sides get the same 32 bytes; `None` when `other` is not a valid
    /// key or a low-order point.
    fn agree(&self, other: &[u8; 32]) -> Option<[u8; 32]>;
    /// The agreement with the X25519 public key `other` (an ephemeral
    /// key); `None` for a low-order point.
    fn agree_x25519(&self, other: &[u8; 32]) -> Option<[u8; 32]>;
    /// This key's ed25519 public key.
    fn public(&self) -> [u8; 32];
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

        impl Agreement for $name {
            fn agree(&self, other: &[u8; 32]) -> Option<[u8; 32]> {
                let theirs = verifying_key(other).ok()?.to_montgomery();
                self.agree_x25519(&theirs.to_bytes())
            }

            fn agree_x25519(&self, other: &[u8; 32]) -> Option<[u8; 32]> {
                let shared = curve25519_dalek::MontgomeryPoint(*other)
                    .mul_clamped(self.0.to_scalar_bytes())
                    .to_bytes();
                (shared != [0u8; 32]).then_some(shared)
            }

            fn public(&self) -> [u8; 32] {
                self.0.verifying_key().to_bytes()
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
    /// The secret key of an identity. It signs device certificates and
    /// revocations, and (as X25519) unwraps group keys wrapped for it. It
    /// lives only in the phrase and on trusted devices.
    IdentityKey,
    IdentityId
);

signing_key!(
    /// The secret key of one device. It signs that device's entries and
    /// (as X25519) unwraps the account space's keys wrapped for it.
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

/// Domain separation for revocation signatures.
const REVOCATION_CONTEXT: &[u8] = b"starling/revocation/v1\0";

/// An identity's signature retiring one of its devices: only a holder of
/// the identity key (the phrase, a trusted device) can make one.
pub struct RevocationProof;

impl RevocationProof {
    fn message(identity: &IdentityId, device: &DeviceId, heads: &[(SpaceId, u64)]) -> Vec<u8> {
        let mut m = Vec::with_capacity(REVOCATION_CONTEXT.len() + 64 + heads.len() * 40);
        m.extend_from_slice(REVOCATION_CONTEXT);
        m.extend_from_slice(identity.as_bytes());
        m.extend_from_slice(device.as_bytes());
        for (space, seq) in heads {
            m.extend_from_slice(space.as_bytes());
            m.extend_from_slice(&seq.to_le_bytes());
        }
        m
    }

    /// The identity `key` retires `device`, keeping `heads` of its logs.
    pub fn sign(key: &IdentityKey, device: &DeviceId, heads: &[(SpaceId, u64)]) -> [u8; 64] {
        key.sign(&Self::message(&key.id(), device, heads))
    }

    /// Whether `proof` is `identity`'s signature retiring `device` at
    /// `heads`.
    pub fn verify(
        identity: &IdentityId,
        device: &DeviceId,
        heads: &[(SpaceId, u64)],
        proof: &[u8; 64],
    ) -> bool {
        verifying_key(identity.as_bytes()).is_ok_and(|vk| {
            vk.verify_strict(
                &Self::message(identity, device, heads),
                &Signature::from_bytes(proof),
            )
            .is_ok()
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
    fn only_the_identity_signs_a_revocation() {
        let id = IdentityKey::from_secret_bytes([1; 32]);
        let phone = DeviceKey::from_secret_bytes([2; 32]);
        let heads = [(SpaceId([4; 32]), 9)];
        let proof = RevocationProof::sign(&id, &phone.id(), &heads);
        assert!(RevocationProof::verify(
            &id.id(),
            &phone.id(),
            &heads,
            &proof
        ));
        assert!(!RevocationProof::verify(
            &id.id(),
            &phone.id(),
            &[(SpaceId([4; 32]), 10)],
            &proof
        ));
        assert!(!RevocationProof::verify(
            &id.id(),
            &DeviceId([3; 32]),
            &heads,
            &proof
        ));
        // A device key signing the same message is not the identity.
        let forged = phone.sign(&RevocationProof::message(&id.id(), &phone.id(), &heads));
        assert!(!RevocationProof::verify(
            &id.id(),
            &phone.id(),
            &heads,
            &forged
        ));
    }

    #[test]
    fn debug_shows_no_secret() {
        let id = IdentityKey::from_secret_bytes([1; 32]);
        let text = format!("{id:?}");
        assert!(text.starts_with("IdentityKey("));
        assert!(!text.contains("0101010101"));
    }
}
