// The typed face of the Tauri shell (src-tauri/src/commands.rs). Every call
// goes through `invoke`; the shapes here match the Rust side's JSON exactly
// (the same post and profile objects as `starling ... --json`).
import { invoke, convertFileSrc } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

/** A post as shown (the CLI's JSON contract). Ids are hex strings. */
export interface Post {
  id: string;
  author: string;
  author_name: string | null;
  text: string;
  /** ms since the Unix epoch */
  timestamp: number;
  reply_to: string | null;
  quote_of: string | null;
  likes: number;
  reposts: number;
  edited: boolean;
  /** blob hashes of the post's images (fetch with `blobUrl(author, hash)`) */
  images: string[];
  /** the group the post is in, if any */
  group?: string | null;
}

/** One page of a timeline, newest first; `next` is the cursor for the page after. */
export interface Page {
  posts: Post[];
  next: string | null;
}

export interface Profile {
  identity: string;
  name: string | null;
  bio: string | null;
  avatar: string | null;
  followed: boolean;
  muted: boolean;
  blocked: boolean;
  posts: number;
}

export interface Me {
  identity: string;
  device: string;
  name: string | null;
}

/** What the app knows at start: whether a profile exists, and where. */
export interface Status {
  home: string;
  me: Me | null;
}

/** A ticket (follow, group invite or device link) as text and as a QR code SVG. */
export interface TicketView {
  text: string;
  svg: string;
}

export interface Group {
  id: string;
  name: string;
  description: string | null;
  admins: string[];
  members: { identity: string; name: string | null; role: "admin" | "member" }[];
  is_admin: boolean;
}

export interface Conversation {
  identity: string;
  name: string | null;
  last: Post | null;
}

export interface Device {
  device: string;
  name: string | null;
  this_device: boolean;
  revoked: boolean;
  linked_at: number | null;
}

export type NotificationKind = "reply" | "mention" | "like" | "repost" | "quote";

export interface Notification {
  kind: NotificationKind;
  /** who did it */
  from: string;
  from_name: string | null;
  /** the post that replied / mentioned / quoted, or the liked post */
  post: Post;
  timestamp: number;
}

export interface Settings {
  /** "none", "default" or a relay URL */
  relay: string;
  local_discovery: boolean;
  home: string;
}

export interface ImportReport {
  accepted: number;
  known: number;
  rejected: number;
}

/** The network as the status indicator shows it. */
export interface NetStatus {
  online: boolean;
  peers: number;
  /** entries received so far in a catch-up under way, if one is */
  syncing: { peer: string; entries: number; bytes: number } | null;
  listening: string[];
  error: string | null;
}

/** Pushed by the shell on the `net` event. */
export type NetEvent =
  | { kind: "received"; peer: string; space: string; accepted: number }
  | { kind: "synced"; peer: string; accepted: number; rejected: number }
  | { kind: "progress"; peer: string; entries: number; bytes: number }
  | { kind: "sync_failed"; peer: string; error: string }
  | { kind: "peer_up"; peer: string }
  | { kind: "peer_down"; peer: string }
  | { kind: "published"; space: string }
  | { kind: "blob"; hash: string }
  | { kind: "changed" };

/** An image to attach: bytes as base64 and the MIME type. */
export interface ImageInput {
  base64: string;
  mime: string;
}

export interface NewPost {
  text: string;
  reply_to?: string | null;
  quote_of?: string | null;
  group?: string | null;
  images?: ImageInput[];
}

export const api = {
  status: () => invoke<Status>("status"),
  createIdentity: (name: string, avatar: ImageInput | null) =>
    invoke<Me>("create_identity", { name, avatar }),
  ticket: () => invoke<TicketView>("ticket"),

  timeline: (limit: number, before: string | null) => invoke<Page>("timeline", { limit, before }),
  authorPosts: (identity: string, limit: number, before: string | null) =>
    invoke<Page>("author_posts", { identity, limit, before }),
  thread: (id: string) => invoke<Post[]>("thread", { id }),
  search: (query: string) => invoke<Post[]>("search", { query }),
  notifications: () => invoke<Notification[]>("notifications"),

  post: (post: NewPost) => invoke<string>("post", { post }),
  like: (id: string) => invoke<void>("like", { id }),
  repost: (id: string) => invoke<void>("repost", { id }),
  edit: (id: string, text: string) => invoke<void>("edit", { id, text }),
  remove: (id: string) => invoke<void>("delete", { id }),

  profile: (identity: string | null) => invoke<Profile>("profile", { identity }),
  setProfile: (name: string | null, bio: string | null, avatar: ImageInput | null) =>
    invoke<void>("set_profile", { name, bio, avatar }),
  following: () => invoke<Profile[]>("following"),

  /** Follows by ticket text; returns the identity followed. */
  follow: (ticket: string) => invoke<string>("follow", { ticket }),
  /** Reads the ticket in a picture (PNG or JPEG, base64). */
  scanImage: (base64: string) => invoke<string>("scan_image", { base64 }),
  unfollow: (identity: string) => invoke<void>("unfollow", { identity }),
  mute: (identity: string) => invoke<void>("mute", { identity }),
  unmute: (identity: string) => invoke<void>("unmute", { identity }),
  block: (identity: string) => invoke<void>("block", { identity }),
  unblock: (identity: string) => invoke<void>("unblock", { identity }),

  groups: () => invoke<Group[]>("groups"),
  group: (id: string) => invoke<Group>("group", { id }),
  groupCreate: (name: string, description: string | null) =>
    invoke<string>("group_create", { name, description }),
  groupInvite: (id: string) => invoke<TicketView>("group_invite", { id }),
  groupJoin: (ticket: string) => invoke<string>("group_join", { ticket }),
  groupTimeline: (id: string, limit: number, before: string | null) =>
    invoke<Page>("group_timeline", { id, limit, before }),
  groupRemove: (id: string, member: string) => invoke<void>("group_remove", { id, member }),
  groupLeave: (id: string) => invoke<void>("group_leave", { id }),

  conversations: () => invoke<Conversation[]>("conversations"),
  messages: (identity: string) => invoke<Post[]>("messages", { identity }),
  dm: (identity: string, text: string) => invoke<void>("dm", { identity, text }),

  devices: () => invoke<Device[]>("devices"),
  deviceLink: () => invoke<TicketView>("device_link"),
  deviceRevoke: (device: string) => invoke<void>("device_revoke", { device }),

  settings: () => invoke<Settings>("settings"),
  setSettings: (relay: string, localDiscovery: boolean) =>
    invoke<Settings>("set_settings", { relay, localDiscovery }),
  /** Writes a bundle of everything this device holds; returns its path. */
  exportBundle: () => invoke<string>("export_bundle"),
  importBundle: (base64: string) => invoke<ImportReport>("import_bundle", { base64 }),

  netStatus: () => invoke<NetStatus>("net_status"),
  /** Opens an http(s) link in the system's browser. */
  openLink: (url: string) => invoke<void>("open_link", { url }),
  /** Makes this device another device of an existing identity, from a link ticket. */
  deviceJoin: (ticket: string) => invoke<Me>("device_join", { ticket }),
  /** Tells the shell the first timeline was painted; returns ms since the process started. */
  firstPaint: () => invoke<number>("first_paint"),
  syncNow: () => invoke<void>("sync_now"),
};

/** Subscribes to the shell's live events. */
export function onNet(handler: (e: NetEvent) => void): Promise<UnlistenFn> {
  return listen<NetEvent>("net", (e) => handler(e.payload));
}

/** The URL of an image blob, served by the shell's `starling` protocol. */
export function blobUrl(owner: string, hash: string): string {
  return convertFileSrc(`${owner}/${hash}`, "starling");
}
