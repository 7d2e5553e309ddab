//! Who belongs to a private group, decided the same way on every member
//! whatever order the group's entries arrive in.
//!
//! All authority comes from the group's *owner*: the identity its id
//! commits to ([`group_space_id`] hashes the owner with a nonce, so no
//! ticket can name another owner). Three signed actions change membership:
//!
//! - [`GroupOp::Join`]: the first entry of a joining device's log, holding
//!   its certificate and an [`Invite`] that one of the owner's devices
//!   signed. An invite binds to the first identity that uses it (by the
//!   joins' timestamps, then ids).
//! - [`GroupOp::Remove`]: the owner takes a member out, naming the last
//!   entry of each of their devices that stays accepted.
//! - [`GroupOp::Leave`]: a member takes themself out.
//!
//! A member's state is the latest of these events about them: a join
//! counts at the time its invite was *issued*, a removal or a leave at the
//! time its entry was written; on a tie the removal wins. So a removed
//! member who uses their old invite again stays removed, and only an
//! invite the owner issued after the removal lets them back in. The owner
//! is always a member. [`fold`] is a pure function of the set of
//! operations: the same set gives the same [`Membership`] on every device.
//!
//! Owner timestamps order owner actions; a member's timestamps only order
//! that member's own leave against their join. Co-admins would need
//! causal ordering (a demoted admin could backdate actions), so the owner
//! is the only admin.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::{Signature, SigningKey};
use serde::{Deserialize, Serialize};

use crate::id::{DeviceId, EntryId, IdentityId, SpaceId};
use crate::identity::{DeviceCert, DeviceKey, verifying_key};

const INVITE_CONTEXT: &[u8] = b"starling/invite/v1\0";
const CLAIM_CONTEXT: &[u8] = b"starling/join/v1\0";

/// Most devices named in one removal or leave.
pub const MAX_HEADS: usize = 1024;

/// An invite could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InviteError {
    /// The issuing device's certificate does not verify.
    #[error("the invite's issuer certificate does not verify")]
    BadCertificate,
    /// The issuer is not a device of the group's owner.
    #[error("the invite is signed by {issuer}, not by the group's owner {owner}")]
    NotTheOwner {
        /// The identity that certified the issuing device.
        issuer: String,
        /// The group's owner.
        owner: String,
    },
    /// The issuing device's signature does not verify.
    #[error("the invite's signature does not verify")]
    BadSignature,
    /// Used after it expired.
    #[error("the invite has expired")]
    Expired,
    /// The join is not signed with the invite's claim key (the secret only
    /// the ticket holds).
    #[error("the join is not signed with the invite's secret")]
    BadClaim,
}

/// The id of a group owned by `owner`: a hash of the owner and a random
/// nonce, so the id itself says who owns the group.
pub fn group_space_id(owner: &IdentityId, nonce: &[u8; 16]) -> SpaceId {
    let mut material = owner.as_bytes().to_vec();
    material.extend_from_slice(nonce);
    SpaceId(blake3::derive_key("starling group space v2", &material))
}

/// The owner's permission for one identity to join: made and signed by one
/// of the owner's devices, carried in a group ticket, and kept in the
/// joiner's [`GroupOp::Join`]. It names a one-time *claim key* whose secret
/// travels only in the ticket: a join must be signed with it for the
/// joining identity, so a member who reads someone's join cannot use its
/// invite for another identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// A random id: the invite binds to the first identity that uses it.
    pub mark: [u8; 16],
    /// The public half of the invite's one-time claim key.
    pub claim: [u8; 32],
    /// When the owner issued it (the owner's clock, ms since the epoch).
    pub issued_at: u64,
    /// When it stops being valid.
    pub expires_at: u64,
    /// The owner's certificate of the issuing device.
    pub issuer: DeviceCert,
    /// The issuing device's signature over the group, mark and times.
    #[serde(with = "crate::identity::sig_bytes")]
    pub signature: [u8; 64],
}

impl Invite {
    /// `device` (certified by `cert`) invites someone into `space`; the
    /// joiner proves holding the ticket with `claim_secret` (see
    /// [`Invite::claim`]), whose public half the invite names.
    pub fn issue(
        device: &DeviceKey,
        cert: DeviceCert,
        space: &SpaceId,
        (mark, claim_secret): ([u8; 16], &[u8; 32]),
        issued_at: u64,
        expires_at: u64,
    ) -> Self {
        let claim = SigningKey::from_bytes(claim_secret)
            .verifying_key()
            .to_bytes();
        let signature = device.sign(&Self::message(space, &mark, &claim, issued_at, expires_at));
        Self {
            mark,
            claim,
            issued_at,
            expires_at,
            issuer: cert,
            signature,
        }
    }

    fn message(
        space: &SpaceId,
        mark: &[u8; 16],
        claim: &[u8; 32],
        issued_at: u64,
        expires_at: u64,
    ) -> Vec<u8> {
        let mut m = INVITE_CONTEXT.to_vec();
        m.extend_from_slice(space.as_bytes());
        m.extend_from_slice(mark);
        m.extend_from_slice(claim);
        m.extend_from_slice(&issued_at.to_le_bytes());
        m.extend_from_slice(&expires_at.to_le_bytes());
        m
    }

    fn claim_message(space: &SpaceId, mark: &[u8; 16], joiner: &IdentityId) -> Vec<u8> {
        let mut m = CLAIM_CONTEXT.to_vec();
        m.extend_from_slice(space.as_bytes());
        m.extend_from_slice(mark);
        m.extend_from_slice(joiner.as_bytes());
        m
    }

    /// The joiner's proof that it holds the ticket: the claim key's
    /// signature over the group, the invite and the joining identity.
    pub fn claim(
        claim_secret: &[u8; 32],
        space: &SpaceId,
        mark: &[u8; 16],
        joiner: &IdentityId,
    ) -> [u8; 64] {
        use ed25519_dalek::Signer;
        SigningKey::from_bytes(claim_secret)
            .sign(&Self::claim_message(space, mark, joiner))
            .to_bytes()
    }

    /// Checks a join's claim signature for `joiner`.
    pub fn verify_claim(
        &self,
        space: &SpaceId,
        joiner: &IdentityId,
        claim: &[u8; 64],
    ) -> Result<(), InviteError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&self.claim)
            .map_err(|_| InviteError::BadClaim)?;
        key.verify_strict(
            &Self::claim_message(space, &self.mark, joiner),
            &Signature::from_bytes(claim),
        )
        .map_err(|_| InviteError::BadClaim)
    }

    /// Checks that a device of `owner` issued this invite into `space`.
    pub fn verify(&self, space: &SpaceId, owner: &IdentityId) -> Result<(), InviteError> {
        self.issuer
            .verify()
            .map_err(|_| InviteError::BadCertificate)?;
        if self.issuer.identity != *owner {
            return Err(InviteError::NotTheOwner {
                issuer: self.issuer.identity.fmt_short(),
                owner: owner.fmt_short(),
            });
        }
        let key =
            verifying_key(self.issuer.device.as_bytes()).map_err(|_| InviteError::BadSignature)?;
        key.verify_strict(
            &Self::message(
                space,
                &self.mark,
                &self.claim,
                self.issued_at,
                self.expires_at,
            ),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| InviteError::BadSignature)
    }
}

/// A change to a group's membership, as a record in the group's space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupOp {
    /// The first entry of a joining device's log: its certificate and the
    /// owner's invite.
    Join {
        /// The joining identity's certificate of this device.
        cert: DeviceCert,
        /// The invite it uses.
        invite: Box<Invite>,
        /// The invite's claim key's signature for the joining identity.
        #[serde(with = "crate::identity::sig_bytes")]
        claim: [u8; 64],
    },
    /// The owner takes `member` out. Entries of theirs up to `heads` (the
    /// last seq per device that the owner held) stay; later ones are
    /// refused, and hidden where they arrived first.
    Remove {
        /// Who is removed.
        member: IdentityId,
        /// Per device of theirs, the last seq that stays.
        heads: Vec<(DeviceId, u64)>,
    },
    /// A member leaves; `heads` as for a removal.
    Leave {
        /// Per device of theirs, the last seq that stays.
        heads: Vec<(DeviceId, u64)>,
    },
}

impl GroupOp {
    /// What [`fold`] needs of this operation.
    pub fn kind(&self) -> OpKind {
        match self {
            GroupOp::Join { invite, .. } => OpKind::Join {
                mark: invite.mark,
                issued_at: invite.issued_at,
                expires_at: invite.expires_at,
            },
            GroupOp::Remove { member, heads } => OpKind::Remove {
                member: *member,
                heads: heads.clone(),
            },
            GroupOp::Leave { heads } => OpKind::Leave {
                heads: heads.clone(),
            },
        }
    }

    /// Checks size and range limits.
    pub fn within_limits(&self) -> bool {
        match self {
            GroupOp::Join { invite, .. } => {
                invite.issued_at <= crate::entry::MAX_TIMESTAMP
                    && invite.expires_at <= crate::entry::MAX_TIMESTAMP
            }
            GroupOp::Remove { heads, .. } | GroupOp::Leave { heads } => {
                heads.len() <= MAX_HEADS && heads.iter().all(|(_, s)| *s <= crate::entry::MAX_SEQ)
            }
        }
    }
}

/// One stored membership operation, as [`fold`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    /// The entry that holds it.
    pub id: EntryId,
    /// The identity that wrote it (its log's certificate).
    pub author: IdentityId,
    /// The device that wrote it.
    pub device: DeviceId,
    /// Its seq in that device's log.
    pub seq: u64,
    /// The entry's timestamp.
    pub timestamp: u64,
    /// What it does.
    pub kind: OpKind,
}

/// What an [`Op`] does, with what [`fold`] needs of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    /// A join whose invite was checked against the group and its owner.
    Join {
        /// The invite's mark.
        mark: [u8; 16],
        /// When the owner issued it.
        issued_at: u64,
        /// When it expires.
        expires_at: u64,
    },
    /// A removal (counts only when the owner wrote it).
    Remove {
        /// Who.
        member: IdentityId,
        /// The last seq per device that stays.
        heads: Vec<(DeviceId, u64)>,
    },
    /// A member leaves.
    Leave {
        /// The last seq per device that stays.
        heads: Vec<(DeviceId, u64)>,
    },
}

/// Where a group's membership stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// Members, the owner included.
    pub members: BTreeSet<IdentityId>,
    /// Identities that were members and are not now, with the last seq
    /// per device that stays accepted (a device not named: none).
    pub former: BTreeMap<IdentityId, BTreeMap<DeviceId, u64>>,
}

impl Membership {
    /// Whether `who` is a member.
    pub fn is_member(&self, who: &IdentityId) -> bool {
        self.members.contains(who)
    }

    /// The last seq of `device` (of identity `who`) that is accepted:
    /// `None` when all are (a member), `Some(n)` otherwise (0: none).
    pub fn limit(&self, who: &IdentityId, device: &DeviceId) -> Option<u64> {
        if self.is_member(who) {
            return None;
        }
        Some(
            self.former
                .get(who)
                .and_then(|h| h.get(device))
                .copied()
                .unwrap_or(0),
        )
    }
}

/// An event in one identity's membership history: when, whether it takes
/// them out, and the entry (for ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Event<'a> {
    time: u64,
    /// Removals sort after admissions at the same time: they win ties.
    out: bool,
    id: EntryId,
    heads: Option<&'a [(DeviceId, u64)]>,
    /// A leave's own place (device, seq): it stays accepted too, or the
    /// leave would refuse itself.
    own: Option<(DeviceId, u64)>,
}

/// The membership the set `ops` gives a group owned by `owner`. `Join`
/// ops must already have had their invites checked ([`Invite::verify`]).
pub fn fold(owner: &IdentityId, ops: &[Op]) -> Membership {
    // Each invite binds to the first identity that used it.
    let mut first_use: BTreeMap<[u8; 16], (u64, EntryId, IdentityId)> = BTreeMap::new();
    for op in ops {
        if let OpKind::Join {
            mark, expires_at, ..
        } = &op.kind
            && op.timestamp <= *expires_at
        {
            let cand = (op.timestamp, op.id, op.author);
            first_use
                .entry(*mark)
                .and_modify(|c| {
                    if cand < *c {
                        *c = cand;
                    }
                })
                .or_insert(cand);
        }
    }
    let mut history: BTreeMap<IdentityId, Vec<Event<'_>>> = BTreeMap::new();
    for op in ops {
        match &op.kind {
            OpKind::Join {
                mark, issued_at, ..
            } if first_use.get(mark).is_some_and(|c| c.2 == op.author) => {
                history.entry(op.author).or_default().push(Event {
                    time: *issued_at,
                    out: false,
                    id: op.id,
                    heads: None,
                    own: None,
                });
            }
            OpKind::Remove { member, heads } if op.author == *owner && member != owner => {
                history.entry(*member).or_default().push(Event {
                    time: op.timestamp,
                    out: true,
                    id: op.id,
                    heads: Some(heads),
                    own: None,
                });
            }
            OpKind::Leave { heads } if op.author != *owner => {
                history.entry(op.author).or_default().push(Event {
                    time: op.timestamp,
                    out: true,
                    id: op.id,
                    heads: Some(heads),
                    own: Some((op.device, op.seq)),
                });
            }
            _ => {}
        }
    }
    let mut m = Membership::default();
    m.members.insert(*owner);
    for (who, events) in history {
        let Some(last) = events.iter().max() else {
            continue;
        };
        match last.heads {
            None => {
                m.members.insert(who);
            }
            Some(heads) => {
                let mut kept: BTreeMap<DeviceId, u64> = heads.iter().copied().collect();
                if let Some((device, seq)) = last.own {
                    let at = kept.entry(device).or_default();
                    *at = (*at).max(seq);
                }
                m.former.insert(who, kept);
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::identity::IdentityKey;

    fn id(b: u8) -> IdentityId {
        IdentityId([b; 32])
    }

    fn op(n: u8, author: u8, ts: u64, kind: OpKind) -> Op {
        Op {
            id: EntryId([n; 32]),
            author: id(author),
            device: DeviceId([author; 32]),
            seq: 1,
            timestamp: ts,
            kind,
        }
    }

    fn join(n: u8, who: u8, ts: u64, mark: u8, issued_at: u64) -> Op {
        op(
            n,
            who,
            ts,
            OpKind::Join {
                mark: [mark; 16],
                issued_at,
                expires_at: u64::MAX,
            },
        )
    }

    fn remove(n: u8, by: u8, who: u8, ts: u64) -> Op {
        op(
            n,
            by,
            ts,
            OpKind::Remove {
                member: id(who),
                heads: vec![(DeviceId([who; 32]), 3)],
            },
        )
    }

    const OWNER: u8 = 1;

    #[test]
    fn joins_removals_and_reuse() {
        let owner = id(OWNER);
        // Bob joins with invite 7 (issued at 10); the owner removes him at 20.
        let mut ops = vec![join(1, 2, 11, 7, 10), remove(2, OWNER, 2, 20)];
        let m = fold(&owner, &ops);
        assert!(!m.is_member(&id(2)));
        assert_eq!(m.limit(&id(2), &DeviceId([2; 32])), Some(3));
        assert_eq!(m.limit(&id(2), &DeviceId([9; 32])), Some(0));
        assert_eq!(m.limit(&owner, &DeviceId([1; 32])), None);
        // He uses his old invite again, later: still removed.
        ops.push(join(3, 2, 30, 7, 10));
        assert!(!fold(&owner, &ops).is_member(&id(2)));
        // A new invite issued after the removal lets him back in.
        ops.push(join(4, 2, 41, 8, 40));
        assert!(fold(&owner, &ops).is_member(&id(2)));
        // Cat tries Bob's first invite: it is bound to Bob.
        ops.push(join(5, 3, 12, 7, 10));
        assert!(!fold(&owner, &ops).is_member(&id(3)));
    }

    #[test]
    fn only_the_owner_removes_and_the_owner_stays() {
        let owner = id(OWNER);
        let ops = vec![
            join(1, 2, 11, 7, 10),
            join(2, 3, 11, 8, 10),
            // Bob removes Cat and the owner: nothing happens.
            remove(3, 2, 3, 50),
            remove(4, 2, OWNER, 50),
            // The owner removing themself does nothing either.
            remove(5, OWNER, OWNER, 50),
        ];
        let m = fold(&owner, &ops);
        assert_eq!(m.members, [owner, id(2), id(3)].into_iter().collect());
    }

    #[test]
    fn a_tie_goes_to_the_removal_and_leaving_is_for_oneself() {
        let owner = id(OWNER);
        let ops = vec![join(1, 2, 11, 7, 20), remove(9, OWNER, 2, 20)];
        assert!(!fold(&owner, &ops).is_member(&id(2)));
        let mut leave = op(2, 2, 30, OpKind::Leave { heads: vec![] });
        leave.seq = 4;
        let ops = vec![join(1, 2, 11, 7, 10), leave];
        let m = fold(&owner, &ops);
        assert!(!m.is_member(&id(2)));
        // The leave itself stays accepted, nothing after it.
        assert_eq!(m.limit(&id(2), &DeviceId([2; 32])), Some(4));
        assert_eq!(m.limit(&id(2), &DeviceId([9; 32])), Some(0));
    }

    #[test]
    fn an_expired_invite_admits_no_one() {
        let mut j = join(1, 2, 100, 7, 10);
        if let OpKind::Join { expires_at, .. } = &mut j.kind {
            *expires_at = 50;
        }
        assert!(!fold(&id(OWNER), &[j]).is_member(&id(2)));
    }

    #[test]
    fn invites_verify_only_from_the_owner() {
        let owner = IdentityKey::from_secret_bytes([1; 32]);
        let member = IdentityKey::from_secret_bytes([2; 32]);
        let dev = DeviceKey::from_secret_bytes([3; 32]);
        let space = group_space_id(&owner.id(), &[4; 16]);
        let cert = DeviceCert::issue(&owner, dev.id(), 5);
        let inv = Invite::issue(&dev, cert, &space, ([6; 16], &[9; 32]), 10, 20);
        inv.verify(&space, &owner.id()).unwrap();
        // Only the ticket's secret makes a join's claim, and for one identity.
        let claim = Invite::claim(&[9; 32], &space, &inv.mark, &member.id());
        inv.verify_claim(&space, &member.id(), &claim).unwrap();
        assert!(inv.verify_claim(&space, &owner.id(), &claim).is_err());
        let forged = Invite::claim(&[8; 32], &space, &inv.mark, &member.id());
        assert!(inv.verify_claim(&space, &member.id(), &forged).is_err());
        assert!(inv.verify(&SpaceId([0; 32]), &owner.id()).is_err());
        assert!(matches!(
            inv.verify(&space, &member.id()),
            Err(InviteError::NotTheOwner { .. })
        ));
        let mut late = inv.clone();
        late.expires_at = 99;
        assert_eq!(
            late.verify(&space, &owner.id()),
            Err(InviteError::BadSignature)
        );
        // A member minting an invite with their own device.
        let mdev = DeviceKey::from_secret_bytes([7; 32]);
        let mcert = DeviceCert::issue(&member, mdev.id(), 5);
        let minted = Invite::issue(&mdev, mcert, &space, ([8; 16], &[9; 32]), 10, 20);
        assert!(minted.verify(&space, &owner.id()).is_err());
        assert_ne!(group_space_id(&member.id(), &[4; 16]), space);
    }

    fn any_op() -> impl Strategy<Value = Op> {
        (
            any::<u8>(),
            1u8..5,
            0u64..6,
            prop_oneof![
                (1u8..4, 0u64..6).prop_map(|(m, at)| OpKind::Join {
                    mark: [m; 16],
                    issued_at: at,
                    expires_at: 4,
                }),
                (1u8..5).prop_map(|w| OpKind::Remove {
                    member: id(w),
                    heads: vec![(DeviceId([w; 32]), u64::from(w))],
                }),
                Just(OpKind::Leave { heads: vec![] }),
            ],
        )
            .prop_map(|(n, author, ts, kind)| op(n, author, ts, kind))
    }

    proptest! {
        /// The same set of operations gives the same membership in any
        /// order; the owner is always in.
        #[test]
        fn fold_is_a_function_of_the_set(mut ops in proptest::collection::vec(any_op(), 0..20), seed in any::<u64>()) {
            let owner = id(OWNER);
            let a = fold(&owner, &ops);
            let mut x = seed | 1;
            for i in (1..ops.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                ops.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let b = fold(&owner, &ops);
            prop_assert_eq!(&a, &b);
            prop_assert!(a.is_member(&owner));
            for who in &a.members {
                prop_assert!(!a.former.contains_key(who));
            }
        }
    }
}
