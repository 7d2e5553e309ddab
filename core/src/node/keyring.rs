//! The account as the identity's keyring: the keys of its conversations
//! and groups, kept in the account space so that every device of the
//! identity, those without the identity key too, reads what any of them
//! opened. A conversation's key comes from the identity key, and a group's
//! later keys are wrapped for the identity: a device holding the identity
//! key keeps them here, the others take them from here. The account space
//! moves to a new key when a device is revoked, so a revoked device reads
//! no key kept afterwards.

use super::{Node, NodeError, Result};
use crate::crypto::SpaceKey;
use crate::doc::KeptGroup;
use crate::space::{SpaceKind, direct_space_id};

impl Node {
    /// Brings this device's keys and the account's keyring level: takes
    /// the conversations and group keys the account keeps that are not
    /// held here, keeps in the account those held here that it lacks, and
    /// (on a device holding the identity key) opens the conversation with
    /// every followed identity. Returns whether anything changed.
    pub fn tend_keys(&mut self) -> Result<bool> {
        let mut changed = false;
        let acc = self.account_lists()?;
        for (who, key) in &acc.conversations {
            let space = direct_space_id(&self.identity, who);
            if self.store.space_kind(&space)?.is_none() {
                self.store.add_space(
                    &space,
                    SpaceKind::Direct,
                    who,
                    &SpaceKey::from_bytes(*key),
                )?;
                changed = true;
            }
        }
        for g in &acc.groups {
            changed |= self.take_group(g)?;
        }
        if self.holds_identity_key() {
            for (who, _) in &acc.follows {
                if acc.conversation_key(who).is_none() {
                    self.direct_space(who)?;
                    changed = true;
                }
            }
        }
        for g in self.groups_held()? {
            let kept = acc.groups.iter().find(|k| k.space == g.space);
            if kept.is_none_or(|k| g.keys.iter().any(|e| !k.keys.contains(e))) {
                changed |= self.change_account(|doc, dev, now| Ok(doc.keep_group(dev, &g, now)))?;
            }
        }
        Ok(changed)
    }

    /// Holds a group the account keeps, and its keys not held yet.
    fn take_group(&mut self, g: &KeptGroup) -> Result<bool> {
        if g.space != crate::membership::group_space_id(&g.owner, &g.nonce) {
            return Err(NodeError::Invalid(format!(
                "the account keeps group {} under another id",
                g.space.fmt_short()
            )));
        }
        let held: Vec<u32> = self
            .store
            .space_keys(&g.space)?
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        let missing: Vec<(u32, SpaceKey)> = g
            .keys
            .iter()
            .filter(|(e, _)| !held.contains(e))
            .map(|(e, k)| (*e, SpaceKey::from_bytes(*k)))
            .collect();
        if missing.is_empty() {
            return Ok(false);
        }
        match self.store.space_kind(&g.space)? {
            None => {
                let Some((_, first)) = missing.iter().find(|(e, _)| *e == 0) else {
                    return Ok(false);
                };
                self.store
                    .add_space(&g.space, SpaceKind::Group, &g.owner, first)?;
                self.store.set_group_nonce(&g.space, &g.nonce)?;
                let later: Vec<_> = missing.into_iter().filter(|(e, _)| *e > 0).collect();
                if !later.is_empty() {
                    self.store.add_epoch_keys(&g.space, &later)?;
                }
            }
            // A group this device left stays left.
            Some(SpaceKind::Group) if !self.store.has_departed(&g.space)? => {
                self.store.add_epoch_keys(&g.space, &missing)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The groups this identity is in, with the keys held here.
    fn groups_held(&mut self) -> Result<Vec<KeptGroup>> {
        let mut out = Vec::new();
        for (space, owner) in self.store.spaces_of_kind(SpaceKind::Group)? {
            let (Some(owner), Some(nonce)) = (owner, self.store.group_nonce(&space)?) else {
                continue;
            };
            if self.store.has_departed(&space)?
                || !self
                    .store
                    .group_membership(&space)?
                    .is_member(&self.identity)
            {
                continue;
            }
            let keys = self
                .store
                .space_keys(&space)?
                .into_iter()
                .map(|(e, k)| (e, k.to_bytes()))
                .collect();
            out.push(KeptGroup {
                space,
                owner,
                nonce,
                keys,
            });
        }
        Ok(out)
    }
}
