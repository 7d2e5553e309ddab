//! The contract: every shape that leaves the core for a person or a
//! program. The CLI's `--json` output, the app's commands and the events
//! both of them stream are these types, serialized by serde; the UI's
//! TypeScript types are generated from them into `ui/src/lib/contract.ts`
//! (the test `contract_ts_is_current` fails when that file is stale; run it
//! with `STARLING_WRITE_CONTRACT=1` to rewrite it).
//!
//! In JSON, ids and hashes are lowercase hex strings and times are
//! milliseconds since the Unix epoch.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};

/// A post as shown to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(rename = "Post")]
pub struct PostView {
    /// The post's entry id.
    pub id: EntryId,
    /// Who wrote it.
    pub author: IdentityId,
    /// Their display name, if their profile is known.
    pub author_name: Option<String>,
    /// Their profile picture (a sealed blob), if they set one.
    pub author_avatar: Option<Hash>,
    /// The current text (after the newest edit).
    pub text: String,
    /// When it was posted.
    pub timestamp: u64,
    /// The post it replies to.
    pub reply_to: Option<EntryId>,
    /// Who wrote the post it replies to, when that post is here.
    pub reply_to_author: Option<IdentityId>,
    /// Their display name, if known.
    pub reply_to_name: Option<String>,
    /// The post it quotes.
    pub quote_of: Option<EntryId>,
    /// The quoted post as a card, when it is here (and its author is not
    /// blocked).
    pub quoted: Option<QuotedPost>,
    /// Number of identities that liked it.
    pub likes: u64,
    /// Number of identities that reposted it.
    pub reposts: u64,
    /// Whether this identity likes it (on any of its devices).
    pub liked_by_me: bool,
    /// Whether this identity reposted it.
    pub reposted_by_me: bool,
    /// Whether it was edited.
    pub edited: bool,
    /// Hashes of its sealed image blobs.
    pub images: Vec<Hash>,
    /// What each of `images` shows, in words (alt text), in the same
    /// order; empty where the author gave none.
    pub alts: Vec<String>,
    /// The group it was posted in (replies and quotes of it stay there).
    pub group: Option<SpaceId>,
}

/// A post shown inside the post that quotes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct QuotedPost {
    /// Who wrote it.
    pub author: IdentityId,
    /// Their display name, if their profile is known.
    pub author_name: Option<String>,
    /// Their profile picture, if they set one.
    pub author_avatar: Option<Hash>,
    /// Its current text (after the newest edit).
    pub text: String,
    /// When it was posted.
    pub timestamp: u64,
    /// Its first image, if any.
    pub image: Option<Hash>,
    /// What that image shows, in words (empty: not described).
    pub image_alt: String,
}

/// A hashtag the people followed here used lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct TrendingTag {
    /// The tag, lower case, without `#`.
    pub tag: String,
    /// Posts that carry it.
    pub posts: u64,
    /// Distinct authors of those posts.
    pub authors: u64,
}

/// One page of posts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Page {
    /// Posts, newest first.
    pub posts: Vec<PostView>,
    /// Cursor for the next page (pass it back as `before`), if there may
    /// be one.
    pub next: Option<String>,
}

/// A profile as shown to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(rename = "Profile")]
pub struct ProfileView {
    /// The identity.
    pub identity: IdentityId,
    /// Display name.
    pub name: Option<String>,
    /// Bio.
    pub bio: Option<String>,
    /// Avatar blob hash.
    pub avatar: Option<Hash>,
    /// Whether this device follows them (or it is the user themself).
    pub followed: bool,
    /// Whether they are muted.
    pub muted: bool,
    /// Whether they are blocked.
    pub blocked: bool,
    /// Posts of theirs held here.
    pub posts: u64,
    /// Whether their public follow list (held here: their feed is read
    /// here) names this identity.
    pub follows_you: bool,
}

/// Someone to follow: people the user follows follow them publicly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Suggestion {
    /// Their profile, as far as it is known here.
    pub profile: ProfileView,
    /// How many of the people the user follows follow them publicly.
    pub followers: u64,
    /// The names of up to three of those.
    pub followed_by: Vec<String>,
    /// Whether their feed's key is held here, so one click follows them
    /// (otherwise their ticket or QR code is needed).
    pub key_held: bool,
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum NotificationKind {
    /// Someone replied to one of this identity's posts.
    Reply,
    /// Someone's post names this identity (`@Name`).
    Mention,
    /// Someone liked one of this identity's posts.
    Like,
    /// Someone reposted one of this identity's posts.
    Repost,
}

impl NotificationKind {
    /// The kind's name (`reply`, `mention`, `like`, `repost`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::Mention => "mention",
            Self::Like => "like",
            Self::Repost => "repost",
        }
    }
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Notification {
    /// What happened.
    pub kind: NotificationKind,
    /// Who did it.
    pub from: IdentityId,
    /// Their display name, if known.
    pub from_name: Option<String>,
    /// The reply or mentioning post, or the post that was liked or reposted.
    pub post: PostView,
    /// When it happened; for a like or repost stored before reactions kept
    /// a time, the post's time.
    pub timestamp: u64,
}

/// Who this device is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(rename = "Me")]
pub struct WhoAmI {
    /// The identity.
    pub identity: IdentityId,
    /// This device.
    pub device: DeviceId,
    /// Display name.
    pub name: Option<String>,
}

/// A member's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The group's owner, its one admin: invites and removes members,
    /// rotates the key, names the group.
    Owner,
    /// Reads and posts.
    Member,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Member {
    /// Their identity.
    pub identity: IdentityId,
    /// Their display name, if known.
    pub name: Option<String>,
    /// Their role.
    pub role: Role,
}

/// A group as its members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(rename = "Group")]
pub struct GroupView {
    /// The group's id.
    pub id: SpaceId,
    /// Its name, once its document has arrived.
    pub name: Option<String>,
    /// What it is about.
    pub description: Option<String>,
    /// Its owner.
    pub owner: IdentityId,
    /// Its members, the owner first.
    pub members: Vec<Member>,
    /// This identity's role, if it is a member.
    pub my_role: Option<Role>,
}

/// One of this identity's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(rename = "Device")]
pub struct DeviceView {
    /// The device.
    pub device: DeviceId,
    /// When its certificate was issued.
    pub certified_at: u64,
    /// Whether it is the device running this.
    pub this_device: bool,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A direct conversation, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Conversation {
    /// Its space.
    pub id: SpaceId,
    /// The other side.
    pub with: IdentityId,
    /// Their name, if known.
    pub name: Option<String>,
    /// The newest message.
    pub last: PostView,
}

/// An entry or blob an import refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Rejection {
    /// Its id, when it decoded far enough to have one.
    pub id: Option<EntryId>,
    /// Why it was refused.
    pub reason: String,
}

/// What an import (of a bundle, or from a peer) did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct ImportSummary {
    /// Entries newly stored and applied.
    pub accepted: u64,
    /// Entries already held.
    pub known: u64,
    /// Entries held back until an earlier entry of their log arrives.
    pub pending: u64,
    /// Blobs newly stored.
    pub blobs: u64,
    /// Entries and blobs refused.
    pub refused: u64,
    /// Why, for the first of them (at most 1,000).
    pub rejections: Vec<Rejection>,
}

/// One peer's part of a sync round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PeerSync {
    /// The peer.
    pub peer: DeviceId,
    /// Whether the session finished.
    pub ok: bool,
    /// What the entries it sent did, when it finished.
    pub import: Option<ImportSummary>,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// The path the session ended on, when it finished.
    pub path: Option<Path>,
}

/// How two devices reach each other: straight (iroh's hole punching found
/// a path, or they share a network) or through a relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// A direct UDP path.
    Direct,
    /// Through a relay server.
    Relay,
}

/// One round of catch-ups with known peers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct SyncSummary {
    /// Each peer asked.
    pub peers: Vec<PeerSync>,
    /// Entries newly accepted from all of them.
    pub accepted: u64,
}

/// What the store holds and how it fares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct Storage {
    /// Entries stored.
    pub entries: u64,
    /// Posts shown somewhere.
    pub posts: u64,
    /// Logs (one per device and space).
    pub logs: u64,
    /// Entries waiting for an earlier entry of their log.
    pub waiting: u64,
    /// Bytes of sealed payloads.
    pub payload_bytes: u64,
    /// Bytes of sealed images.
    pub blob_bytes: u64,
    /// Bytes of the database file.
    pub file_bytes: u64,
    /// Bytes of that file that are free pages (a vacuum gives them back).
    pub free_bytes: u64,
    /// Bytes of the write-ahead log beside it.
    pub wal_bytes: u64,
    /// What each kind of data takes.
    pub kinds: Vec<StorageUse>,
    /// Other people whose data takes the most room here, largest first.
    pub biggest: Vec<AuthorUse>,
    /// Entries kept as headers only (evicted, deleted, or of a left group).
    pub headers_only: u64,
    /// The budgets eviction keeps the store within.
    pub budgets: Budgets,
}

/// A kind of stored data, for the storage report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    /// This identity's own entries (posts, account, its group posts and
    /// messages): never evicted.
    Own,
    /// This identity's own images.
    OwnMedia,
    /// Feeds of people followed.
    Followed,
    /// Other members' entries in groups.
    Groups,
    /// The other side of direct conversations.
    Conversations,
    /// Feeds held but not followed (mirrored for others, or unfollowed).
    Mirrored,
    /// Others' images (the media cache).
    MediaCache,
    /// The full-text search index.
    SearchIndex,
}

/// What one kind of data takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct StorageUse {
    /// The kind.
    pub kind: StorageKind,
    /// Entries, images or indexed posts.
    pub count: u64,
    /// Bytes.
    pub bytes: u64,
}

/// Someone whose data takes room on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AuthorUse {
    /// Their identity.
    pub identity: IdentityId,
    /// Their name, where known.
    pub name: Option<String>,
    /// Their entries held (in every space).
    pub entries: u64,
    /// Bytes of those entries and their images.
    pub bytes: u64,
}

/// What a device keeps of others' data. The user's own entries, keys,
/// account and conversations are never evicted, whatever the budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Budgets {
    /// Most bytes of others' images kept (the media cache).
    pub media_cache_bytes: u64,
    /// Most bytes of others' posts kept whole; the oldest beyond it keep
    /// their headers only.
    pub others_posts_bytes: u64,
    /// Others' posts older than this many days keep their headers only.
    pub keep_others_posts_days: u32,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            media_cache_bytes: 1_000_000_000,
            others_posts_bytes: 1_000_000_000,
            keep_others_posts_days: 365,
        }
    }
}

/// What one storage check took away.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct Evicted {
    /// Others' posts now kept as headers only.
    pub posts: u64,
    /// Bytes of those posts' payloads.
    pub post_bytes: u64,
    /// Others' images dropped from the media cache.
    pub images: u64,
    /// Bytes of those images.
    pub image_bytes: u64,
    /// Blocked identities whose data was dropped.
    pub blocked_dropped: u64,
}

/// What dropping a feed's data did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FeedDropped {
    /// The identity whose feed it is.
    pub identity: IdentityId,
    /// Entries dropped.
    pub entries: u64,
    /// Images dropped.
    pub images: u64,
    /// Why the data was kept instead, when it was.
    pub kept: Option<String>,
}

/// The result of checking the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct CheckSummary {
    /// Whether no problem was found.
    pub ok: bool,
    /// Entries checked.
    pub entries: u64,
    /// Problems found.
    pub problems: Vec<String>,
}

/// A ticket to show: its text and, where wanted, its QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct TicketView {
    /// The ticket's text (`starling1…`).
    pub text: String,
    /// The ticket as a link (`starling:starling1…`) that opens the app:
    /// what the QR code holds and what the app copies.
    pub uri: String,
    /// The QR code as SVG markup.
    pub svg: Option<String>,
}

/// What kind of ticket some text or picture holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum TicketKind {
    /// Someone's feed: following it.
    Feed,
    /// An invite to a group.
    Group,
    /// A link to make a new device of an identity.
    Device,
}

/// A ticket read from text or a picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ScannedTicket {
    /// The ticket's text.
    pub ticket: String,
    /// Its kind.
    pub kind: TicketKind,
    /// The identity it names (a feed's owner, a group's owner); a link
    /// code names none (it holds no key of the identity).
    pub identity: Option<IdentityId>,
    /// The group, for an invite.
    pub group: Option<SpaceId>,
    /// The group's name, for an invite.
    pub name: Option<String>,
}

/// A new entry (a post, like, repost, edit, delete or message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Written {
    /// Its id.
    pub id: EntryId,
}

/// Whether an action on someone changed anything (unfollow, mute, block…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Changed {
    /// Who.
    pub identity: IdentityId,
    /// Whether it changed anything.
    pub changed: bool,
}

/// A member taken out of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Removed {
    /// The group.
    pub group: SpaceId,
    /// The member.
    pub member: IdentityId,
    /// The group key's new epoch.
    pub epoch: u32,
}

/// A revoked device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Revoked {
    /// The device.
    pub device: DeviceId,
}

/// A group this device left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Left {
    /// The group.
    pub group: SpaceId,
}

/// What a recovered device restored of its account from the newest
/// backup a follower served (`found` false: none was found yet).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct Restored {
    /// Whether a backup was found and applied.
    pub found: bool,
    /// Follows restored.
    pub follows: u64,
    /// Mutes restored.
    pub mutes: u64,
    /// Blocks restored.
    pub blocks: u64,
    /// Groups held again.
    pub groups: u64,
}

/// The confirmation code a new device shows while it links: the other
/// device must show the same one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LinkCode {
    /// Six digits, as `123 456`.
    pub code: String,
}

/// How a device link ended on the linking device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LinkOutcome {
    /// The new device.
    pub device: DeviceId,
    /// Whether it now holds this identity's keys.
    pub linked: bool,
}

/// The recovery phrase, shown at first start and on request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Phrase {
    /// The 24 words, in order.
    pub words: Vec<String>,
}

/// A bundle written to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Exported {
    /// Where.
    pub path: String,
    /// Entries and blobs in it.
    pub records: u64,
    /// Its size.
    pub bytes: u64,
}

/// A known peer device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PeerView {
    /// The device.
    pub device: DeviceId,
    /// Its direct addresses (`ip:port`).
    pub addrs: Vec<String>,
    /// Its home relay.
    pub relay: Option<String>,
    /// When it was last seen (ms since the epoch).
    pub last_seen: Option<u64>,
    /// The path the last session with it ended on.
    pub path: Option<Path>,
    /// That path's round-trip time then, in milliseconds.
    pub rtt_ms: Option<u64>,
}

/// A profile folder and who lives in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Status {
    /// The profile folder.
    pub home: String,
    /// This device's identity, once there is one.
    pub me: Option<WhoAmI>,
}

/// How a running node reaches the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Settings {
    /// `none`, `default` or a relay's URL.
    pub relay: String,
    /// Whether peers on the local network are found by mDNS.
    pub local_discovery: bool,
    /// Whether this device publishes its addresses in, and looks peers up
    /// in, the Mainline DHT.
    pub dht: bool,
    /// The profile folder.
    pub home: String,
    /// Whether files are picked in the system's own dialogs (desktop),
    /// not on the page (phones).
    pub native_dialogs: bool,
}

/// A catch-up under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Syncing {
    /// The peer.
    pub peer: DeviceId,
    /// Entries received so far.
    pub entries: u64,
    /// Bytes received so far.
    pub bytes: u64,
}

/// The network as a running node sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct NetStatus {
    /// Whether the node is online.
    pub online: bool,
    /// Gossip neighbours connected now.
    pub peers: u64,
    /// A catch-up under way, if any.
    pub syncing: Option<Syncing>,
    /// The addresses it listens on (`ip:port`).
    pub listening: Vec<String>,
    /// What went wrong starting it, or with local discovery.
    pub error: Option<String>,
    /// The best path to any peer reached lately: direct, only through a
    /// relay, or none (no peer reached).
    pub reach: Option<Path>,
}

/// Entries received so far from one space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SpaceCount {
    /// The space.
    pub space: SpaceId,
    /// Entries.
    pub entries: u64,
}

/// Something that happened to a running node: one line of
/// `starling run --json`, one message on the app's `net` channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The node is listening.
    Listening {
        /// This device.
        device: DeviceId,
        /// Its direct addresses.
        addrs: Vec<String>,
        /// Its home relay.
        relay: Option<String>,
    },
    /// Local discovery (mDNS) is off, and why.
    LocalDiscoveryOff {
        /// Why.
        reason: String,
    },
    /// A catch-up with a peer finished.
    Synced {
        /// The peer.
        peer: DeviceId,
        /// Whether this side started it.
        initiated: bool,
        /// Entries newly accepted.
        accepted: u64,
        /// Entries refused.
        refused: u64,
        /// Bytes received.
        bytes_received: u64,
        /// The path the session ended on.
        path: Option<Path>,
    },
    /// A long catch-up is under way.
    Progress {
        /// The peer.
        peer: DeviceId,
        /// Entries received so far.
        entries: u64,
        /// Bytes received so far.
        bytes: u64,
        /// Entries received so far, per space.
        spaces: Vec<SpaceCount>,
    },
    /// A catch-up with a peer failed.
    SyncFailed {
        /// The peer.
        peer: DeviceId,
        /// Why.
        error: String,
    },
    /// New entries arrived live.
    Received {
        /// The neighbour that delivered them.
        peer: DeviceId,
        /// Their space.
        space: SpaceId,
        /// How many were new.
        accepted: u64,
    },
    /// This device's new entries were announced.
    Published {
        /// Their space.
        space: SpaceId,
        /// The log's head seq now.
        seq: u64,
    },
    /// A peer came online (a gossip neighbour).
    PeerUp {
        /// The peer.
        peer: DeviceId,
    },
    /// A peer went away.
    PeerDown {
        /// The peer.
        peer: DeviceId,
    },
    /// A missing image arrived.
    BlobFetched {
        /// Its hash.
        hash: Hash,
        /// Its size.
        bytes: u64,
    },
    /// The network started or the event stream fell behind: reload what
    /// is shown.
    Changed,
    /// A new device connected with this device's link code: link it only
    /// if it shows the same `code`.
    LinkRequest {
        /// The new device.
        device: DeviceId,
        /// The confirmation code this device shows.
        code: String,
    },
    /// `starling relay` listens: the URL devices use to reach it.
    RelayListening {
        /// The relay's URL (`http://…` without a certificate).
        url: String,
    },
    /// `starling dht-node` runs: the address other devices join the DHT
    /// through (`--dht-bootstrap`), and how many nodes answer there.
    DhtListening {
        /// `host:port` of the first node.
        bootstrap: String,
        /// Nodes run, on ports from the first up.
        nodes: u16,
    },
    /// The node (or relay) stopped.
    Stopped,
}

/// What kind of error a command met, for a program to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input is not valid (a bad id, ticket, text or file).
    Invalid,
    /// The rules do not allow it (not the owner, not a member, not yours).
    NotAllowed,
    /// What it names is not here (a post, a group, a key).
    NotFound,
    /// There is no identity in this profile yet.
    NoIdentity,
    /// The profile already has an identity.
    AlreadyExists,
    /// A peer or the network failed.
    Network,
    /// Reading or writing the profile's files failed.
    Storage,
    /// Another process runs this profile's network.
    InUse,
}

/// An error as a command returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(rename = "CommandError")]
pub struct ErrorView {
    /// What kind of error.
    pub kind: ErrorKind,
    /// What went wrong, for a person.
    pub message: String,
}

impl ErrorView {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl ToString) -> Self {
        Self {
            kind,
            message: message.to_string(),
        }
    }
}

impl std::fmt::Display for ErrorView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ErrorView {}

/// The TypeScript declarations of the contract, in one file.
pub fn typescript() -> String {
    use ts_rs::{Config, TS};
    // Counts and times are u64 in Rust; JSON numbers carry them exactly up
    // to 2⁵³, past any count or millisecond time here.
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// The contract between Starling's core and its UI: generated from\n\
         // core/src/view.rs by `STARLING_WRITE_CONTRACT=1 cargo test -p starling-core\n\
         // contract_ts_is_current`. Do not edit by hand.\n",
    );
    fn push<T: TS + ?Sized>(cfg: &Config, out: &mut String) {
        out.push('\n');
        if let Some(docs) = T::docs() {
            out.push_str(&docs);
        }
        out.push_str("export ");
        out.push_str(&laid_out(&T::decl(cfg)));
        out.push('\n');
    }
    push::<PostView>(&cfg, &mut out);
    push::<QuotedPost>(&cfg, &mut out);
    push::<TrendingTag>(&cfg, &mut out);
    push::<Suggestion>(&cfg, &mut out);
    push::<Page>(&cfg, &mut out);
    push::<ProfileView>(&cfg, &mut out);
    push::<NotificationKind>(&cfg, &mut out);
    push::<Notification>(&cfg, &mut out);
    push::<WhoAmI>(&cfg, &mut out);
    push::<Status>(&cfg, &mut out);
    push::<Role>(&cfg, &mut out);
    push::<Member>(&cfg, &mut out);
    push::<GroupView>(&cfg, &mut out);
    push::<DeviceView>(&cfg, &mut out);
    push::<Conversation>(&cfg, &mut out);
    push::<Rejection>(&cfg, &mut out);
    push::<ImportSummary>(&cfg, &mut out);
    push::<PeerSync>(&cfg, &mut out);
    push::<Path>(&cfg, &mut out);
    push::<SyncSummary>(&cfg, &mut out);
    push::<Storage>(&cfg, &mut out);
    push::<StorageKind>(&cfg, &mut out);
    push::<StorageUse>(&cfg, &mut out);
    push::<AuthorUse>(&cfg, &mut out);
    push::<Budgets>(&cfg, &mut out);
    push::<Evicted>(&cfg, &mut out);
    push::<FeedDropped>(&cfg, &mut out);
    push::<CheckSummary>(&cfg, &mut out);
    push::<TicketView>(&cfg, &mut out);
    push::<TicketKind>(&cfg, &mut out);
    push::<ScannedTicket>(&cfg, &mut out);
    push::<Written>(&cfg, &mut out);
    push::<Changed>(&cfg, &mut out);
    push::<Removed>(&cfg, &mut out);
    push::<Revoked>(&cfg, &mut out);
    push::<Left>(&cfg, &mut out);
    push::<Restored>(&cfg, &mut out);
    push::<Phrase>(&cfg, &mut out);
    push::<LinkCode>(&cfg, &mut out);
    push::<LinkOutcome>(&cfg, &mut out);
    push::<Exported>(&cfg, &mut out);
    push::<PeerView>(&cfg, &mut out);
    push::<Settings>(&cfg, &mut out);
    push::<Syncing>(&cfg, &mut out);
    push::<NetStatus>(&cfg, &mut out);
    push::<SpaceCount>(&cfg, &mut out);
    push::<Event>(&cfg, &mut out);
    push::<ErrorKind>(&cfg, &mut out);
    push::<ErrorView>(&cfg, &mut out);
    out
}

/// Lays a declaration out one field a line, doc comments above their
/// fields, two spaces a level (ts-rs writes them on as few lines as it can).
fn laid_out(decl: &str) -> String {
    fn indent(out: &mut String, depth: usize) {
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
    let mut out = String::with_capacity(decl.len() * 2);
    let mut depth = 0usize;
    let mut line_start = true;
    let mut rest = decl;
    while let Some(c) = rest.chars().next() {
        if let Some(comment) = rest.strip_prefix("/**") {
            let end = comment.find("*/").unwrap_or(comment.len());
            if !line_start {
                out.push('\n');
            }
            indent(&mut out, depth);
            out.push_str("/**\n");
            for line in comment[..end].lines() {
                let text = line.trim().trim_start_matches('*').trim();
                if !text.is_empty() {
                    indent(&mut out, depth);
                    out.push_str(" * ");
                    out.push_str(text);
                    out.push('\n');
                }
            }
            indent(&mut out, depth);
            out.push_str(" */\n");
            line_start = true;
            rest = comment.get(end + 2..).unwrap_or("");
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match c {
            '\n' | '\r' => {}
            ' ' if line_start => {}
            '{' => {
                out.push('{');
                out.push('\n');
                depth += 1;
                line_start = true;
            }
            '}' => {
                out.truncate(out.trim_end().len());
                out.push('\n');
                depth = depth.saturating_sub(1);
                indent(&mut out, depth);
                out.push('}');
                line_start = false;
            }
            ',' if depth > 0 => {
                out.push_str(",\n");
                line_start = true;
            }
            c => {
                if line_start {
                    indent(&mut out, depth);
                    line_start = false;
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI's types are the contract's: CI fails when `contract.ts` was
    /// not regenerated after a change here.
    #[test]
    fn contract_ts_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/contract.ts");
        let want = typescript();
        if std::env::var_os("STARLING_WRITE_CONTRACT").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "ui/src/lib/contract.ts is stale: run \
             `STARLING_WRITE_CONTRACT=1 cargo test -p starling-core contract_ts_is_current`"
        );
    }

    #[test]
    fn events_and_errors_are_tagged_for_programs() {
        let e = Event::PeerUp {
            peer: DeviceId([1; 32]),
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"kind": "peer_up", "peer": "01".repeat(32)})
        );
        assert_eq!(
            serde_json::to_value(Event::Changed).unwrap(),
            serde_json::json!({"kind": "changed"})
        );
        let err = ErrorView::new(ErrorKind::NotAllowed, "only the owner");
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({"kind": "not_allowed", "message": "only the owner"})
        );
    }
}
