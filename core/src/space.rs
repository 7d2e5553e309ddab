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
}

impl SpaceKind {
    /// Stable number for storage.
    pub fn code(self) -> i64 {
        match self {
            SpaceKind::Feed => 1,
            SpaceKind::Account => 2,
            SpaceKind::Group => 3,
        }
    }

    /// Inverse of [`SpaceKind::code`].
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(SpaceKind::Feed),
            2 => Some(SpaceKind::Account),
            3 => Some(SpaceKind::Group),
            _ => None,
        }
    }

    /// The space of this kind owned by `identity`, for the kinds whose id
    /// is derived from it (a group's id is random).
    pub fn space_of(self, identity: &IdentityId) -> Option<SpaceId> {
        match self {
            SpaceKind::Feed => Some(feed_space_id(identity)),
            SpaceKind::Account => Some(account_space_id(identity)),
            SpaceKind::Group => None,
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
        for k in [SpaceKind::Feed, SpaceKind::Account, SpaceKind::Group] {
            assert_eq!(SpaceKind::from_code(k.code()), Some(k));
        }
        assert_eq!(SpaceKind::from_code(0), None);
    }
}
