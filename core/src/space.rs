//! Spaces: where entries live, and how their ids are derived.
//!
//! A person's feed and their private account space have ids derived from the
//! identity, so anyone holding an identity knows where to look and a feed
//! cannot be claimed by another identity.

use crate::id::{IdentityId, SpaceId};

/// What a space is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpaceKind {
    /// One identity's public feed: posts and profile.
    Feed,
    /// One identity's private account space: follows, mutes, settings.
    Account,
    /// A private group: a random id, a key that travels only by invite, and
    /// a document naming the members and their roles.
    Group,
    /// Direct messages between two identities: id and key derived from the
    /// pair (the key by X25519 agreement), so either side finds it alone.
    Direct,
}

impl SpaceKind {
    /// Stable number for storage.
    pub fn code(self) -> i64 {
        match self {
            SpaceKind::Feed => 1,
            SpaceKind::Account => 2,
            SpaceKind::Group => 3,
            SpaceKind::Direct => 4,
        }
    }

    /// Inverse of [`SpaceKind::code`].
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(SpaceKind::Feed),
            2 => Some(SpaceKind::Account),
            3 => Some(SpaceKind::Group),
            4 => Some(SpaceKind::Direct),
            _ => None,
        }
    }

    /// The space of this kind owned by `identity`, for the kinds whose id
    /// is derived from it (a group's id is random).
    pub fn space_of(self, identity: &IdentityId) -> Option<SpaceId> {
        match self {
            SpaceKind::Feed => Some(feed_space_id(identity)),
            SpaceKind::Account => Some(account_space_id(identity)),
            SpaceKind::Group | SpaceKind::Direct => None,
        }
    }
}

/// The id of `identity`'s feed.
pub fn feed_space_id(identity: &IdentityId) -> SpaceId {
    SpaceId(blake3::derive_key(
        "starling feed space v1",
        identity.as_bytes(),
    ))
}

/// The id of `identity`'s private account space.
pub fn account_space_id(identity: &IdentityId) -> SpaceId {
    SpaceId(blake3::derive_key(
        "starling account space v1",
        identity.as_bytes(),
    ))
}

/// The two identities of a direct conversation, in a fixed order.
fn pair<'a>(a: &'a IdentityId, b: &'a IdentityId) -> [u8; 64] {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(lo.as_bytes());
    out[32..].copy_from_slice(hi.as_bytes());
    out
}

/// The id of the direct conversation between `a` and `b` (the same either
/// way round).
pub fn direct_space_id(a: &IdentityId, b: &IdentityId) -> SpaceId {
    SpaceId(blake3::derive_key("starling direct space v1", &pair(a, b)))
}

/// The key of the direct conversation between `me` and `other`: from their
/// X25519 agreement, so only the two of them can make it. `None` when
/// `other` is not a valid key.
pub fn direct_space_key(
    me: &crate::identity::IdentityKey,
    other: &IdentityId,
) -> Option<crate::crypto::SpaceKey> {
    let shared = me.agree(other)?;
    let mut material = shared.to_vec();
    material.extend_from_slice(&pair(&me.id(), other));
    Some(crate::crypto::SpaceKey::from_bytes(blake3::derive_key(
        "starling direct key v1",
        &material,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_by_kind_and_identity() {
        let a = IdentityId([1; 32]);
        let b = IdentityId([2; 32]);
        assert_ne!(feed_space_id(&a), account_space_id(&a));
        assert_ne!(feed_space_id(&a), feed_space_id(&b));
        assert_eq!(SpaceKind::Feed.space_of(&a), Some(feed_space_id(&a)));
        assert_eq!(SpaceKind::Group.space_of(&a), None);
        for k in [
            SpaceKind::Feed,
            SpaceKind::Account,
            SpaceKind::Group,
            SpaceKind::Direct,
        ] {
            assert_eq!(SpaceKind::from_code(k.code()), Some(k));
        }
        assert_eq!(SpaceKind::from_code(0), None);
    }

    #[test]
    fn both_sides_of_a_conversation_find_the_same_space_and_key() {
        use crate::identity::IdentityKey;
        let (ann, bob, cat) = (
            IdentityKey::from_secret_bytes([1; 32]),
            IdentityKey::from_secret_bytes([2; 32]),
            IdentityKey::from_secret_bytes([3; 32]),
        );
        assert_eq!(
            direct_space_id(&ann.id(), &bob.id()),
            direct_space_id(&bob.id(), &ann.id())
        );
        assert_ne!(
            direct_space_id(&ann.id(), &bob.id()),
            direct_space_id(&ann.id(), &cat.id())
        );
        let k1 = direct_space_key(&ann, &bob.id()).unwrap();
        let k2 = direct_space_key(&bob, &ann.id()).unwrap();
        assert!(k1 == k2);
        assert!(direct_space_key(&cat, &ann.id()).unwrap() != k1);
    }
}
