//! Direct messages: a conversation is a space of two, whose id and key
//! both sides derive from the pair of identities (the key by X25519
//! agreement of their identity keys), so neither needs to send the other
//! anything first. Following someone opens the conversation with them, so
//! that their messages sync.

use super::{NodeError, Result};
use crate::Node;
use crate::crypto::SpaceKey;
use crate::id::{EntryId, IdentityId, SpaceId};
use crate::record::{MAX_TEXT_LEN, Post, Record};
use crate::space::{SpaceKind, direct_space_id, direct_space_key};
use crate::store::Page;

use crate::view::Conversation;

impl Node {
    /// The conversation with `other`, made here if new.
    pub(super) fn direct_space(&mut self, other: &IdentityId) -> Result<SpaceId> {
        if *other == self.identity {
            return Err(NodeError::Invalid("that is you".into()));
        }
        let space = direct_space_id(&self.identity, other);
        if self.store.space_key(&space, 0)?.is_none() {
            let key = match self.account_lists()?.conversation_key(other) {
                Some(key) => SpaceKey::from_bytes(key),
                None => {
                    let key = direct_space_key(self.identity_key()?, other).ok_or_else(|| {
                        NodeError::Invalid(format!("{} is not a valid identity", other.fmt_short()))
                    })?;
                    // The identity's other devices (those without its key
                    // too) read the conversation's key in the account.
                    let at = key.clone();
                    self.change_account(|doc, dev, now| {
                        Ok(doc.keep_conversation(dev, other, &at, now))
                    })?;
                    key
                }
            };
            self.store
                .add_space(&space, SpaceKind::Direct, other, &key)?;
        }
        Ok(space)
    }

    /// Opens the conversation with `other` where this device can: one
    /// without the identity key opens it once a device holding the key
    /// kept it in the account ([`Node::tend_keys`]).
    pub(super) fn open_conversation(&mut self, other: &IdentityId) -> Result<()> {
        match self.direct_space(other) {
            Ok(_) | Err(NodeError::NotTrusted) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Sends `other` a direct message; returns its id.
    pub fn dm(&mut self, other: &IdentityId, text: &str) -> Result<EntryId> {
        if text.trim().is_empty() {
            return Err(NodeError::Invalid("a message needs text".into()));
        }
        if text.len() > MAX_TEXT_LEN {
            return Err(NodeError::Invalid(format!(
                "message is {} bytes, at most {MAX_TEXT_LEN}",
                text.len()
            )));
        }
        let space = self.direct_space(other)?;
        self.open_log(&space)?;
        let e = self.append(
            &space,
            Record::Post(Post {
                text: text.to_string(),
                reply_to: None,
                quote_of: None,
                images: Vec::new(),
            }),
        )?;
        Ok(e.id())
    }

    /// The conversation with `other`, newest message first.
    pub fn dm_show(
        &mut self,
        other: &IdentityId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page> {
        let space = self.direct_space(other)?;
        Ok(self.store.group_timeline(&space, limit, before)?)
    }

    /// Every conversation with at least one message, the newest first
    /// (none with a blocked identity).
    pub fn conversations(&mut self) -> Result<Vec<Conversation>> {
        let mut out = Vec::new();
        for (space, with) in self.store.spaces_of_kind(SpaceKind::Direct)? {
            let Some(with) = with else { continue };
            let profile = self.store.profile(&with)?;
            if profile.blocked {
                continue;
            }
            let page = self.store.group_timeline(&space, 1, None)?;
            let Some(last) = page.posts.into_iter().next() else {
                continue;
            };
            out.push(Conversation {
                id: space,
                with,
                name: profile.name,
                last,
            });
        }
        out.sort_by_key(|c| std::cmp::Reverse((c.last.timestamp, c.last.id)));
        Ok(out)
    }
}
