//! The mutable state of a space: an automerge document.
//!
//! A feed space's document holds the profile (`name`, `bio`, `avatar`); an
//! account space's document holds follows and mutes as flat root keys
//! (`follow:<identity>` → feed key hex, `mute:<identity>` → true), so that
//! two devices never race to create the same nested map. It also keeps the
//! keys of the identity's conversations (`conversation:<identity>` → key
//! hex) and groups (`group:<space>` → owner hex + nonce hex,
//! `groupkey:<space>:<epoch>` → key hex), so that a device without the
//! identity key reads what the others opened, and bookmarks
//! (`bookmark:<entry>` → when, ms), private to the identity's devices.
//!
//! Every local edit yields one automerge change; the change travels inside an
//! entry payload ([`crate::record::Record::DocChange`]) and is merged on
//! arrival. Time is passed in.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ROOT, ReadDoc};

use crate::crypto::SpaceKey;
use crate::id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};

/// Largest profile name, in bytes.
pub const MAX_NAME_LEN: usize = 100;
/// Largest bio, in bytes.
pub const MAX_BIO_LEN: usize = 1000;

/// A document or change could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocError {
    /// Saved document bytes did not load.
    #[error("stored document does not load: {0}")]
    Load(String),
    /// A change in a payload is not a valid automerge change.
    #[error("invalid automerge change: {0}")]
    BadChange(String),
    /// A field value breaks a limit.
    #[error("{field} is too long ({len} bytes, at most {max})")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// A space's automerge document.
#[derive(Debug)]
pub struct Doc {
    inner: AutoCommit,
}

/// The profile fields of a feed's document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Display name.
    pub name: Option<String>,
    /// Short biography.
    pub bio: Option<String>,
    /// Hash of the sealed avatar blob.
    pub avatar: Option<Hash>,
}

/// A change to a profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    /// New display name.
    pub name: Option<String>,
    /// New bio.
    pub bio: Option<String>,
    /// New avatar blob hash.
    pub avatar: Option<Hash>,
}

/// The follows and mutes of an account document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// Followed identities and their feed read keys, sorted by identity.
    pub follows: Vec<(IdentityId, [u8; 32])>,
    /// Muted identities, sorted.
    pub mutes: Vec<IdentityId>,
    /// Blocked identities, sorted.
    pub blocks: Vec<IdentityId>,
    /// Conversation keys, by the other identity, sorted.
    pub conversations: Vec<(IdentityId, [u8; 32])>,
    /// Groups and their keys, sorted by space.
    pub groups: Vec<KeptGroup>,
    /// Bookmarked posts and when each was bookmarked (ms), newest first.
    pub bookmarks: Vec<(EntryId, u64)>,
    /// Whether the identity shows whom it follows, in its feed
    /// ([`crate::record::Record::Follows`]).
    pub show_follows: bool,
}

impl Account {
    /// The kept key of the conversation with `other`.
    pub fn conversation_key(&self, other: &IdentityId) -> Option<[u8; 32]> {
        self.conversations
            .iter()
            .find(|(who, _)| who == other)
            .map(|(_, k)| *k)
    }
}

/// A group as the account keeps it for the identity's devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptGroup {
    /// The group's space.
    pub space: SpaceId,
    /// Its owner.
    pub owner: IdentityId,
    /// The nonce its id was made from.
    pub nonce: [u8; 16],
    /// Its keys by epoch, sorted.
    pub keys: Vec<(u32, [u8; 32])>,
}

const FOLLOW: &str = "follow:";
const MUTE: &str = "mute:";
const BLOCK: &str = "block:";
const CONVERSATION: &str = "conversation:";
const GROUP: &str = "group:";
const GROUP_KEY: &str = "groupkey:";
const BOOKMARK: &str = "bookmark:";
const SHOW_FOLLOWS: &str = "show_follows";
/// Most posts an account keeps bookmarked (the account document travels
/// whole in each account backup, which must fit one entry).
pub const MAX_BOOKMARKS: usize = 500;
/// Largest group description, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 1000;

/// A group's document: its name and description (only the owner writes
/// it; who is a member is decided by [`crate::membership`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// The group's name.
    pub name: Option<String>,
    /// What it is about.
    pub description: Option<String>,
}

impl Doc {
    /// A new empty document.
    pub fn new() -> Self {
        Self {
            inner: AutoCommit::new(),
        }
    }

    /// Loads a saved document.
    pub fn load(bytes: &[u8]) -> Result<Self, DocError> {
        AutoCommit::load(bytes)
            .map(|inner| Self { inner })
            .map_err(|e| DocError::Load(e.to_string()))
    }

    /// Saves the document compactly.
    pub fn save(&mut self) -> Vec<u8> {
        self.inner.save()
    }

    /// Checks that `bytes` is one automerge change.
    pub fn parse_change(bytes: &[u8]) -> Result<Change, DocError> {
        Change::from_bytes(bytes.to_vec()).map_err(|e| DocError::BadChange(e.to_string()))
    }

    /// Merges changes received from others (in any order; automerge queues a
    /// change until its dependencies arrive).
    pub fn apply(&mut self, changes: Vec<Change>) -> Result<(), DocError> {
        self.inner
            .apply_changes(changes)
            .map_err(|e| DocError::BadChange(e.to_string()))
    }

    fn begin(&mut self, device: &DeviceId) {
        self.inner
            .set_actor(ActorId::from(device.as_bytes().as_slice()));
    }

    fn finish(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        self.inner
            .commit_with(CommitOptions::default().with_time((now_ms / 1000) as i64))?;
        self.inner
            .get_last_local_change()
            .map(|mut c| c.bytes().into_owned())
    }

    /// Applies a profile update as `device`; returns the change bytes, or
    /// `None` if nothing changed.
    pub fn update_profile(
        &mut self,
        device: &DeviceId,
        update: &ProfileUpdate,
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, DocError> {
        check_len("name", update.name.as_deref(), MAX_NAME_LEN)?;
        check_len("bio", update.bio.as_deref(), MAX_BIO_LEN)?;
        self.begin(device);
        let current = self.profile();
        let mut put = |k: &str, v: String| self.inner.put(ROOT, k, v);
        if let Some(n) = &update.name
            && current.name.as_ref() != Some(n)
        {
            put("name", n.clone()).map_err(|e| DocError::BadChange(e.to_string()))?;
        }
        if let Some(b) = &update.bio
            && current.bio.as_ref() != Some(b)
        {
            put("bio", b.clone()).map_err(|e| DocError::BadChange(e.to_string()))?;
        }
        if let Some(a) = &update.avatar
            && current.avatar.as_ref() != Some(a)
        {
            put("avatar", a.to_string()).map_err(|e| DocError::BadChange(e.to_string()))?;
        }
        Ok(self.finish(now_ms))
    }

    /// Reads the profile fields.
    pub fn profile(&self) -> Profile {
        Profile {
            name: self.get_str("name").map(|s| truncate(s, MAX_NAME_LEN)),
            bio: self.get_str("bio").map(|s| truncate(s, MAX_BIO_LEN)),
            avatar: self.get_str("avatar").and_then(|s| s.parse().ok()),
        }
    }

    /// Follows `identity` whose feed key is `key`.
    pub fn follow(
        &mut self,
        device: &DeviceId,
        identity: &IdentityId,
        key: &SpaceKey,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.begin(device);
        let k = format!("{FOLLOW}{identity}");
        let v = crate::id::hex(&key.to_bytes());
        if self.get_str(&k).as_deref() == Some(v.as_str()) {
            return None;
        }
        self.inner.put(ROOT, k, v).ok()?;
        self.finish(now_ms)
    }

    /// Stops following `identity`.
    pub fn unfollow(
        &mut self,
        device: &DeviceId,
        identity: &IdentityId,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.remove(device, &format!("{FOLLOW}{identity}"), now_ms)
    }

    /// Mutes `identity`.
    pub fn mute(
        &mut self,
        device: &DeviceId,
        identity: &IdentityId,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.flag(device, &format!("{MUTE}{identity}"), now_ms)
    }

    /// Unmutes `identity`.
    pub fn unmute(
        &mut self,
        device: &DeviceId,
        identity: &IdentityId,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.remove(device, &format!("{MUTE}{identity}"), now_ms)
    }

    /// Blocks `identity`.
    pub fn block(
        &mut self,
        device: &DeviceId,
        identity: &IdentityId,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.flag(device, &format!("{BLOCK}{identity}"), now_ms)
    }

    /// Sets root key `key` to true, unless it is set.
    fn flag(&mut self, device: &DeviceId, key: &str, now_ms: u64) -> Option<Vec<u8>> {
        self.begin(device);
        if self.inner.get(ROOT, key).ok().flatten().is_some() {
            return None;
        }
        self.inner.put(ROOT, key, true).ok()?;
        self.finish(now_ms)
    }

    /// Unblocks `identity`.
    pub fn unblock(
        &mut self,
        device: &DeviceId,
        identity: &IdentityId,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.remove(device, &format!("{BLOCK}{identity}"), now_ms)
    }

    fn remove(&mut self, device: &DeviceId, key: &str, now_ms: u64) -> Option<Vec<u8>> {
        self.begin(device);
        self.inner.get(ROOT, key).ok().flatten()?;
        self.inner.delete(ROOT, key).ok()?;
        self.finish(now_ms)
    }

    /// Bookmarks `post` (at `now_ms`), unless it is bookmarked.
    pub fn bookmark(&mut self, device: &DeviceId, post: &EntryId, now_ms: u64) -> Option<Vec<u8>> {
        self.begin(device);
        let k = format!("{BOOKMARK}{post}");
        if self.get_str(&k).is_some() {
            return None;
        }
        self.inner.put(ROOT, k, now_ms.to_string()).ok()?;
        self.finish(now_ms)
    }

    /// Takes `post` out of the bookmarks.
    pub fn unbookmark(
        &mut self,
        device: &DeviceId,
        post: &EntryId,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.remove(device, &format!("{BOOKMARK}{post}"), now_ms)
    }

    /// Whether to show whom the identity follows; `None` when unchanged.
    pub fn set_show_follows(
        &mut self,
        device: &DeviceId,
        on: bool,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.begin(device);
        let v = if on { "1" } else { "0" };
        if self.get_str(SHOW_FOLLOWS).as_deref() == Some(v)
            || (!on && self.get_str(SHOW_FOLLOWS).is_none())
        {
            return None;
        }
        self.inner.put(ROOT, SHOW_FOLLOWS, v).ok()?;
        self.finish(now_ms)
    }

    /// Keeps the key of the conversation with `other`, unless kept.
    pub fn keep_conversation(
        &mut self,
        device: &DeviceId,
        other: &IdentityId,
        key: &SpaceKey,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.begin(device);
        let k = format!("{CONVERSATION}{other}");
        if self.get_str(&k).is_some() {
            return None;
        }
        self.inner
            .put(ROOT, k, crate::id::hex(&key.to_bytes()))
            .ok()?;
        self.finish(now_ms)
    }

    /// Keeps a group and those of `keys` (by epoch) not kept yet.
    pub fn keep_group(
        &mut self,
        device: &DeviceId,
        group: &KeptGroup,
        now_ms: u64,
    ) -> Option<Vec<u8>> {
        self.begin(device);
        let mut changed = false;
        let k = format!("{GROUP}{}", group.space);
        if self.get_str(&k).is_none() {
            let v = format!("{}:{}", group.owner, crate::id::hex(&group.nonce));
            self.inner.put(ROOT, k, v).ok()?;
            changed = true;
        }
        for (epoch, key) in &group.keys {
            let k = format!("{GROUP_KEY}{}:{epoch}", group.space);
            if self.get_str(&k).is_none() {
                self.inner.put(ROOT, k, crate::id::hex(key)).ok()?;
                changed = true;
            }
        }
        if !changed {
            return None;
        }
        self.finish(now_ms)
    }

    /// Reads follows, mutes, blocks and kept keys.
    pub fn account(&self) -> Account {
        let mut acc = Account::default();
        let key32 = |v: Option<String>| {
            v.and_then(|v| data_encoding::HEXLOWER_PERMISSIVE.decode(v.as_bytes()).ok())
                .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
        };
        let mut groups = std::collections::BTreeMap::<SpaceId, KeptGroup>::new();
        let mut group_keys = Vec::new();
        for k in self.inner.keys(ROOT) {
            if let Some(id) = k.strip_prefix(CONVERSATION).and_then(|s| s.parse().ok()) {
                if let Some(key) = key32(self.get_str(&k)) {
                    acc.conversations.push((id, key));
                }
                continue;
            }
            if let Some(space) = k
                .strip_prefix(GROUP)
                .and_then(|s| s.parse::<SpaceId>().ok())
            {
                let v = self.get_str(&k).unwrap_or_default();
                let (owner, nonce) = v.split_once(':').unwrap_or_default();
                let nonce = data_encoding::HEXLOWER_PERMISSIVE
                    .decode(nonce.as_bytes())
                    .ok()
                    .and_then(|n| <[u8; 16]>::try_from(n.as_slice()).ok());
                if let (Ok(owner), Some(nonce)) = (owner.parse(), nonce) {
                    groups.insert(
                        space,
                        KeptGroup {
                            space,
                            owner,
                            nonce,
                            keys: Vec::new(),
                        },
                    );
                }
                continue;
            }
            if let Some((space, epoch)) = k.strip_prefix(GROUP_KEY).and_then(|s| s.split_once(':'))
            {
                if let (Ok(space), Ok(epoch), Some(key)) = (
                    space.parse::<SpaceId>(),
                    epoch.parse::<u32>(),
                    key32(self.get_str(&k)),
                ) {
                    group_keys.push((space, epoch, key));
                }
                continue;
            }
            if let Some(id) = k.strip_prefix(FOLLOW).and_then(|s| s.parse().ok()) {
                let key = self
                    .get_str(&k)
                    .and_then(|v| data_encoding::HEXLOWER_PERMISSIVE.decode(v.as_bytes()).ok())
                    .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok());
                if let Some(key) = key {
                    acc.follows.push((id, key));
                }
            } else if let Some(id) = k.strip_prefix(MUTE).and_then(|s| s.parse().ok()) {
                acc.mutes.push(id);
            } else if let Some(id) = k.strip_prefix(BLOCK).and_then(|s| s.parse().ok()) {
                acc.blocks.push(id);
            } else if let Some(id) = k.strip_prefix(BOOKMARK).and_then(|s| s.parse().ok()) {
                let at = self.get_str(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
                acc.bookmarks.push((id, at));
            } else if k == SHOW_FOLLOWS {
                acc.show_follows = self.get_str(&k).as_deref() == Some("1");
            }
        }
        for (space, epoch, key) in group_keys {
            if let Some(g) = groups.get_mut(&space) {
                g.keys.push((epoch, key));
            }
        }
        acc.groups = groups
            .into_values()
            .map(|mut g| {
                g.keys.sort();
                g
            })
            .collect();
        acc.follows.sort();
        acc.mutes.sort();
        acc.blocks.sort();
        acc.conversations.sort();
        acc.bookmarks
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        acc
    }

    /// Sets a group's name and description.
    pub fn set_group(
        &mut self,
        device: &DeviceId,
        name: &str,
        description: Option<&str>,
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, DocError> {
        check_len("group name", Some(name), MAX_NAME_LEN)?;
        check_len("description", description, MAX_DESCRIPTION_LEN)?;
        self.begin(device);
        let bad = |e: automerge::AutomergeError| DocError::BadChange(e.to_string());
        if self.get_str("name").as_deref() != Some(name) {
            self.inner.put(ROOT, "name", name).map_err(bad)?;
        }
        if let Some(d) = description
            && self.get_str("description").as_deref() != Some(d)
        {
            self.inner.put(ROOT, "description", d).map_err(bad)?;
        }
        Ok(self.finish(now_ms))
    }

    /// Reads a group's document.
    pub fn group(&self) -> Group {
        Group {
            name: self.get_str("name").map(|s| truncate(s, MAX_NAME_LEN)),
            description: self
                .get_str("description")
                .map(|s| truncate(s, MAX_DESCRIPTION_LEN)),
        }
    }

    fn get_str(&self, key: &str) -> Option<String> {
        let (v, _) = self.inner.get(ROOT, key).ok().flatten()?;
        v.into_string().ok()
    }
}

impl Default for Doc {
    fn default() -> Self {
        Self::new()
    }
}

fn check_len(field: &'static str, v: Option<&str>, max: usize) -> Result<(), DocError> {
    match v {
        Some(s) if s.len() > max => Err(DocError::TooLong {
            field,
            len: s.len(),
            max,
        }),
        _ => Ok(()),
    }
}

/// Cuts a string from the network to `max` bytes on a char boundary.
fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bookmarks made on two devices merge; one taken back on either is
    /// gone on both; the newest comes first.
    #[test]
    fn bookmarks_merge_across_devices() {
        let (a, b) = (DeviceId([1; 32]), DeviceId([2; 32]));
        let (p1, p2) = (EntryId([7; 32]), EntryId([8; 32]));
        let mut d1 = Doc::new();
        let c1 = d1.bookmark(&a, &p1, 1_000).unwrap();
        assert!(d1.bookmark(&a, &p1, 2_000).is_none(), "already bookmarked");
        let mut d2 = Doc::new();
        d2.apply(vec![Doc::parse_change(&c1).unwrap()]).unwrap();
        let c2 = d2.bookmark(&b, &p2, 5_000).unwrap();
        d1.apply(vec![Doc::parse_change(&c2).unwrap()]).unwrap();
        assert_eq!(d1.account().bookmarks, vec![(p2, 5_000), (p1, 1_000)]);
        assert_eq!(d2.account().bookmarks, d1.account().bookmarks);
        let c3 = d2.unbookmark(&b, &p1, 6_000).unwrap();
        assert!(d2.unbookmark(&b, &p1, 7_000).is_none());
        d1.apply(vec![Doc::parse_change(&c3).unwrap()]).unwrap();
        assert_eq!(d1.account().bookmarks, vec![(p2, 5_000)]);
    }

    #[test]
    fn profile_edits_merge() {
        let a = DeviceId([1; 32]);
        let b = DeviceId([2; 32]);
        let mut d1 = Doc::new();
        let c1 = d1
            .update_profile(
                &a,
                &ProfileUpdate {
                    name: Some("Ann".into()),
                    ..Default::default()
                },
                1000,
            )
            .unwrap()
            .unwrap();
        let mut d2 = Doc::new();
        let c2 = d2
            .update_profile(
                &b,
                &ProfileUpdate {
                    bio: Some("hi".into()),
                    ..Default::default()
                },
                1000,
            )
            .unwrap()
            .unwrap();
        d1.apply(vec![Doc::parse_change(&c2).unwrap()]).unwrap();
        d2.apply(vec![Doc::parse_change(&c1).unwrap()]).unwrap();
        assert_eq!(d1.profile(), d2.profile());
        assert_eq!(d1.profile().name.as_deref(), Some("Ann"));
        assert_eq!(d1.profile().bio.as_deref(), Some("hi"));
        let mut saved = d1.save();
        let loaded = Doc::load(&saved).unwrap();
        assert_eq!(loaded.profile(), d1.profile());
        saved.truncate(5);
        assert!(
            Doc::load(&saved).is_err()
                || Doc::load(&saved).unwrap().profile() == Profile::default()
        );
    }

    #[test]
    fn concurrent_group_edits_merge_the_same_either_way() {
        let (a, b) = (DeviceId([1; 32]), DeviceId([2; 32]));
        let mut x = Doc::new();
        let c0 = x
            .set_group(&a, "birders", Some("dawn walks"), 1)
            .unwrap()
            .unwrap();
        let mut y = Doc::new();
        y.apply(vec![Doc::parse_change(&c0).unwrap()]).unwrap();
        // The owner's laptop renames while the phone rewrites the description.
        let cx = x.set_group(&a, "bird watchers", None, 3).unwrap().unwrap();
        let cy = y
            .set_group(&b, "birders", Some("dusk walks"), 3)
            .unwrap()
            .unwrap();
        x.apply(vec![Doc::parse_change(&cy).unwrap()]).unwrap();
        y.apply(vec![Doc::parse_change(&cx).unwrap()]).unwrap();
        assert_eq!(x.group(), y.group());
        let g = x.group();
        assert_eq!(g.name.as_deref(), Some("bird watchers"));
        assert_eq!(g.description.as_deref(), Some("dusk walks"));
        assert!(matches!(
            x.set_group(&a, &"n".repeat(MAX_NAME_LEN + 1), None, 5),
            Err(DocError::TooLong { .. })
        ));
    }

    #[test]
    fn follows_and_mutes() {
        let dev = DeviceId([1; 32]);
        let mut d = Doc::new();
        let who = IdentityId([9; 32]);
        let key = SpaceKey::from_bytes([4; 32]);
        assert!(d.follow(&dev, &who, &key, 1).is_some());
        assert!(
            d.follow(&dev, &who, &key, 2).is_none(),
            "no-op follow makes no change"
        );
        assert!(d.mute(&dev, &who, 3).is_some());
        let acc = d.account();
        assert_eq!(acc.follows, vec![(who, [4; 32])]);
        assert_eq!(acc.mutes, vec![who]);
        assert!(d.unfollow(&dev, &who, 4).is_some());
        assert!(d.unmute(&dev, &who, 5).is_some());
        assert_eq!(d.account(), Account::default());
    }

    #[test]
    fn limits_and_bad_changes() {
        let mut d = Doc::new();
        let r = d.update_profile(
            &DeviceId([1; 32]),
            &ProfileUpdate {
                name: Some("x".repeat(MAX_NAME_LEN + 1)),
                ..Default::default()
            },
            0,
        );
        assert!(matches!(r, Err(DocError::TooLong { field: "name", .. })));
        assert!(Doc::parse_change(b"garbage").is_err());
    }
}
