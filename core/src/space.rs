//! Spaces: where entries live, and how their ids are derived.
//!
//! A person's feed and their private account space have ids derived from the
//! identity, so anyone holding an identity knows where to look and a feed
//! cannot be claimed by another identity.

use crate::id::{DeviceId, IdentityId, SpaceId};

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
    let shared = crate::identity::Agreement::agree(me, other.as_bytes())?;
    let mut material = shared.to_vec();
    material.extend_from_slice(&pair(&me.id(), other));
    Some(crate::crypto::SpaceKey::from_bytes(blake3::derive_key(
        "starling direct key v1",
        &material,
    )))
}

/// Bytes of a [`Handle`].
pub const HANDLE_LEN: usize = 16;

/// What proves that a peer holds a space's key without showing the key:
/// derived from the space's first (epoch-0) key. A feed's read key is in
/// its ticket; a group's, a conversation's or an account's is not public,
/// so neither is this.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey([u8; 32]);

impl AuthKey {
    /// The auth key of a space whose epoch-0 key is `key`.
    pub fn of(key: &crate::crypto::SpaceKey) -> Self {
        Self(blake3::derive_key(
            "starling space auth v1",
            &key.to_bytes(),
        ))
    }

    /// How `initiator` names `space` to `responder` in a sync session:
    /// a MAC under this key over both devices and the space. Only a holder
    /// of the key can make it or recognise it, it proves to the responder
    /// that the initiator holds the key, and it differs for every pair of
    /// devices, so nobody else can link two sessions to one space.
    pub fn handle(&self, initiator: &DeviceId, responder: &DeviceId, space: &SpaceId) -> Handle {
        let mut h = blake3::Hasher::new_keyed(&self.0);
        h.update(b"starling space handle v1\0");
        h.update(initiator.as_bytes());
        h.update(responder.as_bytes());
        h.update(space.as_bytes());
        let mut out = [0u8; HANDLE_LEN];
        out.copy_from_slice(&h.finalize().as_bytes()[..HANDLE_LEN]);
        Handle(out)
    }

    /// The gossip topic of `space`: derived from this key, so only those
    /// who hold the space's key can find its swarm.
    pub fn topic(&self, space: &SpaceId) -> [u8; 32] {
        let mut h = blake3::Hasher::new_keyed(&self.0);
        h.update(b"starling gossip topic v2\0");
        h.update(space.as_bytes());
        *h.finalize().as_bytes()
    }
}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthKey(<redacted>)")
    }
}

/// A space as named in a sync session (see [`AuthKey::handle`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Handle(pub [u8; HANDLE_LEN]);

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
        // Handles depend on the key, both devices (in order) and the space.
        let auth = AuthKey::of(&k1);
        let (d1, d2) = (DeviceId([1; 32]), DeviceId([2; 32]));
        let s = direct_space_id(&ann.id(), &bob.id());
        let h = auth.handle(&d1, &d2, &s);
        assert_eq!(h, AuthKey::of(&k1).handle(&d1, &d2, &s));
        assert_ne!(h, auth.handle(&d2, &d1, &s));
        assert_ne!(h, auth.handle(&d1, &d2, &SpaceId([0; 32])));
        let other = AuthKey::of(&crate::crypto::SpaceKey::from_bytes([0; 32]));
        assert_ne!(h, other.handle(&d1, &d2, &s));
        assert_ne!(auth.topic(&s), other.topic(&s));
        let k2 = direct_space_key(&bob, &ann.id()).unwrap();
        assert!(k1 == k2);
        assert!(direct_space_key(&cat, &ann.id()).unwrap() != k1);
    }
}
