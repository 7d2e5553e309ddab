//! Who may write what, where: the rules a decrypted record must meet for
//! its place in its log and its space. Pure functions of plain data; the
//! store gathers the facts (the space's kind and owner, the log's
//! certificate) and keeps the verdicts.
//!
//! What depends on other entries (a group's membership, a device's
//! revocation) is decided by [`crate::membership`] and the store; what
//! depends only on the record and its place is decided here:
//!
//! - The first entry of every log names the identity that writes it: a
//!   [`DeviceCert`] for that device, or in a group a [`GroupOp::Join`]
//!   holding one and the owner's invite. A feed's and an account's logs
//!   are certified by their owner; a conversation's by one of its two
//!   identities; a group's by anyone (membership decides the rest).
//! - A certificate opens a log and appears nowhere else.
//! - An account space holds only document changes; a conversation none.
//! - A group's document, key rotations and removals are the owner's; a
//!   leave is a member's own; a revocation is in its identity's feed.

use crate::doc::Doc;
use crate::id::{DeviceId, IdentityId, SpaceId};
use crate::identity::DeviceCert;
use crate::membership::{GroupOp, Invite};
use crate::record::Record;
use crate::space::{SpaceKind, direct_space_id};

/// Why a record may not stand where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// A log that does not open with a certificate (or a join).
    #[error("the first entry of a log must be a device certificate")]
    NoCertificate,
    /// A certificate after the first entry.
    #[error("a device certificate may only open a log")]
    CertificateLater,
    /// The certificate is for another device than the one writing.
    #[error("device certificate names another device")]
    OtherDevice,
    /// The certificate's signature does not verify.
    #[error("{0}")]
    BadCertificate(String),
    /// The certificate is from an identity that may not write here.
    #[error("device certificate is from identity {identity}, who may not write in this {kind}")]
    NotAWriter {
        /// The certifying identity.
        identity: String,
        /// The kind of space.
        kind: &'static str,
    },
    /// The record may not be written by this writer in this space.
    #[error("{0}")]
    NotAllowed(String),
    /// An invite that does not check out.
    #[error("invalid invite: {0}")]
    BadInvite(String),
    /// A document change that does not parse.
    #[error("{0}")]
    BadChange(String),
}

/// Where a record stands.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// The space's kind.
    pub kind: SpaceKind,
    /// The space.
    pub space: SpaceId,
    /// Its owner (for a conversation, the other side as this store knows it).
    pub owner: IdentityId,
    /// The device that wrote the entry.
    pub author: DeviceId,
    /// The identity the log's first entry named; `None` when this is the
    /// first entry.
    pub writer: Option<IdentityId>,
}

fn kind_name(kind: SpaceKind) -> &'static str {
    match kind {
        SpaceKind::Feed => "feed",
        SpaceKind::Account => "account space",
        SpaceKind::Group => "group",
        SpaceKind::Direct => "conversation",
    }
}

fn check_cert(place: &Place, cert: &DeviceCert) -> Result<(), Refusal> {
    if cert.device != place.author {
        return Err(Refusal::OtherDevice);
    }
    cert.verify()
        .map_err(|e| Refusal::BadCertificate(e.to_string()))
}

/// The invite is the owner's, and the join is signed with its claim key
/// for the joining identity.
fn check_invite(
    place: &Place,
    invite: &Invite,
    joiner: &IdentityId,
    claim: &[u8; 64],
) -> Result<(), Refusal> {
    invite
        .verify(&place.space, &place.owner)
        .and_then(|()| invite.verify_claim(&place.space, joiner, claim))
        .map_err(|e| Refusal::BadInvite(e.to_string()))
}

/// Whether `who` may certify devices in the space at `place`.
fn may_write(place: &Place, who: &IdentityId) -> bool {
    match place.kind {
        SpaceKind::Feed | SpaceKind::Account => *who == place.owner,
        SpaceKind::Direct => {
            *who == place.owner || direct_space_id(who, &place.owner) == place.space
        }
        SpaceKind::Group => true,
    }
}

/// Checks `record` at `place`; returns the identity that writes it.
pub fn check(place: &Place, record: &Record) -> Result<IdentityId, Refusal> {
    let not = |s: &str| Err(Refusal::NotAllowed(s.to_string()));
    let Some(writer) = place.writer else {
        // The first entry of a log.
        let cert = match (record, place.kind) {
            (Record::DeviceCert(c), _) => c,
            (
                Record::Group(GroupOp::Join {
                    cert,
                    invite,
                    claim,
                }),
                SpaceKind::Group,
            ) => {
                check_invite(place, invite, &cert.identity, claim)?;
                cert
            }
            _ => return Err(Refusal::NoCertificate),
        };
        check_cert(place, cert)?;
        if !may_write(place, &cert.identity) {
            return Err(Refusal::NotAWriter {
                identity: cert.identity.fmt_short(),
                kind: kind_name(place.kind),
            });
        }
        return Ok(cert.identity);
    };
    let owner = writer == place.owner;
    match (record, place.kind) {
        (Record::DeviceCert(_), _) => Err(Refusal::CertificateLater),
        (Record::DocChange(bytes), SpaceKind::Feed | SpaceKind::Account) => {
            Doc::parse_change(bytes).map_err(|e| Refusal::BadChange(e.to_string()))?;
            Ok(writer)
        }
        (Record::DocChange(bytes), SpaceKind::Group) if owner => {
            Doc::parse_change(bytes).map_err(|e| Refusal::BadChange(e.to_string()))?;
            Ok(writer)
        }
        (Record::DocChange(_), SpaceKind::Group) => {
            not("only the group's owner changes its name and description")
        }
        (Record::DocChange(_), SpaceKind::Direct) => not("a conversation has no document"),
        // Newer software's record: its writer may write here (it has a
        // certificate), which is all this code can check.
        (Record::Unknown { .. }, _) => Ok(writer),
        (_, SpaceKind::Account) => not("an account space holds only document changes"),
        (Record::Revocation { .. }, SpaceKind::Feed) => Ok(writer),
        (Record::Revocation { .. }, _) => not("a device is revoked in its identity's feed"),
        (Record::KeyRotation(r), SpaceKind::Group) if !owner => Err(Refusal::NotAllowed(format!(
            "key rotation to epoch {} signed by a member who is not the group's admin",
            r.epoch
        ))),
        (Record::KeyRotation(_), SpaceKind::Group) => Ok(writer),
        (Record::KeyRotation(_), _) => not("only a group's key is rotated"),
        (Record::Group(op), SpaceKind::Group) => match op {
            GroupOp::Join {
                cert,
                invite,
                claim,
            } => {
                // A member's device joining again (after a removal).
                if cert.identity != writer {
                    return not("a join names another identity than its log");
                }
                check_cert(place, cert)?;
                check_invite(place, invite, &writer, claim)?;
                Ok(writer)
            }
            GroupOp::Remove { .. } if owner => Ok(writer),
            GroupOp::Remove { .. } => {
                not("only the group's owner removes members: the owner is its admin")
            }
            GroupOp::Leave { .. } if owner => not("the owner of a group cannot leave it"),
            GroupOp::Leave { .. } => Ok(writer),
        },
        (Record::Group(_), _) => not("membership changes belong in a group"),
        (Record::Post(_) | Record::Like { .. } | Record::Repost { .. }, _)
        | (Record::Edit { .. } | Record::Delete { .. }, _) => Ok(writer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{DeviceKey, IdentityKey};
    use crate::membership::group_space_id;
    use crate::record::KeyRotation;

    fn keys() -> (IdentityKey, IdentityKey, DeviceKey, DeviceKey) {
        (
            IdentityKey::from_secret_bytes([1; 32]),
            IdentityKey::from_secret_bytes([2; 32]),
            DeviceKey::from_secret_bytes([3; 32]),
            DeviceKey::from_secret_bytes([4; 32]),
        )
    }

    #[test]
    fn feeds_are_written_by_their_owner_only() {
        let (ann, eve, ann_dev, eve_dev) = keys();
        let space = crate::space::feed_space_id(&ann.id());
        let mut place = Place {
            kind: SpaceKind::Feed,
            space,
            owner: ann.id(),
            author: ann_dev.id(),
            writer: None,
        };
        let good = Record::DeviceCert(DeviceCert::issue(&ann, ann_dev.id(), 1));
        assert_eq!(check(&place, &good), Ok(ann.id()));
        // Eve certifies her device for Ann's feed.
        place.author = eve_dev.id();
        let bad = Record::DeviceCert(DeviceCert::issue(&eve, eve_dev.id(), 1));
        assert!(matches!(
            check(&place, &bad),
            Err(Refusal::NotAWriter { .. })
        ));
        // A certificate for another device.
        assert_eq!(check(&place, &good), Err(Refusal::OtherDevice));
        // Later entries: no second certificate, posts fine.
        place.writer = Some(ann.id());
        place.author = ann_dev.id();
        assert_eq!(check(&place, &good), Err(Refusal::CertificateLater));
        let like = Record::Like {
            target: crate::id::EntryId([0; 32]),
        };
        assert_eq!(check(&place, &like), Ok(ann.id()));
        // The first entry must be a certificate.
        place.writer = None;
        assert_eq!(check(&place, &like), Err(Refusal::NoCertificate));
    }

    #[test]
    fn conversations_are_written_by_their_two_identities() {
        let (ann, eve, ann_dev, eve_dev) = keys();
        let bob = IdentityKey::from_secret_bytes([9; 32]);
        // As Ann's store sees her conversation with Bob (owner = Bob).
        let space = direct_space_id(&ann.id(), &bob.id());
        let place = |author| Place {
            kind: SpaceKind::Direct,
            space,
            owner: bob.id(),
            author,
            writer: None,
        };
        let cert = Record::DeviceCert(DeviceCert::issue(&ann, ann_dev.id(), 1));
        assert_eq!(check(&place(ann_dev.id()), &cert), Ok(ann.id()));
        let cert = Record::DeviceCert(DeviceCert::issue(&eve, eve_dev.id(), 1));
        assert!(check(&place(eve_dev.id()), &cert).is_err());
    }

    #[test]
    fn group_authority_is_the_owners() {
        let (owner, member, owner_dev, member_dev) = keys();
        let space = group_space_id(&owner.id(), &[5; 16]);
        let mut place = Place {
            kind: SpaceKind::Group,
            space,
            owner: owner.id(),
            author: member_dev.id(),
            writer: None,
        };
        let owner_cert = DeviceCert::issue(&owner, owner_dev.id(), 1);
        let invite = Invite::issue(&owner_dev, owner_cert, &space, ([1; 16], &[7; 32]), 1, 100);
        let join = Record::Group(GroupOp::Join {
            cert: DeviceCert::issue(&member, member_dev.id(), 1),
            invite: Box::new(invite.clone()),
            claim: Invite::claim(&[7; 32], &space, &invite.mark, &member.id()),
        });
        assert_eq!(check(&place, &join), Ok(member.id()));
        // Someone who read that join cannot use its invite for themself.
        let copied = Record::Group(GroupOp::Join {
            cert: DeviceCert::issue(&owner, member_dev.id(), 1),
            invite: Box::new(invite.clone()),
            claim: Invite::claim(&[7; 32], &space, &invite.mark, &member.id()),
        });
        assert!(matches!(check(&place, &copied), Err(Refusal::BadInvite(_))));
        // A member mints an invite with their own device.
        let minted = Invite::issue(
            &member_dev,
            DeviceCert::issue(&member, member_dev.id(), 1),
            &space,
            ([2; 16], &[3; 32]),
            1,
            100,
        );
        let bad_join = Record::Group(GroupOp::Join {
            cert: DeviceCert::issue(&member, member_dev.id(), 1),
            claim: Invite::claim(&[3; 32], &space, &minted.mark, &member.id()),
            invite: Box::new(minted),
        });
        assert!(matches!(
            check(&place, &bad_join),
            Err(Refusal::BadInvite(_))
        ));
        // What a member may not do.
        place.writer = Some(member.id());
        for r in [
            Record::Group(GroupOp::Remove {
                member: owner.id(),
                heads: vec![],
            }),
            Record::KeyRotation(KeyRotation {
                epoch: 1,
                removed: vec![],
                wrapped: vec![],
            }),
            Record::DocChange(vec![]),
            Record::Revocation {
                device: owner_dev.id(),
                heads: vec![],
            },
        ] {
            assert!(check(&place, &r).is_err(), "{r:?}");
        }
        assert_eq!(
            check(&place, &Record::Group(GroupOp::Leave { heads: vec![] })),
            Ok(member.id())
        );
        // What the owner may.
        place.writer = Some(owner.id());
        place.author = owner_dev.id();
        let remove = Record::Group(GroupOp::Remove {
            member: member.id(),
            heads: vec![],
        });
        assert_eq!(check(&place, &remove), Ok(owner.id()));
        assert!(check(&place, &Record::Group(GroupOp::Leave { heads: vec![] })).is_err());
    }
}
