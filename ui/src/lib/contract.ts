// The contract between Starling's core and its UI: generated from
// core/src/view.rs by `STARLING_WRITE_CONTRACT=1 cargo test -p starling-core
// contract_ts_is_current`. Do not edit by hand.

/**
 * A post as shown to a person.
 */
export type Post = {
  /**
   * The post's entry id.
   */
  id: string,
  /**
   * Who wrote it.
   */
  author: string,
  /**
   * Their display name, if their profile is known.
   */
  author_name: string | null,
  /**
   * Their profile picture (a sealed blob), if they set one.
   */
  author_avatar: string | null,
  /**
   * The current text (after the newest edit).
   */
  text: string,
  /**
   * When it was posted.
   */
  timestamp: number,
  /**
   * The post it replies to.
   */
  reply_to: string | null,
  /**
   * Who wrote the post it replies to, when that post is here.
   */
  reply_to_author: string | null,
  /**
   * Their display name, if known.
   */
  reply_to_name: string | null,
  /**
   * The post it quotes.
   */
  quote_of: string | null,
  /**
   * The quoted post as a card, when it is here (and its author is not
   * blocked).
   */
  quoted: QuotedPost | null,
  /**
   * Number of identities that liked it.
   */
  likes: number,
  /**
   * Number of identities that reposted it.
   */
  reposts: number,
  /**
   * Whether this identity likes it (on any of its devices).
   */
  liked_by_me: boolean,
  /**
   * Whether this identity reposted it.
   */
  reposted_by_me: boolean,
  /**
   * Whether it was edited.
   */
  edited: boolean,
  /**
   * Hashes of its sealed image blobs.
   */
  images: Array<string>,
  /**
   * What each of `images` shows, in words (alt text), in the same
   * order; empty where the author gave none.
   */
  alts: Array<string>,
  /**
   * The group it was posted in (replies and quotes of it stay there).
   */
  group: string | null,
};

/**
 * A post shown inside the post that quotes it.
 */
export type QuotedPost = {
  /**
   * Who wrote it.
   */
  author: string,
  /**
   * Their display name, if their profile is known.
   */
  author_name: string | null,
  /**
   * Their profile picture, if they set one.
   */
  author_avatar: string | null,
  /**
   * Its current text (after the newest edit).
   */
  text: string,
  /**
   * When it was posted.
   */
  timestamp: number,
  /**
   * Its first image, if any.
   */
  image: string | null,
  /**
   * What that image shows, in words (empty: not described).
   */
  image_alt: string,
};

/**
 * A hashtag the people followed here used lately.
 */
export type TrendingTag = {
  /**
   * The tag, lower case, without `#`.
   */
  tag: string,
  /**
   * Posts that carry it.
   */
  posts: number,
  /**
   * Distinct authors of those posts.
   */
  authors: number,
};

/**
 * Someone to follow: people the user follows follow them publicly.
 */
export type Suggestion = {
  /**
   * Their profile, as far as it is known here.
   */
  profile: Profile,
  /**
   * How many of the people the user follows follow them publicly.
   */
  followers: number,
  /**
   * The names of up to three of those.
   */
  followed_by: Array<string>,
  /**
   * Whether their feed's key is held here, so one click follows them
   * (otherwise their ticket or QR code is needed).
   */
  key_held: boolean,
};

/**
 * One page of posts.
 */
export type Page = {
  /**
   * Posts, newest first.
   */
  posts: Array<Post>,
  /**
   * Cursor for the next page (pass it back as `before`), if there may
   * be one.
   */
  next: string | null,
};

/**
 * A profile as shown to a person.
 */
export type Profile = {
  /**
   * The identity.
   */
  identity: string,
  /**
   * Display name.
   */
  name: string | null,
  /**
   * Bio.
   */
  bio: string | null,
  /**
   * Avatar blob hash.
   */
  avatar: string | null,
  /**
   * Whether this device follows them (or it is the user themself).
   */
  followed: boolean,
  /**
   * Whether they are muted.
   */
  muted: boolean,
  /**
   * Whether they are blocked.
   */
  blocked: boolean,
  /**
   * Posts of theirs held here.
   */
  posts: number,
  /**
   * Whether their public follow list (held here: their feed is read
   * here) names this identity.
   */
  follows_you: boolean,
};

/**
 * What a notification is about.
 */
export type NotificationKind = "reply" | "mention" | "like" | "repost";

/**
 * One notification.
 */
export type Notification = {
  /**
   * What happened.
   */
  kind: NotificationKind,
  /**
   * Who did it.
   */
  from: string,
  /**
   * Their display name, if known.
   */
  from_name: string | null,
  /**
   * The reply or mentioning post, or the post that was liked or reposted.
   */
  post: Post,
  /**
   * When it happened; for a like or repost stored before reactions kept
   * a time, the post's time.
   */
  timestamp: number,
};

/**
 * Who this device is.
 */
export type Me = {
  /**
   * The identity.
   */
  identity: string,
  /**
   * This device.
   */
  device: string,
  /**
   * Display name.
   */
  name: string | null,
};

/**
 * A profile folder and who lives in it.
 */
export type Status = {
  /**
   * The profile folder.
   */
  home: string,
  /**
   * This device's identity, once there is one.
   */
  me: Me | null,
};

/**
 * A member's role in a group.
 */
export type Role = "owner" | "member";

/**
 * A member of a group.
 */
export type Member = {
  /**
   * Their identity.
   */
  identity: string,
  /**
   * Their display name, if known.
   */
  name: string | null,
  /**
   * Their role.
   */
  role: Role,
};

/**
 * A group as its members see it.
 */
export type Group = {
  /**
   * The group's id.
   */
  id: string,
  /**
   * Its name, once its document has arrived.
   */
  name: string | null,
  /**
   * What it is about.
   */
  description: string | null,
  /**
   * Its owner.
   */
  owner: string,
  /**
   * Its members, the owner first.
   */
  members: Array<Member>,
  /**
   * This identity's role, if it is a member.
   */
  my_role: Role | null,
};

/**
 * One of this identity's devices.
 */
export type Device = {
  /**
   * The device.
   */
  device: string,
  /**
   * When its certificate was issued.
   */
  certified_at: number,
  /**
   * Whether it is the device running this.
   */
  this_device: boolean,
  /**
   * Whether it was revoked.
   */
  revoked: boolean,
};

/**
 * A direct conversation, as listed.
 */
export type Conversation = {
  /**
   * Its space.
   */
  id: string,
  /**
   * The other side.
   */
  with: string,
  /**
   * Their name, if known.
   */
  name: string | null,
  /**
   * The newest message.
   */
  last: Post,
};

/**
 * An entry or blob an import refused.
 */
export type Rejection = {
  /**
   * Its id, when it decoded far enough to have one.
   */
  id: string | null,
  /**
   * Why it was refused.
   */
  reason: string,
};

/**
 * What an import (of a bundle, or from a peer) did.
 */
export type ImportSummary = {
  /**
   * Entries newly stored and applied.
   */
  accepted: number,
  /**
   * Entries already held.
   */
  known: number,
  /**
   * Entries held back until an earlier entry of their log arrives.
   */
  pending: number,
  /**
   * Blobs newly stored.
   */
  blobs: number,
  /**
   * Entries and blobs refused.
   */
  refused: number,
  /**
   * Why, for the first of them (at most 1,000).
   */
  rejections: Array<Rejection>,
};

/**
 * One peer's part of a sync round.
 */
export type PeerSync = {
  /**
   * The peer.
   */
  peer: string,
  /**
   * Whether the session finished.
   */
  ok: boolean,
  /**
   * What the entries it sent did, when it finished.
   */
  import: ImportSummary | null,
  /**
   * Bytes sent.
   */
  bytes_sent: number,
  /**
   * Bytes received.
   */
  bytes_received: number,
  /**
   * Why it failed, when it did.
   */
  error: string | null,
  /**
   * The path the session ended on, when it finished.
   */
  path: Path | null,
};

/**
 * How two devices reach each other: straight (iroh's hole punching found
 * a path, or they share a network) or through a relay.
 */
export type Path = "direct" | "relay";

/**
 * One round of catch-ups with known peers.
 */
export type SyncSummary = {
  /**
   * Each peer asked.
   */
  peers: Array<PeerSync>,
  /**
   * Entries newly accepted from all of them.
   */
  accepted: number,
};

/**
 * What the store holds and how it fares.
 */
export type Storage = {
  /**
   * Entries stored.
   */
  entries: number,
  /**
   * Posts shown somewhere.
   */
  posts: number,
  /**
   * Logs (one per device and space).
   */
  logs: number,
  /**
   * Entries waiting for an earlier entry of their log.
   */
  waiting: number,
  /**
   * Bytes of sealed payloads.
   */
  payload_bytes: number,
  /**
   * Bytes of sealed images.
   */
  blob_bytes: number,
  /**
   * Bytes of the database file.
   */
  file_bytes: number,
  /**
   * Bytes of that file that are free pages (a vacuum gives them back).
   */
  free_bytes: number,
  /**
   * Bytes of the write-ahead log beside it.
   */
  wal_bytes: number,
  /**
   * What each kind of data takes.
   */
  kinds: Array<StorageUse>,
  /**
   * Other people whose data takes the most room here, largest first.
   */
  biggest: Array<AuthorUse>,
  /**
   * Entries kept as headers only (evicted, deleted, or of a left group).
   */
  headers_only: number,
  /**
   * The budgets eviction keeps the store within.
   */
  budgets: Budgets,
};

/**
 * A kind of stored data, for the storage report.
 */
export type StorageKind = "own" | "own_media" | "followed" | "groups" | "conversations" | "mirrored" | "media_cache" | "search_index";

/**
 * What one kind of data takes.
 */
export type StorageUse = {
  /**
   * The kind.
   */
  kind: StorageKind,
  /**
   * Entries, images or indexed posts.
   */
  count: number,
  /**
   * Bytes.
   */
  bytes: number,
};

/**
 * Someone whose data takes room on this device.
 */
export type AuthorUse = {
  /**
   * Their identity.
   */
  identity: string,
  /**
   * Their name, where known.
   */
  name: string | null,
  /**
   * Their entries held (in every space).
   */
  entries: number,
  /**
   * Bytes of those entries and their images.
   */
  bytes: number,
};

/**
 * What a device keeps of others' data. The user's own entries, keys,
 * account and conversations are never evicted, whatever the budgets.
 */
export type Budgets = {
  /**
   * Most bytes of others' images kept (the media cache).
   */
  media_cache_bytes: number,
  /**
   * Most bytes of others' posts kept whole; the oldest beyond it keep
   * their headers only.
   */
  others_posts_bytes: number,
  /**
   * Others' posts older than this many days keep their headers only.
   */
  keep_others_posts_days: number,
};

/**
 * What one storage check took away.
 */
export type Evicted = {
  /**
   * Others' posts now kept as headers only.
   */
  posts: number,
  /**
   * Bytes of those posts' payloads.
   */
  post_bytes: number,
  /**
   * Others' images dropped from the media cache.
   */
  images: number,
  /**
   * Bytes of those images.
   */
  image_bytes: number,
  /**
   * Blocked identities whose data was dropped.
   */
  blocked_dropped: number,
};

/**
 * What dropping a feed's data did.
 */
export type FeedDropped = {
  /**
   * The identity whose feed it is.
   */
  identity: string,
  /**
   * Entries dropped.
   */
  entries: number,
  /**
   * Images dropped.
   */
  images: number,
  /**
   * Why the data was kept instead, when it was.
   */
  kept: string | null,
};

/**
 * The result of checking the store.
 */
export type CheckSummary = {
  /**
   * Whether no problem was found.
   */
  ok: boolean,
  /**
   * Entries checked.
   */
  entries: number,
  /**
   * Problems found.
   */
  problems: Array<string>,
};

/**
 * A ticket to show: its text and, where wanted, its QR code.
 */
export type TicketView = {
  /**
   * The ticket's text (`starling1…`).
   */
  text: string,
  /**
   * The ticket as a link (`starling:starling1…`) that opens the app:
   * what the QR code holds and what the app copies.
   */
  uri: string,
  /**
   * The QR code as SVG markup.
   */
  svg: string | null,
};

/**
 * What kind of ticket some text or picture holds.
 */
export type TicketKind = "feed" | "group" | "device";

/**
 * A ticket read from text or a picture.
 */
export type ScannedTicket = {
  /**
   * The ticket's text.
   */
  ticket: string,
  /**
   * Its kind.
   */
  kind: TicketKind,
  /**
   * The identity it names (a feed's owner, a group's owner); a link
   * code names none (it holds no key of the identity).
   */
  identity: string | null,
  /**
   * The group, for an invite.
   */
  group: string | null,
  /**
   * The group's name, for an invite.
   */
  name: string | null,
};

/**
 * A new entry (a post, like, repost, edit, delete or message).
 */
export type Written = {
  /**
   * Its id.
   */
  id: string,
};

/**
 * Whether an action on someone changed anything (unfollow, mute, block…).
 */
export type Changed = {
  /**
   * Who.
   */
  identity: string,
  /**
   * Whether it changed anything.
   */
  changed: boolean,
};

/**
 * A member taken out of a group.
 */
export type Removed = {
  /**
   * The group.
   */
  group: string,
  /**
   * The member.
   */
  member: string,
  /**
   * The group key's new epoch.
   */
  epoch: number,
};

/**
 * A revoked device.
 */
export type Revoked = {
  /**
   * The device.
   */
  device: string,
};

/**
 * A group this device left.
 */
export type Left = {
  /**
   * The group.
   */
  group: string,
};

/**
 * What a recovered device restored of its account from the newest
 * backup a follower served (`found` false: none was found yet).
 */
export type Restored = {
  /**
   * Whether a backup was found and applied.
   */
  found: boolean,
  /**
   * Follows restored.
   */
  follows: number,
  /**
   * Mutes restored.
   */
  mutes: number,
  /**
   * Blocks restored.
   */
  blocks: number,
  /**
   * Groups held again.
   */
  groups: number,
};

/**
 * The recovery phrase, shown at first start and on request.
 */
export type Phrase = {
  /**
   * The 24 words, in order.
   */
  words: Array<string>,
};

/**
 * The confirmation code a new device shows while it links: the other
 * device must show the same one.
 */
export type LinkCode = {
  /**
   * Six digits, as `123 456`.
   */
  code: string,
};

/**
 * How a device link ended on the linking device.
 */
export type LinkOutcome = {
  /**
   * The new device.
   */
  device: string,
  /**
   * Whether it now holds this identity's keys.
   */
  linked: boolean,
};

/**
 * A bundle written to a file.
 */
export type Exported = {
  /**
   * Where.
   */
  path: string,
  /**
   * Entries and blobs in it.
   */
  records: number,
  /**
   * Its size.
   */
  bytes: number,
};

/**
 * A known peer device.
 */
export type PeerView = {
  /**
   * The device.
   */
  device: string,
  /**
   * Its direct addresses (`ip:port`).
   */
  addrs: Array<string>,
  /**
   * Its home relay.
   */
  relay: string | null,
  /**
   * When it was last seen (ms since the epoch).
   */
  last_seen: number | null,
  /**
   * The path the last session with it ended on.
   */
  path: Path | null,
  /**
   * That path's round-trip time then, in milliseconds.
   */
  rtt_ms: number | null,
};

/**
 * How a running node reaches the network.
 */
export type Settings = {
  /**
   * `none`, `default` or a relay's URL.
   */
  relay: string,
  /**
   * Whether peers on the local network are found by mDNS.
   */
  local_discovery: boolean,
  /**
   * Whether this device publishes its addresses in, and looks peers up
   * in, the Mainline DHT.
   */
  dht: boolean,
  /**
   * The profile folder.
   */
  home: string,
  /**
   * Whether files are picked in the system's own dialogs (desktop),
   * not on the page (phones).
   */
  native_dialogs: boolean,
};

/**
 * A catch-up under way.
 */
export type Syncing = {
  /**
   * The peer.
   */
  peer: string,
  /**
   * Entries received so far.
   */
  entries: number,
  /**
   * Bytes received so far.
   */
  bytes: number,
};

/**
 * The network as a running node sees it.
 */
export type NetStatus = {
  /**
   * Whether the node is online.
   */
  online: boolean,
  /**
   * Gossip neighbours connected now.
   */
  peers: number,
  /**
   * A catch-up under way, if any.
   */
  syncing: Syncing | null,
  /**
   * The addresses it listens on (`ip:port`).
   */
  listening: Array<string>,
  /**
   * What went wrong starting it, or with local discovery.
   */
  error: string | null,
  /**
   * The best path to any peer reached lately: direct, only through a
   * relay, or none (no peer reached).
   */
  reach: Path | null,
};

/**
 * Entries received so far from one space.
 */
export type SpaceCount = {
  /**
   * The space.
   */
  space: string,
  /**
   * Entries.
   */
  entries: number,
};

/**
 * Something that happened to a running node: one line of
 * `starling run --json`, one message on the app's `net` channel.
 */
export type Event = {
  "kind": "listening",
  /**
   * This device.
   */
  device: string,
  /**
   * Its direct addresses.
   */
  addrs: Array<string>,
  /**
   * Its home relay.
   */
  relay: string | null,
} | {
  "kind": "local_discovery_off",
  /**
   * Why.
   */
  reason: string,
} | {
  "kind": "synced",
  /**
   * The peer.
   */
  peer: string,
  /**
   * Whether this side started it.
   */
  initiated: boolean,
  /**
   * Entries newly accepted.
   */
  accepted: number,
  /**
   * Entries refused.
   */
  refused: number,
  /**
   * Bytes received.
   */
  bytes_received: number,
  /**
   * The path the session ended on.
   */
  path: Path | null,
} | {
  "kind": "progress",
  /**
   * The peer.
   */
  peer: string,
  /**
   * Entries received so far.
   */
  entries: number,
  /**
   * Bytes received so far.
   */
  bytes: number,
  /**
   * Entries received so far, per space.
   */
  spaces: Array<SpaceCount>,
} | {
  "kind": "sync_failed",
  /**
   * The peer.
   */
  peer: string,
  /**
   * Why.
   */
  error: string,
} | {
  "kind": "received",
  /**
   * The neighbour that delivered them.
   */
  peer: string,
  /**
   * Their space.
   */
  space: string,
  /**
   * How many were new.
   */
  accepted: number,
} | {
  "kind": "published",
  /**
   * Their space.
   */
  space: string,
  /**
   * The log's head seq now.
   */
  seq: number,
} | {
  "kind": "peer_up",
  /**
   * The peer.
   */
  peer: string,
} | {
  "kind": "peer_down",
  /**
   * The peer.
   */
  peer: string,
} | {
  "kind": "blob_fetched",
  /**
   * Its hash.
   */
  hash: string,
  /**
   * Its size.
   */
  bytes: number,
} | {
  "kind": "changed"
} | {
  "kind": "link_request",
  /**
   * The new device.
   */
  device: string,
  /**
   * The confirmation code this device shows.
   */
  code: string,
} | {
  "kind": "relay_listening",
  /**
   * The relay's URL (`http://…` without a certificate).
   */
  url: string,
} | {
  "kind": "dht_listening",
  /**
   * `host:port` of the first node.
   */
  bootstrap: string,
  /**
   * Nodes run, on ports from the first up.
   */
  nodes: number,
} | {
  "kind": "stopped"
};

/**
 * What kind of error a command met, for a program to branch on.
 */
export type ErrorKind = "invalid" | "not_allowed" | "not_found" | "no_identity" | "already_exists" | "network" | "storage" | "in_use";

/**
 * An error as a command returns it.
 */
export type CommandError = {
  /**
   * What kind of error.
   */
  kind: ErrorKind,
  /**
   * What went wrong, for a person.
   */
  message: string,
};
