//! Recovery from the phrase: showing it, keeping the account backed up in
//! the feed, and bringing an identity back on a new device.

use std::path::Path;

use super::{Node, NodeError, Result, random};
use crate::backup::{AccountBackup, GroupKeep, derived_keys, identity_from_phrase, phrase};
use crate::crypto::SpaceKey;
use crate::record::Record;
use crate::space::SpaceKind;
use crate::view::Restored;

impl Node {
    /// The recovery phrase of this identity (24 words). Whoever reads it
    /// can become this identity: show it only when the user asks.
    pub fn phrase(&self) -> Result<String> {
        Ok(phrase(self.identity_key()?))
    }

    /// Brings the identity a phrase names back in a new `home`, with a new
    /// device key that the identity certifies. Nothing else is restored
    /// yet: sync with a follower (who holds the feed and its backups),
    /// then call [`Node::restore_account`].
    pub fn recover(home: &Path, words: &str) -> Result<Self> {
        let identity_key =
            identity_from_phrase(words).map_err(|e| NodeError::Invalid(e.to_string()))?;
        let keys = derived_keys(&identity_key);
        Self::create(home, identity_key, keys, |_| Ok(()))
    }

    /// What this device would back up: the account's follows, mutes and
    /// blocks, and the groups it is in.
    fn account_backup(&mut self) -> Result<AccountBackup> {
        let acc = self.store.doc(&self.account())?.account();
        let mut groups = Vec::new();
        for (id, owner) in self.store.spaces_of_kind(SpaceKind::Group)? {
            let Some(owner) = owner else { continue };
            if !self.store.group_membership(&id)?.is_member(&self.identity) {
                continue;
            }
            let (Some(nonce), Some(key)) =
                (self.store.group_nonce(&id)?, self.store.space_key(&id, 0)?)
            else {
                continue;
            };
            groups.push(GroupKeep {
                owner,
                nonce,
                key: key.to_bytes(),
            });
        }
        Ok(AccountBackup {
            follows: acc.follows,
            mutes: acc.mutes,
            blocks: acc.blocks,
            groups,
        })
    }

    /// Writes an account backup into the feed unless the newest backup
    /// held (by any of this identity's devices) already says the same.
    /// Only a device holding the identity key writes one (it alone can
    /// read the last); the others' changes reach it through the account
    /// space ([`Node::tend_keys`]). Returns whether it wrote one.
    pub fn back_up_account(&mut self) -> Result<bool> {
        if !self.holds_identity_key() {
            return Ok(false);
        }
        let backup = self.account_backup()?;
        if self.newest_backup()?.as_ref() == Some(&backup) {
            return Ok(false);
        }
        let sealed = backup.seal(&self.identity, random()?, random()?);
        let feed = self.feed();
        self.append(&feed, Record::Backup(sealed))?;
        Ok(true)
    }

    /// The newest account backup held, opened.
    fn newest_backup(&mut self) -> Result<Option<AccountBackup>> {
        let Some(sealed) = self.store.newest_backup(&self.identity)? else {
            return Ok(None);
        };
        AccountBackup::open(&sealed, self.identity_key()?)
            .map(Some)
            .map_err(|e| NodeError::Invalid(e.to_string()))
    }

    /// Remembers the peer a ticket names as one to sync with (a follower
    /// a recovered device asks for its feed), without following anyone.
    /// Returns the peer, if the ticket names one.
    pub fn meet(
        &mut self,
        ticket: &crate::ticket::Ticket,
    ) -> Result<Option<crate::ticket::PeerAddr>> {
        let peer = match ticket {
            crate::ticket::Ticket::Feed(t) => t.peer.clone(),
            crate::ticket::Ticket::Group(t) => t.peer.clone(),
            _ => None,
        };
        if let Some(p) = &peer {
            self.store.add_peer(p)?;
            self.store.introduce_peer(&p.device)?;
        }
        Ok(peer)
    }

    /// This account's follows, mutes and blocks, as its document holds them.
    pub fn account_lists(&mut self) -> Result<crate::doc::Account> {
        let account = self.account();
        Ok(self.store.doc(&account)?.account())
    }

    /// Restores the account from the newest backup in this identity's
    /// feed (what a follower served): follows, mutes, blocks and groups
    /// come back. What is already here stays; run it again after more
    /// syncs to take a newer backup.
    pub fn restore_account(&mut self) -> Result<Restored> {
        let Some(b) = self.newest_backup()? else {
            return Ok(Restored::default());
        };
        let account = self.account();
        for (who, key) in &b.follows {
            let key = SpaceKey::from_bytes(*key);
            self.change_doc(
                &account,
                |doc, dev, now| Ok(doc.follow(dev, who, &key, now)),
            )?;
            self.open_conversation(who)?;
        }
        for who in &b.mutes {
            self.change_doc(&account, |doc, dev, now| Ok(doc.mute(dev, who, now)))?;
        }
        for who in &b.blocks {
            self.change_doc(&account, |doc, dev, now| Ok(doc.block(dev, who, now)))?;
        }
        for g in &b.groups {
            let id = g.id();
            if self.store.space_kind(&id)? != Some(SpaceKind::Group) {
                self.store.add_space(
                    &id,
                    SpaceKind::Group,
                    &g.owner,
                    &SpaceKey::from_bytes(g.key),
                )?;
                self.store.set_group_nonce(&id, &g.nonce)?;
            }
        }
        Ok(Restored {
            found: true,
            follows: b.follows.len() as u64,
            mutes: b.mutes.len() as u64,
            blocks: b.blocks.len() as u64,
            groups: b.groups.len() as u64,
        })
    }
}
