// The typed face of the Tauri shell (src-tauri/src/commands.rs). Every call
// goes through `invoke`; what comes back is one of the core's views, typed
// in `contract.ts`, which is generated from the Rust types
// (core/src/view.rs) — the same objects `starling ... --json` prints. A
// failed call rejects with a `CommandError` (`{kind, message}`).
import { invoke, convertFileSrc } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  Changed,
  CommandError,
  Conversation,
  Budgets,
  Device,
  Evicted,
  Event,
  Exported,
  FeedDropped,
  Group,
  ImportSummary,
  Left,
  LinkCode,
  LinkOutcome,
  Me,
  NetStatus,
  PeerView,
  Notification,
  Page,
  Phrase,
  Post,
  Profile,
  Removed,
  Restored,
  Revoked,
  ScannedTicket,
  Settings,
  Status,
  Storage,
  SyncSummary,
  TicketView,
  Suggestion,
  TrendingTag,
  Written,
} from "./contract";

export type * from "./contract";

/** An image to attach: its bytes as base64, and its type for the preview
 * (the core reads the type from the bytes). */
export interface ImageInput {
  base64: string;
  mime: string;
  /** What the image shows, in words (alt text); posts only. */
  alt?: string;
}

/** A post as the compose box sends it. */
export interface NewPost {
  text: string;
  reply_to?: string | null;
  quote_of?: string | null;
  group?: string | null;
  images?: ImageInput[];
}

/** Whether a rejection is the shell's typed error. */
export function isCommandError(e: unknown): e is CommandError {
  return typeof e === "object" && e !== null && "kind" in e && "message" in e;
}

/** Every command the shell answers, and what it returns (see
 * src-tauri/src/commands.rs). `mock.ts` answers the same map. */
export interface Commands {
  status: Status;
  create_identity: Me;
  device_join: LinkCode;
  device_join_confirm: Me;
  link_answer: LinkOutcome;
  recover: Restored;
  restore: Restored;
  phrase: Phrase;
  open_link: null;
  notify_system: null;
  set_badge: null;
  opened_links: ScannedTicket[];
  bookmark: string[];
  unbookmark: string[];
  bookmark_ids: string[];
  bookmarks: Post[];
  ticket: TicketView;
  timeline: Page;
  author_posts: Page;
  thread: Post[];
  search: Post[];
  notifications: Notification[];
  post: Written;
  like: Written;
  repost: Written;
  edit: Written;
  delete: Written;
  profile: Profile;
  profile_named: Profile | null;
  trending_tags: TrendingTag[];
  suggestions: Suggestion[];
  show_follows: boolean;
  set_show_follows: boolean;
  author_media: Page;
  set_profile: Profile;
  following: Profile[];
  follow: Profile;
  scan_image: ScannedTicket;
  unfollow: Changed;
  unlike: Post;
  unrepost: Post;
  mute: Changed;
  unmute: Changed;
  block: Changed;
  unblock: Changed;
  groups: Group[];
  group: Group;
  group_create: Group;
  group_invite: TicketView;
  group_join: Group;
  group_timeline: Page;
  group_remove: Removed;
  group_leave: Left;
  conversations: Conversation[];
  messages: Page;
  dm: Written;
  devices: Device[];
  device_link: TicketView;
  device_revoke: Revoked;
  settings: Settings;
  set_settings: Settings;
  export_bundle: Exported | null;
  import_bundle_file: ImportSummary | null;
  import_bundle: ImportSummary;
  storage: Storage;
  set_budgets: Evicted;
  check_storage: Evicted;
  vacuum: Storage;
  drop_feed: FeedDropped;
  peers: PeerView[];
  net_status: NetStatus;
  sync_now: SyncSummary;
  first_paint: number;
}

function call<K extends keyof Commands>(cmd: K, args?: Record<string, unknown>): Promise<Commands[K]> {
  return invoke<Commands[K]>(cmd, args);
}

export const api = {
  status: () => call("status"),
  createIdentity: (name: string, avatar: ImageInput | null) => call("create_identity", { name, avatar }),
  /** Brings an identity back from its 24 words; `from` is a follower's ticket. */
  recover: (words: string, from: string | null) => call("recover", { words, from }),
  restore: () => call("restore"),
  phrase: () => call("phrase"),
  ticket: () => call("ticket"),

  timeline: (limit: number, before: string | null) => call("timeline", { limit, before }),
  authorPosts: (identity: string, limit: number, before: string | null) =>
    call("author_posts", { identity, limit, before }),
  /** Someone's posts with images (a page may hold fewer than `limit`, with more to come). */
  authorMedia: (identity: string, limit: number, before: string | null) =>
    call("author_media", { identity, limit, before }),
  thread: (id: string) => call("thread", { id }),
  search: (query: string) => call("search", { query }),
  notifications: () => call("notifications"),

  post: (post: NewPost) => call("post", { post }),
  like: (id: string) => call("like", { id }),
  repost: (id: string) => call("repost", { id }),
  /** Takes back this identity's like; the post as it now stands. */
  unlike: (id: string) => call("unlike", { id }),
  /** Takes back this identity's repost; the post as it now stands. */
  unrepost: (id: string) => call("unrepost", { id }),
  edit: (id: string, text: string) => call("edit", { id, text }),
  remove: (id: string) => call("delete", { id }),

  profile: (identity: string | null) => call("profile", { identity }),
  profileNamed: (name: string) => call("profile_named", { name }),
  trendingTags: () => call("trending_tags"),
  /** Who to follow: people those followed here show that they follow. */
  suggestions: () => call("suggestions"),
  showFollows: () => call("show_follows"),
  /** Shows (or takes back) whom this identity follows; the setting as it now is. */
  setShowFollows: (on: boolean) => call("set_show_follows", { on }),
  setProfile: (name: string | null, bio: string | null, avatar: ImageInput | null) =>
    call("set_profile", { name, bio, avatar }),
  following: () => call("following"),

  /** Follows by ticket text (or a bare identity whose key is held); returns their profile. */
  follow: (ticket: string) => call("follow", { ticket }),
  /** Reads the ticket in a picture (PNG or JPEG, base64). */
  scanImage: (base64: string) => call("scan_image", { base64 }),
  unfollow: (identity: string) => call("unfollow", { identity }),
  mute: (identity: string) => call("mute", { identity }),
  unmute: (identity: string) => call("unmute", { identity }),
  block: (identity: string) => call("block", { identity }),
  unblock: (identity: string) => call("unblock", { identity }),

  groups: () => call("groups"),
  group: (id: string) => call("group", { id }),
  groupCreate: (name: string, description: string | null) => call("group_create", { name, description }),
  groupInvite: (id: string) => call("group_invite", { id }),
  groupJoin: (ticket: string) => call("group_join", { ticket }),
  groupTimeline: (id: string, limit: number, before: string | null) =>
    call("group_timeline", { id, limit, before }),
  groupRemove: (id: string, member: string) => call("group_remove", { id, member }),
  groupLeave: (id: string) => call("group_leave", { id }),

  conversations: () => call("conversations"),
  messages: (identity: string, limit: number, before: string | null) =>
    call("messages", { identity, limit, before }),
  dm: (identity: string, text: string) => call("dm", { identity, text }),

  devices: () => call("devices"),
  deviceLink: () => call("device_link"),
  deviceRevoke: (device: string) => call("device_revoke", { device }),

  settings: () => call("settings"),
  setSettings: (relay: string, localDiscovery: boolean, dht: boolean) =>
    call("set_settings", { relay, localDiscovery, dht }),
  /** Writes a bundle of everything this device holds under the data folder. */
  /** Saves a bundle where the user says in the system's dialog titled `title` (`null`: cancelled). */
  exportBundle: (title: string) => call("export_bundle", { title }),
  /** Imports the bundle file the user picks in the system's dialog (`null`: cancelled). */
  importBundleFile: (title: string) => call("import_bundle_file", { title }),
  importBundle: (base64: string) => call("import_bundle", { base64 }),
  storage: () => call("storage"),
  /** Sets what this device keeps of others' data, and keeps to it at once. */
  setBudgets: (budgets: Budgets) => call("set_budgets", { budgets }),
  /** Brings the store within its budgets now. */
  checkStorage: () => call("check_storage"),
  /** Gives space freed by eviction and cleanup back to the filesystem. */
  vacuum: () => call("vacuum"),
  /** Drops what this device holds of an unfollowed identity's feed. */
  dropFeed: (identity: string) => call("drop_feed", { identity }),
  /** Known peers, with the path and round-trip time of the last session. */
  peers: () => call("peers"),

  netStatus: () => call("net_status"),
  /** Opens an http(s) link in the system's browser. */
  openLink: (url: string) => call("open_link", { url }),
  /** Shows a notification of the operating system. */
  notifySystem: (title: string, body: string) => call("notify_system", { title, body }),
  /** Shows the unread count on the app's dock or taskbar icon (0: none). */
  setBadge: (count: number) => call("set_badge", { count }),
  /** The `starling:` links opened from outside since the last call. */
  openedLinks: () => call("opened_links"),
  /** Bookmarks a post (private to this identity's devices); the bookmarked ids. */
  bookmark: (id: string) => call("bookmark", { id }),
  unbookmark: (id: string) => call("unbookmark", { id }),
  bookmarkIds: () => call("bookmark_ids"),
  bookmarks: () => call("bookmarks"),
  /** Makes this device another device of an existing identity, from a link ticket. */
  /** Connects with another device's link code; returns the code to compare. */
  deviceJoin: (ticket: string) => call("device_join", { ticket }),
  /** Finishes (or with `false` cancels) linking this new device. */
  deviceJoinConfirm: (accept: boolean) => call("device_join_confirm", { accept }),
  /** Answers a new device's link request on the linking device. */
  linkAnswer: (accept: boolean, trusted = false) => call("link_answer", { accept, trusted }),
  /** Tells the shell the first timeline was painted; returns ms since the process started. */
  firstPaint: () => call("first_paint"),
  syncNow: () => call("sync_now"),
};

/** Calls `handler` whenever a `starling:` link was opened from outside
 *  (take it with `api.openedLinks`). */
export function onLinkOpened(handler: () => void): Promise<UnlistenFn> {
  return listen("link-opened", () => handler());
}

/** Subscribes to the shell's live events. */
export function onNet(handler: (e: Event) => void): Promise<UnlistenFn> {
  return listen<Event>("net", (e) => handler(e.payload));
}

/** The webview protocol the shell serves images on (`starling:` is the
 *  scheme of links that open the app). */
export const MEDIA_SCHEME = "starling-media";

/** The URL of an image blob, served by the shell's media protocol. */
export function blobUrl(owner: string, hash: string): string {
  return convertFileSrc(`${owner}/${hash}`, MEDIA_SCHEME);
}
