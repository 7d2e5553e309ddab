//! Private groups: create, invite, join, list, read.
//!
//! A group is a space with a random id and its own key. Its automerge
//! document names it and lists members with their roles; posts, replies and
//! likes inside it are ordinary records sealed with the group's key, so a
//! peer without the key mirrors them but reads nothing.

use serde::Serialize;

use super::{NodeError, Result, now_ms, random};
use crate::crypto::SpaceKey;
use crate::doc::{Group, Role};
use crate::id::{IdentityId, SpaceId};
use crate::record::{KeyRotation, Record};
use crate::space::SpaceKind;
use crate::store::Page;
use crate::ticket::{GroupTicket, MAX_INVITE_KEYS, PeerAddr, Ticket};
use crate::{Node, StoreError};

/// How long an invite is valid unless told otherwise: a week.
pub const INVITE_VALID_MS: u64 = 7 * 24 * 3600 * 1000;

/// A group as this device sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupView {
    /// The group's id.
    pub id: SpaceId,
    /// Its name.
    pub name: Option<String>,
    /// What it is about.
    pub description: Option<String>,
    /// Members and their roles.
    pub members: Vec<(IdentityId, Role)>,
    /// This identity's role, if the document lists it yet.
    pub my_role: Option<Role>,
}

impl Node {
    /// Makes a private group with this identity as its admin; returns its
    /// id.
    pub fn group_create(&mut self, name: &str, description: Option<&str>) -> Result<SpaceId> {
        let name = name.trim();
        if name.is_empty() {
            return Err(NodeError::Invalid("a group needs a name".into()));
        }
        let space = SpaceId(random()?);
        let key = SpaceKey::from_bytes(random()?);
        self.store
            .add_space(&space, SpaceKind::Group, &self.identity, &key)?;
        self.open_log(&space)?;
        self.change_doc(&space, |doc, dev, now| {
            doc.set_group(dev, name, description, now)
        })?;
        let me = self.identity;
        self.change_doc(&space, |doc, dev, now| {
            Ok(doc.add_member(dev, &me, Role::Admin, None, now))
        })?;
        Ok(space)
    }

    /// An invite into `group`, valid for `valid_ms` (admins only).
    pub fn group_invite(&mut self, group: &SpaceId, valid_ms: u64) -> Result<Ticket> {
        let view = self.group(group)?;
        if view.my_role != Some(Role::Admin) {
            return Err(NodeError::Invalid(
                "only a group's admins can invite".into(),
            ));
        }
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
        let reach = self.store.meta("listen_addrs")?.unwrap_or_default();
        Ok(Ticket::Group(GroupTicket {
            space: *group,
            keys,
            name: view.name.unwrap_or_default(),
            inviter: self.identity,
            peer: Some(PeerAddr::decode_reach(self.device(), &reach)),
            expires_at: now_ms().saturating_add(valid_ms),
            secret: random()?,
        }))
    }

    /// Joins the group an invite names; returns its id. An expired invite,
    /// or one the group's document (as far as this device holds it) says
    /// was used by someone else, is refused.
    pub fn group_join(&mut self, ticket: &Ticket) -> Result<SpaceId> {
        let Ticket::Group(t) = ticket else {
            return Err(NodeError::Invalid(
                "that is a feed ticket, not a group invite: follow it instead".into(),
            ));
        };
        if now_ms() > t.expires_at {
            return Err(NodeError::Invalid(format!(
                "this invite to {:?} has expired; ask for a new one",
                t.name
            )));
        }
        let mark = t.used_mark();
        let me = self.identity;
        let keys: Vec<(u32, SpaceKey)> = t
            .keys
            .iter()
            .map(|(e, k)| (*e, SpaceKey::from_bytes(*k)))
            .collect();
        // Epoch 0 first (it opens the group's document: name, members),
        // then newer epochs in order.
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
        // What this device already holds of the group (a mirror, a sync)
        // tells whether the invite was used.
        let used_by = self
            .store
            .doc_opened_with(&t.space, &key)?
            .group()
            .used_invites
            .into_iter()
            .find(|(m, _)| *m == mark)
            .map(|(_, who)| who);
        if used_by.is_some_and(|who| who != me) {
            return Err(NodeError::Invalid(
                "this invite was already used; ask for a new one".into(),
            ));
        }
        self.store
            .add_space(&t.space, SpaceKind::Group, &t.inviter, &key)?;
        self.store.add_epoch_keys(&t.space, &keys)?;
        if let Some(peer) = &t.peer {
            self.store.add_peer(peer)?;
        }
        self.open_log(&t.space)?;
        self.change_doc(&t.space, |doc, dev, now| {
            Ok(doc.add_member(dev, &me, Role::Member, Some(&mark), now))
        })?;
        Ok(t.space)
    }

    /// Removes `member` from `group` (admins only) and rotates its key: a
    /// new epoch key, wrapped for each remaining member with X25519 from
    /// their identity key, goes out in a key-rotation entry. The removed
    /// member keeps syncing headers but opens nothing written after it.
    /// Returns the new epoch.
    pub fn group_remove(&mut self, group: &SpaceId, member: &IdentityId) -> Result<u32> {
        let view = self.group(group)?;
        if view.my_role != Some(Role::Admin) {
            return Err(NodeError::Invalid(
                "only a group's admins can remove members".into(),
            ));
        }
        if *member == self.identity {
            return Err(NodeError::Invalid("an admin cannot remove themself".into()));
        }
        if !view.members.iter().any(|(m, _)| m == member) {
            return Err(NodeError::Invalid(format!(
                "{} is not a member of this group",
                member.fmt_short()
            )));
        }
        let epoch = self.store.space_keys(group)?.last().map_or(0, |(e, _)| *e) + 1;
        let key = SpaceKey::from_bytes(random()?);
        let mut wrapped = Vec::new();
        for (m, _) in view.members.iter().filter(|(m, _)| m != member) {
            let w = crate::crypto::wrap_key(&self.identity_key, m, group, epoch, &key, random()?)
                .ok_or_else(|| {
                NodeError::Invalid(format!("{} is not a valid identity", m.fmt_short()))
            })?;
            wrapped.push((*m, w));
        }
        let who = *member;
        self.change_doc(group, |doc, dev, now| Ok(doc.remove_member(dev, &who, now)))?;
        // Sealed with the current key; projecting it here unwraps this
        // admin's own copy, so what follows is sealed with the new one.
        self.append(
            group,
            Record::KeyRotation(KeyRotation {
                epoch,
                removed: vec![who],
                wrapped,
            }),
        )?;
        Ok(epoch)
    }

    /// One group, as held here.
    pub fn group(&mut self, group: &SpaceId) -> Result<GroupView> {
        if self.store.space_kind(group)? != Some(SpaceKind::Group)
            || self.store.space_keys(group)?.is_empty()
        {
            return Err(NodeError::Invalid(format!(
                "not a member of group {}",
                group.fmt_short()
            )));
        }
        let g: Group = self.store.doc(group)?.group();
        Ok(GroupView {
            id: *group,
            my_role: g.role(&self.identity),
            name: g.name,
            description: g.description,
            members: g.members,
        })
    }

    /// Every group this device is in.
    pub fn groups(&mut self) -> Result<Vec<GroupView>> {
        let mut out = Vec::new();
        for (id, _) in self.store.spaces_of_kind(SpaceKind::Group)? {
            if let Ok(v) = self.group(&id) {
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

    /// Opens this device's log in `space` with its certificate (the one
    /// that opens its log in its own feed), unless already open.
    pub(super) fn open_log(&mut self, space: &SpaceId) -> Result<()> {
        let device = self.device();
        if self.store.log_head(space, &device)?.is_some() {
            return Ok(());
        }
        let feed = self.feed();
        let cert = self
            .store
            .device_cert(&feed, &device)?
            .ok_or_else(|| StoreError::Corrupt("this device's certificate is missing".into()))?;
        self.append(space, Record::DeviceCert(cert))?;
        Ok(())
    }
}
