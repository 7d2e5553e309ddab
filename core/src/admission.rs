//! Whether an entry may join its log, and who may write what, where: the
//! rules an entry must meet for its place in its log and a decrypted record
//! for its place in its space. Pure functions of plain data; the store
//! gathers the facts (the log's frontier, the space's kind and owner, the
//! log's certificate, a revocation's limit) and applies the verdicts.
//!
//! An entry joins its log ([`in_log`]) only as the next link of its chain:
//! the seq after the log's frontier, naming the frontier's entry as its
//! previous. One from further ahead waits for the gap to fill; a second
//! entry at a seq already held is equivocation (kept as evidence, and the
//! device is refused from then on); the first entry of a log must carry
//! its payload (the certificate). Past a revocation's limit nothing joins
//! ([`within_revocation`]), and a space opens at most
//! [`MAX_LOGS_PER_SPACE`] logs, [`MAX_DEVICES_PER_IDENTITY`] per identity
//! ([`may_open_log`]).
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
use crate::entry::Header;
use crate::id::{DeviceId, EntryId, IdentityId, SpaceId};
use crate::identity::{DeviceCert, RevocationProof};
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

/// Most logs one space holds (so its frontier always fits a sync message).
pub const MAX_LOGS_PER_SPACE: u64 = 10_000;
/// Most devices one identity writes from in one space.
pub const MAX_DEVICES_PER_IDENTITY: u64 = 64;

/// What the store holds of one device's log in one space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogFacts {
    /// The highest seq held (0: none).
    pub seq: u64,
    /// The id of the entry at that seq.
    pub head: Option<EntryId>,
    /// Whether the device equivocated here (everything it signs here is
    /// refused).
    pub compromised: bool,
    /// Whether an earlier entry of this log was refused in the same batch
    /// (a later one cannot chain onto it).
    pub broken_in_batch: bool,
}

/// Where an entry stands in its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InLog {
    /// The store holds this very entry.
    Known,
    /// The next link of the chain: it may join (its record is checked
    /// next).
    Next,
    /// An earlier entry has not arrived: it waits for it.
    Wait,
    /// Another entry holds its seq: the device equivocated.
    Equivocation,
    /// It cannot join, and why.
    Refused(LogRefusal),
}

/// Why an entry cannot join its log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogRefusal {
    /// The device equivocated in this log before.
    #[error("the device is marked compromised after equivocating; its entries are refused")]
    Compromised,
    /// An earlier entry of the log was refused in this batch.
    #[error("an earlier entry of this log was refused")]
    AfterRefused,
    /// It does not name the entry held before it.
    #[error("broken chain: it does not name the entry held at the seq before it")]
    BrokenChain,
    /// A first entry without its payload (the certificate).
    #[error("the first entry of a log must carry its certificate")]
    NoCertificate,
}

impl LogRefusal {
    /// Whether an honest peer may send it (it is not yet known here that
    /// the log broke): it is then not held against the peer.
    pub fn honest(&self) -> bool {
        !matches!(self, LogRefusal::NoCertificate)
    }
}

/// Where the entry with header `h` and id `id` stands in a log the store
/// knows `log` of; `held` says whether the store holds an entry with this
/// id. (Checked in this order: what is held, what broke, what is early,
/// what does not chain.)
pub fn in_log(log: &LogFacts, h: &Header, held: bool, has_payload: bool) -> InLog {
    if h.seq <= log.seq && held {
        return InLog::Known;
    }
    if log.compromised {
        return InLog::Refused(LogRefusal::Compromised);
    }
    if log.broken_in_batch && h.seq > log.seq {
        return InLog::Refused(LogRefusal::AfterRefused);
    }
    if h.seq <= log.seq {
        return InLog::Equivocation;
    }
    if h.seq > log.seq + 1 {
        return InLog::Wait;
    }
    if h.previous != log.head {
        return InLog::Refused(LogRefusal::BrokenChain);
    }
    if h.seq == 1 && !has_payload {
        return InLog::Refused(LogRefusal::NoCertificate);
    }
    InLog::Next
}

/// Whether an entry at `seq` is within the limit its device's revocation
/// set in this space (`None`: not revoked here).
pub fn within_revocation(seq: u64, limit: Option<u64>) -> bool {
    limit.is_none_or(|last| seq <= last)
}

/// Whether a new log may open in a space that holds `logs` logs, `of_writer`
/// of them written by the new log's identity; the refusal says why not.
pub fn may_open_log(logs: u64, of_writer: u64) -> Result<(), String> {
    if logs >= MAX_LOGS_PER_SPACE {
        return Err(format!(
            "the space holds {MAX_LOGS_PER_SPACE} device logs already"
        ));
    }
    if of_writer >= MAX_DEVICES_PER_IDENTITY {
        return Err(format!(
            "the identity writes from {MAX_DEVICES_PER_IDENTITY} devices in this space already"
        ));
    }
    Ok(())
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
        // After a revocation, the account's key moves to a new epoch
        // wrapped for the devices that remain.
        (Record::KeyRotation(_), SpaceKind::Account) => Ok(writer),
        (_, SpaceKind::Account) => {
            not("an account space holds only document changes and key rotations")
        }
        (
            Record::Revocation {
                device,
                heads,
                proof,
            },
            SpaceKind::Feed,
        ) => match proof {
            Some(p) if RevocationProof::verify(&place.owner, device, heads, p) => Ok(writer),
            _ => not("a revocation needs the identity's own signature (a trusted device's)"),
        },
        (Record::Backup(_), SpaceKind::Feed) => Ok(writer),
        (Record::Backup(_), _) => not("an account backup belongs in its identity's feed"),
        (Record::Follows(_), SpaceKind::Feed) => Ok(writer),
        (Record::Follows(_), _) => not("a public follow list belongs in its identity's feed"),
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
        // A device's keys for forward-secret messages, where it writes.
        (Record::DeviceKeys(_), SpaceKind::Feed | SpaceKind::Group | SpaceKind::Direct) => {
            Ok(writer)
        }
        (Record::RoomKey(_) | Record::Ratcheted(_), SpaceKind::Group | SpaceKind::Direct) => {
            Ok(writer)
        }
        (Record::RoomKey(_) | Record::Ratcheted(_), _) => {
            not("session keys and ratcheted messages belong in a conversation or group")
        }
        (Record::Post(_) | Record::Like { .. } | Record::Repost { .. }, _)
        | (Record::Unlike { .. } | Record::Unrepost { .. }, _)
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
                proof: None,
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

    /// A log's entries as a property test draws them: a chain (branch 0)
    /// and, optionally, a fork (branch 1) from some seq on.
    mod logs {
        use proptest::prelude::*;

        use super::super::*;
        use crate::id::Hash;

        /// Entry `seq` of `branch` (a fork's entries before `fork_at` are
        /// the chain's).
        pub(super) fn id(seq: u64, branch: u8, fork_at: u64) -> EntryId {
            let branch = if seq < fork_at { 0 } else { branch };
            EntryId(*blake3::hash(&[&seq.to_le_bytes()[..], &[branch]].concat()).as_bytes())
        }

        pub(super) fn header(seq: u64, branch: u8, fork_at: u64) -> Header {
            Header {
                version: crate::entry::ENTRY_VERSION,
                space: SpaceId([1; 32]),
                author: DeviceId([2; 32]),
                seq,
                previous: (seq > 1).then(|| id(seq - 1, branch, fork_at)),
                timestamp: seq,
                key_epoch: 0,
                payload_hash: Hash([0; 32]),
                payload_len: 0,
            }
        }

        /// What a store does with the verdicts: the log's facts, the ids
        /// it holds (in order), what waits.
        #[derive(Default)]
        pub(super) struct Model {
            pub(super) log: LogFacts,
            pub(super) held: Vec<EntryId>,
            waiting: Vec<(Header, EntryId)>,
        }

        impl Model {
            pub(super) fn offer(&mut self, h: Header, id: EntryId) {
                match in_log(&self.log, &h, self.held.contains(&id), true) {
                    InLog::Next => {
                        self.log.seq = h.seq;
                        self.log.head = Some(id);
                        self.held.push(id);
                        // What waited for this may join now.
                        let waiting = std::mem::take(&mut self.waiting);
                        for (h, id) in waiting {
                            self.offer(h, id);
                        }
                    }
                    InLog::Wait => self.waiting.push((h, id)),
                    InLog::Equivocation => self.log.compromised = true,
                    InLog::Known | InLog::Refused(_) => {}
                }
            }
        }

        /// Entries of a chain of `n`, a fork from `fork_at` (when not 0),
        /// shuffled, with repeats.
        pub(super) fn arrivals() -> impl Strategy<Value = (u64, u64, Vec<(u64, u8)>)> {
            (1u64..16, 0u64..16).prop_flat_map(|(n, fork)| {
                let fork_at = if fork > 0 && fork <= n { fork } else { 0 };
                let pick = (1..=n, 0u8..if fork_at > 0 { 2 } else { 1 })
                    .prop_filter("fork entries start at the fork", move |(s, b)| {
                        *b == 0 || *s >= fork_at
                    });
                (
                    Just(n),
                    Just(fork_at),
                    proptest::collection::vec(pick, 0..40),
                )
            })
        }
    }

    proptest::proptest! {
        /// Whatever arrives, in whatever order, what a log holds is a
        /// chain from seq 1, each entry naming the one before; a log that
        /// holds both sides of a fork's first entry is marked compromised.
        #[test]
        fn a_log_only_ever_holds_one_chain(
            (n, fork_at, offers) in logs::arrivals(),
        ) {
            let mut m = logs::Model::default();
            for (seq, branch) in &offers {
                m.offer(logs::header(*seq, *branch, fork_at), logs::id(*seq, *branch, fork_at));
            }
            proptest::prop_assert_eq!(m.held.len() as u64, m.log.seq);
            for (i, id) in m.held.iter().enumerate() {
                let seq = i as u64 + 1;
                let on_chain = *id == logs::id(seq, 0, fork_at) || *id == logs::id(seq, 1, fork_at);
                proptest::prop_assert!(on_chain);
                if i > 0 {
                    // Each names the one before it.
                    let branch = if *id == logs::id(seq, 0, fork_at) { 0 } else { 1 };
                    let prev = logs::header(seq, branch, fork_at).previous;
                    proptest::prop_assert_eq!(prev, Some(m.held[i - 1]));
                }
            }
            let offered = |s: u64, b: u8| offers.contains(&(s, b));
            if fork_at > 0
                && offered(fork_at, 0)
                && offered(fork_at, 1)
                && m.log.seq + 1 >= fork_at
            {
                proptest::prop_assert!(m.log.compromised);
            }
            if fork_at == 0 && (1..=n).all(|s| offered(s, 0)) {
                // An honest log arrives whole, whatever the order.
                proptest::prop_assert_eq!(m.log.seq, n);
                proptest::prop_assert!(!m.log.compromised);
            }
        }
    }

    #[test]
    fn log_verdicts_in_order() {
        let h = |seq, previous| Header {
            previous,
            ..logs::header(seq, 0, 0)
        };
        let at3 = LogFacts {
            seq: 3,
            head: Some(logs::id(3, 0, 0)),
            ..LogFacts::default()
        };
        assert_eq!(
            in_log(&at3, &logs::header(2, 0, 0), true, true),
            InLog::Known
        );
        assert_eq!(
            in_log(&at3, &logs::header(2, 0, 0), false, true),
            InLog::Equivocation
        );
        assert_eq!(
            in_log(&at3, &logs::header(4, 0, 0), false, true),
            InLog::Next
        );
        assert_eq!(
            in_log(&at3, &logs::header(6, 0, 0), false, true),
            InLog::Wait
        );
        assert_eq!(
            in_log(&at3, &h(4, Some(EntryId([9; 32]))), false, true),
            InLog::Refused(LogRefusal::BrokenChain)
        );
        assert_eq!(
            in_log(&LogFacts::default(), &logs::header(1, 0, 0), false, false),
            InLog::Refused(LogRefusal::NoCertificate)
        );
        let broken = LogFacts {
            broken_in_batch: true,
            ..at3
        };
        assert_eq!(
            in_log(&broken, &logs::header(4, 0, 0), false, true),
            InLog::Refused(LogRefusal::AfterRefused)
        );
        let compromised = LogFacts {
            compromised: true,
            ..at3
        };
        assert_eq!(
            in_log(&compromised, &logs::header(4, 0, 0), false, true),
            InLog::Refused(LogRefusal::Compromised)
        );
        assert!(within_revocation(5, None));
        assert!(within_revocation(5, Some(5)));
        assert!(!within_revocation(6, Some(5)));
        assert!(may_open_log(MAX_LOGS_PER_SPACE - 1, 0).is_ok());
        assert!(may_open_log(MAX_LOGS_PER_SPACE, 0).is_err());
        assert!(may_open_log(0, MAX_DEVICES_PER_IDENTITY).is_err());
    }
}
