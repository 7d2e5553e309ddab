//! Recovery: the phrase that brings an identity back on a new device, the
//! keys it derives, and the account backup a recovered device restores.
//!
//! The *phrase* is the identity's 32-byte secret as 24 BIP-39 words (the
//! `bip39` crate; its last word carries a checksum, so a mistyped word is
//! caught). Identities made since phrases exist derive their feed key and
//! their account space's first key from that secret ([`derived_keys`]), so
//! the phrase alone finds both.
//!
//! Follows, mutes, blocks and groups live in the private account space,
//! which only the identity's own devices hold. So that one follower is
//! enough to bring them back, a device writes an [`AccountBackup`] into
//! the feed whenever they change: a [`crate::record::Record::Backup`]
//! sealed to the identity's own key (an ephemeral X25519 agreement, see
//! [`crate::crypto::seal_to`]), which followers keep and relay like any
//! entry of the feed but cannot open, and which neither a linked device
//! without the identity key nor a revoked one opens. Devices holding the
//! identity key write it. A group's later keys need no backup: each
//! rotation wraps them for the identity, and the recovered device holds
//! the identity key.

use serde::{Deserialize, Serialize};

use crate::crypto::SpaceKey;
use crate::id::{IdentityId, SpaceId};
use crate::identity::IdentityKey;

/// Number of words in a phrase.
pub const PHRASE_WORDS: usize = 24;

/// Associated data of a sealed backup: the context and the identity.
const BACKUP_CONTEXT: &[u8] = b"starling/account-backup/v1\0";

/// Reading a phrase or opening a backup failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackupError {
    /// The words are not a recovery phrase.
    #[error("not a recovery phrase: {0}")]
    BadPhrase(String),
    /// The backup does not open with this identity's keys.
    #[error("the account backup does not open with this identity's keys")]
    Sealed,
    /// The backup opened but does not decode.
    #[error("the account backup is damaged: {0}")]
    Malformed(String),
}

/// The recovery phrase of an identity: its secret as 24 words.
pub fn phrase(identity: &IdentityKey) -> String {
    bip39::Mnemonic::from_entropy(&identity.secret_bytes())
        .map(|m| m.to_string())
        .unwrap_or_default()
}

/// The identity a phrase names. Case and spacing do not matter; a wrong
/// word, a missing word or a broken checksum is an error.
pub fn identity_from_phrase(words: &str) -> Result<IdentityKey, BackupError> {
    let normal = words
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>();
    if normal.len() != PHRASE_WORDS {
        return Err(BackupError::BadPhrase(format!(
            "{} words, a phrase has {PHRASE_WORDS}",
            normal.len()
        )));
    }
    let m = bip39::Mnemonic::parse_normalized(&normal.join(" "))
        .map_err(|e| BackupError::BadPhrase(e.to_string()))?;
    let entropy = m.to_entropy();
    let secret = <[u8; 32]>::try_from(entropy.as_slice())
        .map_err(|_| BackupError::BadPhrase("not a 24-word phrase".into()))?;
    Ok(IdentityKey::from_secret_bytes(secret))
}

/// The feed key and the account space's first key of an identity made
/// since phrases exist: both derived from its secret.
pub fn derived_keys(identity: &IdentityKey) -> (SpaceKey, SpaceKey) {
    let secret = identity.secret_bytes();
    (
        SpaceKey::from_bytes(blake3::derive_key("starling feed key v1", &secret)),
        SpaceKey::from_bytes(blake3::derive_key("starling account key v1", &secret)),
    )
}

/// A group as a backup keeps it: enough to hold it again (its id comes
/// from owner and nonce; later keys come from its rotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupKeep {
    /// The group's owner.
    pub owner: IdentityId,
    /// The nonce its id was made from.
    pub nonce: [u8; 16],
    /// Its epoch-0 key.
    pub key: [u8; 32],
}

impl GroupKeep {
    /// The group's id.
    pub fn id(&self) -> SpaceId {
        crate::membership::group_space_id(&self.owner, &self.nonce)
    }
}

/// What a recovered device restores of the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBackup {
    /// Followed identities and their feed keys.
    pub follows: Vec<(IdentityId, [u8; 32])>,
    /// Muted identities.
    pub mutes: Vec<IdentityId>,
    /// Blocked identities.
    pub blocks: Vec<IdentityId>,
    /// Groups this identity made or joined.
    pub groups: Vec<GroupKeep>,
}

fn context(identity: &IdentityId) -> Vec<u8> {
    let mut aad = BACKUP_CONTEXT.to_vec();
    aad.extend_from_slice(identity.as_bytes());
    aad
}

impl AccountBackup {
    /// Seals the backup for `identity` alone (whoever holds its key: the
    /// phrase, a trusted device); `ephemeral` and `nonce` must be fresh.
    pub fn seal(&self, identity: &IdentityId, ephemeral: [u8; 32], nonce: [u8; 24]) -> Vec<u8> {
        let plain = postcard::to_allocvec(self).unwrap_or_default();
        crate::crypto::seal_to(&identity.0, &context(identity), &plain, ephemeral, nonce)
            .unwrap_or_default()
    }

    /// Opens a backup sealed for `identity`.
    pub fn open(sealed: &[u8], identity: &IdentityKey) -> Result<Self, BackupError> {
        let plain = crate::crypto::open_sealed_to(identity, &context(&identity.id()), sealed)
            .map_err(|_| BackupError::Sealed)?;
        postcard::from_bytes(&plain).map_err(|e| BackupError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_phrase_gives_back_its_identity(secret in any::<[u8; 32]>()) {
            let key = IdentityKey::from_secret_bytes(secret);
            let words = phrase(&key);
            prop_assert_eq!(words.split(' ').count(), PHRASE_WORDS);
            let back = identity_from_phrase(&words.to_uppercase().replace(' ', "  \n")).unwrap();
            prop_assert_eq!(back.id(), key.id());
        }
    }

    #[test]
    fn a_wrong_word_or_count_is_refused() {
        let key = IdentityKey::from_secret_bytes([3; 32]);
        let words: Vec<String> = phrase(&key).split(' ').map(String::from).collect();
        assert!(identity_from_phrase(&words[..23].join(" ")).is_err());
        let mut swapped = words.clone();
        swapped.swap(0, 1);
        // Swapping two different words breaks the checksum (almost always;
        // these two differ).
        assert_ne!(words[0], words[1]);
        assert!(identity_from_phrase(&swapped.join(" ")).is_err());
        let mut bad = words.clone();
        bad[5] = "starling".into();
        assert!(matches!(
            identity_from_phrase(&bad.join(" ")),
            Err(BackupError::BadPhrase(_))
        ));
    }

    #[test]
    fn a_backup_opens_only_for_its_identity() {
        let ann = IdentityKey::from_secret_bytes([1; 32]);
        let b = AccountBackup {
            follows: vec![(IdentityId([2; 32]), [3; 32])],
            mutes: vec![IdentityId([4; 32])],
            blocks: vec![],
            groups: vec![GroupKeep {
                owner: ann.id(),
                nonce: [5; 16],
                key: [6; 32],
            }],
        };
        let sealed = b.seal(&ann.id(), [8; 32], [7; 24]);
        assert_eq!(AccountBackup::open(&sealed, &ann).unwrap(), b);
        let bob = IdentityKey::from_secret_bytes([9; 32]);
        assert_eq!(AccountBackup::open(&sealed, &bob), Err(BackupError::Sealed));
        // A device key (a linked phone's) does not open it either.
        let phone = crate::identity::DeviceKey::from_secret_bytes([2; 32]);
        let as_phone = crate::crypto::open_sealed_to(&phone, &context(&ann.id()), &sealed);
        assert!(as_phone.is_err());
        assert!(AccountBackup::open(&sealed[..40], &ann).is_err());
    }
}
