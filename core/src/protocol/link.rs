//! Linking a new device without a secret in the link code, sans-IO.
//!
//! The device that holds the identity (the *linker*) shows a code holding
//! only its address and an ephemeral X25519 public key ([`Offer`]). The
//! new device (the *joiner*) connects to it over iroh — which authenticates
//! the linker's endpoint id, the one in the code — and sends its own
//! ephemeral public key ([`LinkMessage::Hello`]). Both derive the same
//! shared secret and from it, both endpoint ids and both ephemeral keys a
//! six-digit confirmation code ([`Agreement::code`]) that each device
//! shows. Only when the user has confirmed on both — the joiner says so
//! with [`LinkMessage::Confirmed`] — does the linker send the grant, sealed
//! under a key from the same agreement ([`LinkMessage::Grant`]). One offer
//! serves one session: a refused or unconfirmed attempt uses it up.
//!
//! Someone who has only the code can connect, but gets a code of their own
//! that the user will not see on the device they hold, and never a grant.

use curve25519_dalek::MontgomeryPoint;
use serde::{Deserialize, Serialize};

use crate::crypto::SpaceKey;
use crate::id::DeviceId;

/// The link protocol's ALPN.
pub const LINK_ALPN: &[u8] = b"starling/link/1";

/// Most bytes one link message may have.
pub const MAX_LINK_MESSAGE: usize = 16 * 1024;

const GRANT_CONTEXT: &[u8] = b"starling/link-grant/v1\0";

/// A link message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkMessage {
    /// Joiner → linker: its ephemeral public key, and proof that it read
    /// the link code ([`code_proof`]): without it the linker neither shows
    /// a request nor uses the code up.
    Hello {
        /// The joiner's ephemeral X25519 public key.
        ephemeral: [u8; 32],
        /// [`code_proof`] of the code's key over this key and device.
        proof: [u8; 32],
    },
    /// Joiner → linker: its user confirmed the code.
    Confirmed,
    /// Linker → joiner: the grant, sealed under the agreement's key.
    Grant(Vec<u8>),
    /// Either way: no (the user said no, the code expired or was used).
    Refused(String),
}

/// A link message failed to decode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bad link message: {0}")]
pub struct LinkError(pub String);

impl LinkMessage {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Reads a message, refusing oversized ones.
    pub fn decode(bytes: &[u8]) -> Result<Self, LinkError> {
        if bytes.len() > MAX_LINK_MESSAGE {
            return Err(LinkError(format!("{} bytes", bytes.len())));
        }
        postcard::from_bytes(bytes).map_err(|e| LinkError(e.to_string()))
    }
}

/// Proof that whoever sends `ephemeral` from `joiner` read the link code
/// holding `code_key` (the linker's ephemeral public key, found only in
/// the code): a MAC keyed by it. It proves nothing else; the confirmation
/// code still decides.
pub fn code_proof(code_key: &[u8; 32], ephemeral: &[u8; 32], joiner: &DeviceId) -> [u8; 32] {
    let key = blake3::derive_key("starling device link proof v1", code_key);
    let mut msg = ephemeral.to_vec();
    msg.extend_from_slice(joiner.as_bytes());
    *blake3::keyed_hash(&key, &msg).as_bytes()
}

/// One side's ephemeral X25519 key.
pub struct Ephemeral {
    secret: [u8; 32],
    /// Its public key.
    pub public: [u8; 32],
}

impl Ephemeral {
    /// A key from 32 random bytes.
    pub fn new(random: [u8; 32]) -> Self {
        Self {
            public: MontgomeryPoint::mul_base_clamped(random).to_bytes(),
            secret: random,
        }
    }

    /// The agreement with the other side's public key, for the linker
    /// `linker` and the joiner `joiner`; `None` for a low-order key.
    pub fn agree(
        &self,
        theirs: &[u8; 32],
        (linker, linker_key): (&DeviceId, &[u8; 32]),
        (joiner, joiner_key): (&DeviceId, &[u8; 32]),
    ) -> Option<Agreement> {
        let shared = MontgomeryPoint(*theirs).mul_clamped(self.secret).to_bytes();
        if shared == [0u8; 32] {
            return None;
        }
        let mut material = shared.to_vec();
        for part in [linker.as_bytes(), linker_key, joiner.as_bytes(), joiner_key] {
            material.extend_from_slice(part);
        }
        Some(Agreement(blake3::derive_key(
            "starling device link v1",
            &material,
        )))
    }
}

impl Drop for Ephemeral {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

/// What both sides agreed: the confirmation code and the grant's key.
pub struct Agreement([u8; 32]);

impl Agreement {
    /// The six-digit code both devices show, as `123 456`.
    pub fn code(&self) -> String {
        let key = blake3::derive_key("starling device link code v1", &self.0);
        let n = u32::from_le_bytes([key[0], key[1], key[2], key[3]]) % 1_000_000;
        format!("{:03} {:03}", n / 1000, n % 1000)
    }

    fn key(&self) -> SpaceKey {
        SpaceKey::from_bytes(blake3::derive_key("starling device link grant v1", &self.0))
    }

    /// Seals a grant; `nonce` must be fresh.
    pub fn seal(&self, grant: &[u8], nonce: [u8; 24]) -> Vec<u8> {
        self.key().seal(nonce, GRANT_CONTEXT, grant)
    }

    /// Opens a grant sealed under this agreement.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        self.key().open(GRANT_CONTEXT, sealed).ok()
    }
}

impl Drop for Agreement {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: DeviceId = DeviceId([1; 32]);
    const B: DeviceId = DeviceId([2; 32]);

    #[test]
    fn both_sides_show_the_same_code_and_open_the_grant() {
        let linker = Ephemeral::new([3; 32]);
        let joiner = Ephemeral::new([4; 32]);
        let a = linker
            .agree(&joiner.public, (&A, &linker.public), (&B, &joiner.public))
            .unwrap();
        let b = joiner
            .agree(&linker.public, (&A, &linker.public), (&B, &joiner.public))
            .unwrap();
        assert_eq!(a.code(), b.code());
        assert_eq!(a.code().len(), 7);
        let sealed = a.seal(b"the grant", [5; 24]);
        assert_eq!(b.open(&sealed).as_deref(), Some(&b"the grant"[..]));
    }

    #[test]
    fn someone_with_only_the_code_agrees_on_something_else() {
        let linker = Ephemeral::new([3; 32]);
        let joiner = Ephemeral::new([4; 32]);
        let mallory = Ephemeral::new([6; 32]);
        let m = DeviceId([9; 32]);
        let real = joiner
            .agree(&linker.public, (&A, &linker.public), (&B, &joiner.public))
            .unwrap();
        // Mallory read the linker's public key from the code and connects
        // with her own key and device.
        let hers = mallory
            .agree(&linker.public, (&A, &linker.public), (&m, &mallory.public))
            .unwrap();
        let linker_side = linker
            .agree(&mallory.public, (&A, &linker.public), (&m, &mallory.public))
            .unwrap();
        assert_eq!(hers.code(), linker_side.code());
        assert_ne!(
            hers.code(),
            real.code(),
            "the user's device shows another code"
        );
        // A grant sealed for the real joiner does not open for her.
        let sealed = linker
            .agree(&joiner.public, (&A, &linker.public), (&B, &joiner.public))
            .unwrap()
            .seal(b"grant", [7; 24]);
        assert!(hers.open(&sealed).is_none());
        // The same keys for other devices give another code.
        let swapped = joiner
            .agree(&linker.public, (&A, &linker.public), (&m, &joiner.public))
            .unwrap();
        assert_ne!(swapped.code(), real.code());
    }

    #[test]
    fn the_proof_binds_the_code_the_key_and_the_device() {
        let p = code_proof(&[1; 32], &[2; 32], &A);
        assert_eq!(p, code_proof(&[1; 32], &[2; 32], &A));
        assert_ne!(p, code_proof(&[3; 32], &[2; 32], &A));
        assert_ne!(p, code_proof(&[1; 32], &[4; 32], &A));
        assert_ne!(p, code_proof(&[1; 32], &[2; 32], &B));
    }

    #[test]
    fn a_low_order_key_and_bad_messages_are_refused() {
        let linker = Ephemeral::new([3; 32]);
        assert!(
            linker
                .agree(&[0; 32], (&A, &[0; 32]), (&B, &[0; 32]))
                .is_none()
        );
        assert!(LinkMessage::decode(&[0xff; 4]).is_err());
        assert!(LinkMessage::decode(&vec![0; MAX_LINK_MESSAGE + 1]).is_err());
        let m = LinkMessage::Hello {
            ephemeral: [8; 32],
            proof: [9; 32],
        };
        assert_eq!(LinkMessage::decode(&m.encode()).unwrap(), m);
    }
}
