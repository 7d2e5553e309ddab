//! Private groups: create, invite, join, remove, leave, list, read.
//!
//! A group is a space whose id commits to its owner (see
//! [`crate::membership`]) with its own key. Who is a member is folded from
//! signed membership operations; its automerge document holds only its
//! name and description. Posts, replies and likes inside it are ordinary
//! records sealed with the group's key, so a peer without the key stores
//! nothing of it.

use super::{NodeError, Result, now_ms, random};
use crate::crypto::SpaceKey;
use crate::doc::Group;
use crate::id::{IdentityId, SpaceId};
use crate::membership::{GroupOp, Invite, group_space_id};
use crate::record::Record;
use crate::space::SpaceKind;
use crate::store::Page;
use crate::ticket::{GroupTicket, MAX_INVITE_KEYS, PeerAddr, Ticket};
use crate::{Node, StoreError};

/// How long an invite is valid unless told otherwise: a week.
pub const INVITE_VALID_MS: u64 = 7 * 24 * 3600 * 1000;

use crate::view::{GroupView, Member, Role};

impl Node {
    /// Makes a private group with this identity as its owner; returns its
    /// id.
    pub fn group_create(&mut self, name: &str, description: Option<&str>) -> Result<SpaceId> {
        let name = name.trim();
        if name.is_empty() {
            return Err(NodeError::Invalid("a group needs a name".into()));
        }
        let nonce: [u8; 16] = random()?;
        let space = group_space_id(&self.identity, &nonce);
        let key = SpaceKey::from_bytes(random()?);
        self.store
            .add_space(&space, SpaceKind::Group, &self.identity, &key)?;
        self.store.set_group_nonce(&space, &nonce)?;
        self.open_log(&space)?;
        self.change_doc(&space, |doc, dev, now| {
            doc.set_group(dev, name, description, now)
        })?;
        // The identity's other devices find it in the account.
        self.tend_keys()?;
        self.back_up_account()?;
        Ok(space)
    }

    /// An invite into `group`, valid for `valid_ms` (its owner only): the
    /// group's keys, and an [`Invite`] this device signs.
    pub fn group_invite(&mut self, group: &SpaceId, valid_ms: u64) -> Result<Ticket> {
        let view = self.group(group)?;
        if view.owner != self.identity {
            return Err(NodeError::NotAllowed(
                "only a group's owner can invite (the owner is its admin)".into(),
            ));
        }
        let nonce = self.store.group_nonce(group)?.ok_or_else(|| {
            NodeError::Invalid(
                "this device does not know how the group's id was made; invite from the device that created it".into(),
            )
        })?;
        let mut keys: Vec<(u32, [u8; 32])> = self
            .store
            .space_keys(group)?
            .into_iter()
            .map(|(e, k)| (e, k.to_bytes()))
            .collect();
        if keys.is_empty() {
            return Err(StoreError::NoKey(group.fmt_short()).into());
        }
        // The first key (it opens the group's document) and the newest.
        let drop = keys.len().saturating_sub(MAX_INVITE_KEYS);
        keys.drain(1..1 + drop);
        let cert = self.own_cert()?;
        let now = now_ms();
        let claim_secret: [u8; 32] = random()?;
        let invite = Box::new(Invite::issue(
            &self.device,
            cert,
            group,
            (random()?, &claim_secret),
            now,
            now.saturating_add(valid_ms),
        ));
        let reach = self.store.meta("listen_addrs")?.unwrap_or_default();
        Ok(Ticket::Group(GroupTicket {
            space: *group,
            owner: self.identity,
            nonce,
            keys,
            name: view.name.unwrap_or_default(),
            invite,
            claim_secret,
            peer: Some(PeerAddr::decode_reach(self.device(), &reach)),
        }))
    }

    /// Joins the group an invite names; returns its id. The invite must be
    /// signed by a device of the group's owner (whom the group's id names)
    /// and not have expired; an invite someone else used first, or one
    /// older than this identity's removal, lets no one in.
    pub fn group_join(&mut self, ticket: &Ticket) -> Result<SpaceId> {
        let Ticket::Group(t) = ticket else {
            return Err(NodeError::Invalid(
                "that is a feed ticket, not a group invite: follow it instead".into(),
            ));
        };
        if group_space_id(&t.owner, &t.nonce) != t.space {
            return Err(NodeError::Invalid(
                "this invite names someone who does not own the group".into(),
            ));
        }
        t.invite
            .verify(&t.space, &t.owner)
            .map_err(|e| NodeError::Invalid(format!("this invite is not valid: {e}")))?;
        if now_ms() > t.invite.expires_at {
            return Err(NodeError::Invalid(format!(
                "this invite to {:?} has expired; ask for a new one",
                t.name
            )));
        }
        let keys: Vec<(u32, SpaceKey)> = t
            .keys
            .iter()
            .map(|(e, k)| (*e, SpaceKey::from_bytes(*k)))
            .collect();
        // Epoch 0 first (it opens the group's document: its name), then
        // newer epochs in order.
        let key = match keys.first() {
            Some((0, k))
                if keys.len() <= MAX_INVITE_KEYS && keys.windows(2).all(|w| w[0].0 < w[1].0) =>
            {
                k.clone()
            }
            _ => {
                return Err(NodeError::Invalid(
                    "this invite's keys are malformed".into(),
                ));
            }
        };
        if self.store.space_kind(&t.space)? == Some(SpaceKind::Group) {
            if self
                .store
                .group_membership(&t.space)?
                .is_member(&self.identity)
            {
                return Ok(t.space);
            }
        } else {
            self.store
                .add_space(&t.space, SpaceKind::Group, &t.owner, &key)?;
            self.store.set_group_nonce(&t.space, &t.nonce)?;
        }
        // Back in a group left before: its content comes again by sync.
        self.store.rejoin_space(&t.space)?;
        self.store.add_epoch_keys(&t.space, &keys)?;
        if let Some(peer) = &t.peer {
            self.store.add_peer(peer)?;
            self.store.introduce_peer(&peer.device)?;
        }
        let cert = self.own_cert()?;
        let join = Record::Group(GroupOp::Join {
            cert,
            claim: Invite::claim(&t.claim_secret, &t.space, &t.invite.mark, &self.identity),
            invite: t.invite.clone(),
        });
        let refused = || {
            NodeError::NotAllowed(
                "this invite was used by someone else, or you were removed from the group after it was made; ask the owner for a new one".into(),
            )
        };
        match self.append(&t.space, join) {
            Ok(_)
                if self
                    .store
                    .group_membership(&t.space)?
                    .is_member(&self.identity) =>
            {
                self.share_device_keys(&t.space)?;
                self.tend_keys()?;
                self.back_up_account()?;
                Ok(t.space)
            }
            // Kept like anything a former member writes (hidden), but it
            // does not let them in.
            Ok(_) | Err(NodeError::Store(StoreError::Refused(_))) => Err(refused()),
            Err(e) => Err(e),
        }
    }

    /// Removes `member` from `group` (its owner only) and rotates its key:
    /// a new epoch key, wrapped for each remaining member with X25519 from
    /// their identity key, goes out in a key-rotation entry. The removed
    /// member keeps what they had but opens nothing written after it, and
    /// what they write after it is refused. Returns the new epoch.
    pub fn group_remove(&mut self, group: &SpaceId, member: &IdentityId) -> Result<u32> {
        let view = self.group(group)?;
        if view.owner != self.identity {
            return Err(NodeError::NotAllowed(
                "only a group's owner can remove members (the owner is its admin)".into(),
            ));
        }
        if *member == self.identity {
            return Err(NodeError::Invalid(
                "the owner cannot remove themself".into(),
            ));
        }
        if !view.members.iter().any(|m| m.identity == *member) {
            return Err(NodeError::Invalid(format!(
                "{} is not a member of this group",
                member.fmt_short()
            )));
        }
        let heads = self.store.heads_of(group, member)?;
        self.append(
            group,
            Record::Group(GroupOp::Remove {
                member: *member,
                heads,
            }),
        )?;
        let epoch = self.rotate(group, vec![*member])?;
        self.tend_keys()?;
        Ok(epoch)
    }

    /// Leaves `group` (a member who is not its owner): what this identity
    /// wrote stays; the owner's next rotation leaves it out.
    pub fn group_leave(&mut self, group: &SpaceId) -> Result<()> {
        let view = self.group(group)?;
        if view.owner == self.identity {
            return Err(NodeError::NotAllowed(
                "the owner of a group cannot leave it".into(),
            ));
        }
        if view.my_role.is_none() {
            return Err(NodeError::NotAllowed(
                "you are not a member of this group".into(),
            ));
        }
        let heads = self.store.heads_of(group, &self.identity)?;
        self.append(group, Record::Group(GroupOp::Leave { heads }))?;
        // What was read in the group goes from this device's files.
        self.store.leave_space(group)?;
        self.back_up_account()?;
        Ok(())
    }

    /// A new epoch key for `group`, wrapped for every member but
    /// `removed`; returns the epoch.
    fn rotate(&mut self, group: &SpaceId, removed: Vec<IdentityId>) -> Result<u32> {
        let members = self.store.group_membership(group)?.members;
        let recipients: Vec<[u8; 32]> = members
            .iter()
            .filter(|m| !removed.contains(m))
            .map(|m| m.0)
            .collect();
        self.rotate_key(group, &recipients, removed)
    }

    /// One group, as held here.
    pub fn group(&mut self, group: &SpaceId) -> Result<GroupView> {
        let not_member =
            || NodeError::NotAllowed(format!("not a member of group {}", group.fmt_short()));
        if self.store.space_kind(group)? != Some(SpaceKind::Group) {
            return Err(not_member());
        }
        let owner = self
            .store
            .spaces_of_kind(SpaceKind::Group)?
            .into_iter()
            .find(|(s, _)| s == group)
            .and_then(|(_, o)| o)
            .ok_or_else(not_member)?;
        let m = self.store.group_membership(group)?;
        let g: Group = self.store.doc(group)?.group();
        let role = |who: &IdentityId| {
            if *who == owner {
                Role::Owner
            } else {
                Role::Member
            }
        };
        // The owner first, then the others in id order.
        let mut members = Vec::with_capacity(m.members.len());
        for who in std::iter::once(&owner).chain(m.members.iter().filter(|w| **w != owner)) {
            members.push(Member {
                identity: *who,
                name: self.store.profile(who)?.name,
                role: role(who),
            });
        }
        Ok(GroupView {
            id: *group,
            my_role: m.is_member(&self.identity).then(|| role(&self.identity)),
            name: g.name,
            description: g.description,
            owner,
            members,
        })
    }

    /// Every group this device is in.
    pub fn groups(&mut self) -> Result<Vec<GroupView>> {
        let mut out = Vec::new();
        for (id, _) in self.store.spaces_of_kind(SpaceKind::Group)? {
            if let Ok(v) = self.group(&id)
                && v.my_role.is_some()
            {
                out.push(v);
            }
        }
        out.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(out)
    }

    /// A group's timeline, newest first.
    pub fn group_timeline(
        &mut self,
        group: &SpaceId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page> {
        self.group(group)?;
        Ok(self.store.group_timeline(group, limit, before)?)
    }

    /// This device's certificate (from its own feed).
    fn own_cert(&mut self) -> Result<crate::identity::DeviceCert> {
        let feed = self.feed();
        let device = self.device();
        self.store.device_cert(&feed, &device)?.ok_or_else(|| {
            StoreError::Corrupt("this device's certificate is missing".into()).into()
        })
    }

    /// Opens this device's log in `space` with its certificate (the one
    /// that opens its log in its own feed), unless already open.
    pub(super) fn open_log(&mut self, space: &SpaceId) -> Result<()> {
        let device = self.device();
        if self.store.log_head(space, &device)?.is_some() {
            return Ok(());
        }
        let cert = self.own_cert()?;
        self.append(space, Record::DeviceCert(cert))?;
        self.share_device_keys(space)
    }
}
