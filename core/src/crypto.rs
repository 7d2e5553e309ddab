//! Sealing payloads: XChaCha20-Poly1305 under a space's epoch key.
//!
//! Sealed bytes are `nonce (24) || ciphertext || tag (16)`. The nonce is
//! passed in by the caller (sans-IO: randomness comes from outside).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes a sealed payload adds to its plaintext (nonce and tag).
pub const SEAL_OVERHEAD: usize = NONCE_LEN + 16;
/// Length of the random nonce in front of sealed bytes.
pub const NONCE_LEN: usize = 24;

/// Sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The sealed bytes are shorter than a nonce and a tag.
    #[error("sealed payload too short: {len} bytes")]
    TooShort {
        /// Length of the bytes given.
        len: usize,
    },
    /// The tag did not verify: wrong key, wrong context, or tampered bytes.
    #[error("payload does not decrypt: wrong key or tampered bytes")]
    Decrypt,
}

/// A 32-byte symmetric key for one epoch of one space.
///
/// Zeroed on drop, redacted in `Debug`, compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SpaceKey([u8; 32]);

impl SpaceKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key bytes (to store or to put in a ticket).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Seals `plaintext` with `nonce`, binding `aad` (associated data).
    pub fn seal(&self, nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        let nonce_arr = XNonce::from(nonce);
        let ct = cipher
            .encrypt(
                &nonce_arr,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // XChaCha20-Poly1305 encryption only fails for messages over 256 GiB.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens bytes made by [`SpaceKey::seal`] with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < SEAL_OVERHEAD {
            return Err(CryptoError::TooShort { len: sealed.len() });
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Decrypt)?;
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad })
            .map_err(|_| CryptoError::Decrypt)
    }
}

impl PartialEq for SpaceKey {
    fn eq(&self, other: &Self) -> bool {
        // Constant-time comparison.
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}
impl Eq for SpaceKey {}

impl std::fmt::Debug for SpaceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpaceKey(<redacted>)")
    }
}

/// Bytes of a [`wrap_key`] result: nonce, sealed key, tag.
pub const WRAPPED_LEN: usize = NONCE_LEN + 32 + 16;

/// The key that wraps space keys between two identities, for one space and
/// epoch: BLAKE3 `derive_key` over their X25519 agreement.
fn wrapping_key(shared: &[u8; 32], space: &crate::id::SpaceId, epoch: u32) -> SpaceKey {
    let mut material = shared.to_vec();
    material.extend_from_slice(space.as_bytes());
    material.extend_from_slice(&epoch.to_le_bytes());
    SpaceKey::from_bytes(blake3::derive_key("starling key wrap v1", &material))
}

/// Wraps `key` (a space's key at `epoch`) from `me` for `member`: only
/// `member`'s identity secret (with `me`'s public id) unwraps it. `None`
/// when `member` is not a valid key.
pub fn wrap_key(
    me: &crate::identity::IdentityKey,
    member: &crate::id::IdentityId,
    space: &crate::id::SpaceId,
    epoch: u32,
    key: &SpaceKey,
    nonce: [u8; NONCE_LEN],
) -> Option<Vec<u8>> {
    let shared = me.agree(member)?;
    Some(wrapping_key(&shared, space, epoch).seal(nonce, space.as_bytes(), &key.to_bytes()))
}

/// Unwraps a key that `from` wrapped for `me` with [`wrap_key`].
pub fn unwrap_key(
    me: &crate::identity::IdentityKey,
    from: &crate::id::IdentityId,
    space: &crate::id::SpaceId,
    epoch: u32,
    wrapped: &[u8],
) -> Result<SpaceKey, CryptoError> {
    let shared = me.agree(from).ok_or(CryptoError::Decrypt)?;
    let plain = wrapping_key(&shared, space, epoch).open(space.as_bytes(), wrapped)?;
    let bytes: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(SpaceKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip() {
        let key = SpaceKey::from_bytes([1; 32]);
        let sealed = key.seal([2; 24], b"ctx", b"hello");
        assert_eq!(sealed.len(), 5 + SEAL_OVERHEAD);
        assert_eq!(key.open(b"ctx", &sealed).unwrap(), b"hello");
    }

    #[test]
    fn wrong_key_context_or_bytes_fail() {
        let key = SpaceKey::from_bytes([1; 32]);
        let sealed = key.seal([2; 24], b"ctx", b"hello");
        let other = SpaceKey::from_bytes([9; 32]);
        assert_eq!(other.open(b"ctx", &sealed), Err(CryptoError::Decrypt));
        assert_eq!(key.open(b"other", &sealed), Err(CryptoError::Decrypt));
        let mut bad = sealed.clone();
        bad[30] ^= 1;
        assert_eq!(key.open(b"ctx", &bad), Err(CryptoError::Decrypt));
        assert_eq!(
            key.open(b"ctx", &sealed[..10]),
            Err(CryptoError::TooShort { len: 10 })
        );
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", SpaceKey::from_bytes([1; 32])),
            "SpaceKey(<redacted>)"
        );
    }

    #[test]
    fn a_wrapped_key_opens_only_for_its_member() {
        use crate::id::SpaceId;
        use crate::identity::IdentityKey;
        let (ann, bob, cat) = (
            IdentityKey::from_secret_bytes([1; 32]),
            IdentityKey::from_secret_bytes([2; 32]),
            IdentityKey::from_secret_bytes([3; 32]),
        );
        assert_eq!(ann.agree(&bob.id()), bob.agree(&ann.id()));
        let space = SpaceId([9; 32]);
        let key = SpaceKey::from_bytes([7; 32]);
        let w = wrap_key(&ann, &bob.id(), &space, 2, &key, [5; NONCE_LEN]).unwrap();
        assert_eq!(w.len(), WRAPPED_LEN);
        let got = unwrap_key(&bob, &ann.id(), &space, 2, &w).unwrap();
        assert!(got == key);
        // Not for Cat, not for another epoch or space, not from Cat.
        assert!(unwrap_key(&cat, &ann.id(), &space, 2, &w).is_err());
        assert!(unwrap_key(&bob, &ann.id(), &space, 3, &w).is_err());
        assert!(unwrap_key(&bob, &ann.id(), &SpaceId([8; 32]), 2, &w).is_err());
        assert!(unwrap_key(&bob, &cat.id(), &space, 2, &w).is_err());
    }
}
