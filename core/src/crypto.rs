//! Sealing payloads: XChaCha20-Poly1305 under a space's epoch key.
//!
//! Sealed bytes are `nonce (24) || ciphertext || tag (16)`. The nonce is
//! passed in by the caller (sans-IO: randomness comes from outside).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use curve25519_dalek::MontgomeryPoint;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::id::SpaceId;

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

/// Bytes of a key wrapped the first way (static agreement of the sender's
/// and the member's identity keys): nonce, sealed key, tag. Still opened;
/// no longer written.
pub const STATIC_WRAPPED_LEN: usize = NONCE_LEN + 32 + 16;

/// Bytes of a [`wrap_key`] result: the sender's ephemeral X25519 public
/// key, nonce, sealed key, tag.
pub const WRAPPED_LEN: usize = 32 + STATIC_WRAPPED_LEN;

/// The key that wrapped space keys the first way: BLAKE3 `derive_key`
/// over the two identities' X25519 agreement, the space and the epoch.
fn static_wrapping_key(shared: &[u8; 32], space: &SpaceId, epoch: u32) -> SpaceKey {
    let mut material = shared.to_vec();
    material.extend_from_slice(space.as_bytes());
    material.extend_from_slice(&epoch.to_le_bytes());
    SpaceKey::from_bytes(blake3::derive_key("starling key wrap v1", &material))
}

/// Seals `plain` for the holder of the ed25519 key `recipient` alone: an
/// X25519 agreement with a fresh ephemeral key (`ephemeral`, 32 random
/// bytes), so the sender needs no secret of its own. `context` is bound as
/// associated data. Returns the ephemeral public key followed by the
/// sealed bytes; `None` when `recipient` is not a valid key.
pub fn seal_to(
    recipient: &[u8; 32],
    context: &[u8],
    plain: &[u8],
    ephemeral: [u8; 32],
    nonce: [u8; NONCE_LEN],
) -> Option<Vec<u8>> {
    let theirs = crate::identity::verifying_key(recipient)
        .ok()?
        .to_montgomery();
    let shared = theirs.mul_clamped(ephemeral).to_bytes();
    if shared == [0u8; 32] {
        return None;
    }
    let public = MontgomeryPoint::mul_base_clamped(ephemeral).to_bytes();
    let mut out = public.to_vec();
    out.extend(sealed_to_key(&shared, &public, recipient).seal(nonce, context, plain));
    Some(out)
}

/// Opens what [`seal_to`] sealed for `me` with `context`.
pub fn open_sealed_to(
    me: &(impl crate::identity::Agreement + ?Sized),
    context: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let public: [u8; 32] = sealed
        .get(..32)
        .and_then(|p| p.try_into().ok())
        .ok_or(CryptoError::Decrypt)?;
    let shared = me.agree_x25519(&public).ok_or(CryptoError::Decrypt)?;
    sealed_to_key(&shared, &public, &me.public()).open(context, &sealed[32..])
}

fn sealed_to_key(shared: &[u8; 32], public: &[u8; 32], recipient: &[u8; 32]) -> SpaceKey {
    let mut material = shared.to_vec();
    material.extend_from_slice(public);
    material.extend_from_slice(recipient);
    SpaceKey::from_bytes(blake3::derive_key("starling sealed to v1", &material))
}

/// What a wrapped key is bound to: its space and epoch.
fn wrap_context(space: &SpaceId, epoch: u32) -> Vec<u8> {
    let mut c = b"starling key wrap v2\0".to_vec();
    c.extend_from_slice(space.as_bytes());
    c.extend_from_slice(&epoch.to_le_bytes());
    c
}

/// Wraps `key` (a space's key at `epoch`) for the holder of the ed25519
/// key `recipient` (a member's identity, or one of the identity's devices
/// for its account space) with [`seal_to`], so any device can rotate a
/// key and only `recipient`'s secret opens it. `None` when `recipient` is
/// not a valid key.
pub fn wrap_key(
    recipient: &[u8; 32],
    space: &SpaceId,
    epoch: u32,
    key: &SpaceKey,
    ephemeral: [u8; 32],
    nonce: [u8; NONCE_LEN],
) -> Option<Vec<u8>> {
    seal_to(
        recipient,
        &wrap_context(space, epoch),
        &key.to_bytes(),
        ephemeral,
        nonce,
    )
}

/// Unwraps a key wrapped for `me` with [`wrap_key`], or the first way by
/// the identity `from` (see [`STATIC_WRAPPED_LEN`]).
pub fn unwrap_key(
    me: &(impl crate::identity::Agreement + ?Sized),
    from: &[u8; 32],
    space: &SpaceId,
    epoch: u32,
    wrapped: &[u8],
) -> Result<SpaceKey, CryptoError> {
    let plain = if wrapped.len() == WRAPPED_LEN {
        open_sealed_to(me, &wrap_context(space, epoch), wrapped)?
    } else {
        let shared = me.agree(from).ok_or(CryptoError::Decrypt)?;
        static_wrapping_key(&shared, space, epoch).open(space.as_bytes(), wrapped)?
    };
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
        use crate::identity::{DeviceKey, IdentityKey};
        let (bob, cat) = (
            IdentityKey::from_secret_bytes([2; 32]),
            IdentityKey::from_secret_bytes([3; 32]),
        );
        let space = SpaceId([9; 32]);
        let key = SpaceKey::from_bytes([7; 32]);
        let w = wrap_key(&bob.id().0, &space, 2, &key, [4; 32], [5; NONCE_LEN]).unwrap();
        assert_eq!(w.len(), WRAPPED_LEN);
        let got = unwrap_key(&bob, &[0; 32], &space, 2, &w).unwrap();
        assert!(got == key);
        // Not for Cat, not for another epoch or space.
        assert!(unwrap_key(&cat, &[0; 32], &space, 2, &w).is_err());
        assert!(unwrap_key(&bob, &[0; 32], &space, 3, &w).is_err());
        assert!(unwrap_key(&bob, &[0; 32], &SpaceId([8; 32]), 2, &w).is_err());
        // A device key opens what was wrapped for it.
        let phone = DeviceKey::from_secret_bytes([6; 32]);
        let w = wrap_key(&phone.id().0, &space, 2, &key, [4; 32], [5; NONCE_LEN]).unwrap();
        assert!(unwrap_key(&phone, &[0; 32], &space, 2, &w).unwrap() == key);
        assert!(unwrap_key(&bob, &[0; 32], &space, 2, &w).is_err());
    }

    #[test]
    fn a_key_wrapped_the_first_way_still_opens() {
        use crate::id::SpaceId;
        use crate::identity::{Agreement, IdentityKey};
        let (ann, bob) = (
            IdentityKey::from_secret_bytes([1; 32]),
            IdentityKey::from_secret_bytes([2; 32]),
        );
        assert_eq!(ann.agree(&bob.id().0), bob.agree(&ann.id().0));
        let space = SpaceId([9; 32]);
        let key = SpaceKey::from_bytes([7; 32]);
        let shared = ann.agree(&bob.id().0).unwrap();
        let w = static_wrapping_key(&shared, &space, 2).seal(
            [5; NONCE_LEN],
            space.as_bytes(),
            &key.to_bytes(),
        );
        assert_eq!(w.len(), STATIC_WRAPPED_LEN);
        assert!(unwrap_key(&bob, &ann.id().0, &space, 2, &w).unwrap() == key);
        assert!(unwrap_key(&bob, &bob.id().0, &space, 2, &w).is_err());
    }
}
