// A pretend shell for looking at the UI in a plain browser (`npm run dev`
// outside Tauri). Only main.ts loads it, only in dev builds and only when
// the Tauri internals are missing; the real app never does.
import { emit } from "@tauri-apps/api/event";
import { mockConvertFileSrc, mockIPC } from "@tauri-apps/api/mocks";
import type { Budgets, Commands, Device, Event, Group, Me, Post, Profile, Storage, Written } from "./api";

const ME = "a1".repeat(32);
const FRIENDS = ["b2", "c3", "d4", "e5"].map((p) => p.repeat(32));
const NAMES: Record<string, string> = { [ME]: "You", [FRIENDS[0]]: "Ada", [FRIENDS[1]]: "Grace", [FRIENDS[2]]: "Linus", [FRIENDS[3]]: "Margaret" };
const QR = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 21 21"><rect width="21" height="21" fill="#fff"/><path d="M1 1h7v7H1zM13 1h7v7h-7zM1 13h7v7H1zM10 10h2v2h-2z" fill="#000"/></svg>`;
const SAMPLE = [
  "Hello from the local-first world!",
  "Read this: https://example.org/article?id=7 — worth it.",
  "<img src=x onerror=alert(1)>",
  "A longer post that wraps over a few lines to check that row heights vary and that the virtual list measures them properly when they scroll into view.",
  "javascript:alert(1) is not a link",
  "Short.",
];

let seq = 0;
function makePost(author: string, text: string, timestamp: number, extra: Partial<Post> = {}): Post {
  seq++;
  return {
    id: seq.toString(16).padStart(64, "0"),
    author,
    author_name: NAMES[author] ?? null,
    text,
    timestamp,
    reply_to: null,
    quote_of: null,
    likes: seq % 7,
    reposts: seq % 3,
    liked_by_me: false,
    reposted_by_me: false,
    author_avatar: null,
    reply_to_author: null,
    reply_to_name: null,
    quoted: null,
    edited: false,
    images: [],
    alts: [],
    group: null,
    ...extra,
  };
}

const now = Date.now();
const posts: Post[] = Array.from({ length: 10_000 }, (_, i) =>
  makePost(FRIENDS[i % FRIENDS.length], `${SAMPLE[i % SAMPLE.length]} (#${10_000 - i})`, now - i * 97_000),
);
const groups: Group[] = [];

/** This identity's like or repost of a post, made (`on`) or taken back. */
function react(id: string, count: "likes" | "reposts", mine: "liked_by_me" | "reposted_by_me", on: boolean) {
  const p = posts.find((x) => x.id === id);
  if (p && p[mine] !== on) {
    p[mine] = on;
    p[count] += on ? 1 : -1;
  }
  return written(id);
}
const dms: Post[] = [makePost(FRIENDS[0], "Hi! This is a direct message.", now - 3_600_000)];
let bookmarks: string[] = [];
const devices: Device[] = [
  { device: "f0".repeat(32), this_device: true, revoked: false, certified_at: now - 86_400_000 * 30 },
  { device: "f1".repeat(32), this_device: false, revoked: false, certified_at: now - 86_400_000 * 90 },
];
let settings = { relay: "default", local_discovery: true, dht: false, home: "/home/you/.local/share/starling", native_dialogs: false };
let storage: Storage = {
  entries: 10_050,
  posts: 10_000,
  logs: 6,
  waiting: 0,
  payload_bytes: 1_200_000,
  blob_bytes: 5_400_000,
  file_bytes: 8_400_000,
  free_bytes: 200_000,
  wal_bytes: 0,
  kinds: [
    { kind: "own", count: 50, bytes: 20_000 },
    { kind: "own_media", count: 2, bytes: 400_000 },
    { kind: "followed", count: 10_000, bytes: 1_900_000 },
    { kind: "media_cache", count: 25, bytes: 5_000_000 },
    { kind: "search_index", count: 10_000, bytes: 600_000 },
  ],
  biggest: [{ identity: "b".repeat(64), name: "Bob", entries: 6_000, bytes: 3_800_000 }],
  headers_only: 0,
  budgets: { media_cache_bytes: 1_000_000_000, others_posts_bytes: 1_000_000_000, keep_others_posts_days: 365 },
};
let me: Me | null =
  new URLSearchParams(location.search).has("onboard") ? null : { identity: ME, device: devices[0].device, name: "You" };

function page(list: Post[], limit: number, before: string | null) {
  const start = before ? list.findIndex((p) => p.id === before) + 1 : 0;
  const slice = list.slice(start, start + limit);
  return { posts: slice, next: start + limit < list.length ? slice[slice.length - 1].id : null };
}

function profile(identity: string): Profile {
  return {
    identity,
    name: NAMES[identity] ?? null,
    bio: identity === ME ? "Trying Starling." : "A person on Starling.",
    avatar: null,
    followed: identity !== ME,
    muted: false,
    blocked: false,
    posts: posts.filter((p) => p.author === identity).length,
    follows_you: identity === FRIENDS[0],
  };
}

let showFollows = false;

/** A fixed phrase for the mock (the real one comes from the identity). */
const MOCK_PHRASE =
  "abandon ability able about above absent absorb abstract absurd abuse access accident account accuse achieve acid acoustic acquire across act action actor actress actual".split(" ");

type Args = Record<string, unknown>;
const written = (id: string): Written => ({ id });
const changed = (a: Args) => ({ identity: String(a.identity), changed: true });

/** An answer for every command, typed by the contract (a missing command or
 * a wrong shape fails `svelte-check`). */
const handlers: { [K in keyof Commands]: (a: Args) => Commands[K] } = {
  status: () => ({ home: settings.home, me }),
  create_identity: (a) => (me = { identity: ME, device: devices[0].device, name: String(a.name) }),
  device_join: () => ({ code: "123 456" }),
  device_join_confirm: () => (me = { identity: ME, device: devices[0].device, name: "You" }),
  link_answer: (a) => ({ device: devices[0].device, linked: Boolean(a.accept) }),
  recover: (a) => {
    if (String(a.words).trim().split(/\s+/).length !== 24) throw { kind: "invalid", message: "not a recovery phrase: 24 words are needed" };
    me = { identity: ME, device: devices[0].device, name: "You" };
    return { found: true, follows: 2, mutes: 0, blocks: 0, groups: 1 };
  },
  restore: () => ({ found: true, follows: 2, mutes: 0, blocks: 0, groups: 1 }),
  phrase: () => ({ words: MOCK_PHRASE }),
  open_link: () => null,
  notify_system: () => null,
  set_badge: () => null,
  opened_links: () => [],
  bookmark: (a) => {
    if (!bookmarks.includes(String(a.id))) bookmarks.unshift(String(a.id));
    return [...bookmarks];
  },
  unbookmark: (a) => {
    bookmarks = bookmarks.filter((id) => id !== a.id);
    return [...bookmarks];
  },
  bookmark_ids: () => [...bookmarks],
  bookmarks: () => bookmarks.map((id) => posts.find((p) => p.id === id)).filter((p): p is Post => p !== undefined),
  ticket: () => ({ text: `starling1${ME}mockticket`, uri: `starling:starling1${ME}mockticket`, svg: QR }),
  timeline: (a) => page(posts.filter((p) => !p.group), Number(a.limit), (a.before as string) ?? null),
  author_posts: (a) => page(posts.filter((p) => p.author === a.identity), Number(a.limit), (a.before as string) ?? null),
  thread: (a) => {
    const root = posts.find((p) => p.id === a.id);
    return root ? [root, ...posts.filter((p) => p.reply_to === a.id)] : [];
  },
  search: (a) => posts.filter((p) => p.text.toLowerCase().includes(String(a.query).toLowerCase())).slice(0, 50),
  notifications: () =>
    posts.slice(0, 4).map((p, i) => ({ kind: (["reply", "mention", "like", "repost"] as const)[i], from: p.author, from_name: p.author_name, post: p, timestamp: p.timestamp })),
  post: (a) => {
    const n = a.post as { text: string; reply_to?: string; quote_of?: string; group?: string; images?: unknown[] };
    const quoted = posts.find((x) => x.id === n.quote_of);
    const replied = posts.find((x) => x.id === n.reply_to);
    const p = makePost(ME, n.text, Date.now(), {
      reply_to: n.reply_to ?? null,
      reply_to_author: replied?.author ?? null,
      reply_to_name: replied?.author_name ?? null,
      quote_of: n.quote_of ?? null,
      quoted: quoted
        ? {
            author: quoted.author,
            author_name: quoted.author_name,
            author_avatar: quoted.author_avatar,
            text: quoted.text,
            timestamp: quoted.timestamp,
            image: quoted.images[0] ?? null,
            image_alt: quoted.alts[0] ?? "",
          }
        : null,
      group: n.group ?? null,
    });
    posts.unshift(p);
    return written(p.id);
  },
  like: (a) => react(String(a.id), "likes", "liked_by_me", true),
  repost: (a) => react(String(a.id), "reposts", "reposted_by_me", true),
  unlike: (a) => {
    react(String(a.id), "likes", "liked_by_me", false);
    return posts.find((p) => p.id === a.id)!;
  },
  unrepost: (a) => {
    react(String(a.id), "reposts", "reposted_by_me", false);
    return posts.find((p) => p.id === a.id)!;
  },
  edit: (a) => {
    const p = posts.find((x) => x.id === a.id);
    if (p) Object.assign(p, { text: a.text, edited: true });
    return written(String(a.id));
  },
  delete: (a) => {
    const i = posts.findIndex((x) => x.id === a.id);
    if (i >= 0) posts.splice(i, 1);
    return written(String(a.id));
  },
  profile: (a) => profile((a.identity as string) ?? ME),
  suggestions: () => [
    { profile: { ...profile("f6".repeat(32)), name: "Rosalind", followed: false }, followers: 2, followed_by: ["Ada", "Grace"], key_held: false },
  ],
  show_follows: () => showFollows,
  set_show_follows: (a) => (showFollows = Boolean(a.on)),
  author_media: (a) => page(posts.filter((p) => p.author === a.identity && p.images.length > 0), Number(a.limit), (a.before as string) ?? null),
  trending_tags: () => [
    { tag: "murmuration", posts: 12, authors: 4 },
    { tag: "dusk", posts: 3, authors: 2 },
  ],
  profile_named: (a) => {
    const name = String(a.name).toLowerCase();
    const who = Object.keys(NAMES).find((id) => NAMES[id].toLowerCase() === name);
    return who ? profile(who) : null;
  },
  set_profile: (a) => {
    if (a.name) NAMES[ME] = String(a.name);
    return profile(ME);
  },
  following: () => FRIENDS.map(profile),
  follow: (a) => {
    if (!String(a.ticket).replace(/^starling:/i, "").startsWith("starling1")) throw { kind: "invalid", message: "not a ticket: expected text starting with starling1" };
    return profile(FRIENDS[0]);
  },
  scan_image: () => ({ ticket: `starling1${FRIENDS[1]}`, kind: "feed", identity: FRIENDS[1], group: null, name: null }),
  unfollow: changed,
  mute: changed,
  unmute: changed,
  block: changed,
  unblock: changed,
  groups: () => groups,
  group: (a) => {
    const g = groups.find((x) => x.id === a.id);
    if (!g) throw { kind: "not_allowed", message: "not a member of this group" };
    return g;
  },
  group_create: (a) => {
    const id = `9${groups.length}`.repeat(32);
    const g: Group = {
      id,
      name: String(a.name),
      description: (a.description as string) ?? null,
      owner: ME,
      members: [
        { identity: ME, name: "You", role: "owner" },
        { identity: FRIENDS[0], name: "Ada", role: "member" },
      ],
      my_role: "owner",
    };
    groups.push(g);
    return g;
  },
  group_invite: () => ({ text: "starling1groupinvitemock", uri: "starling:starling1groupinvitemock", svg: QR }),
  group_join: () => {
    throw { kind: "invalid", message: "this invite has expired" };
  },
  group_timeline: (a) => page(posts.filter((p) => p.group === a.id), Number(a.limit), (a.before as string) ?? null),
  group_remove: (a) => {
    const g = groups.find((x) => x.id === a.id);
    if (g) g.members = g.members.filter((m) => m.identity !== a.member);
    return { group: String(a.id), member: String(a.member), epoch: 1 };
  },
  group_leave: (a) => {
    const i = groups.findIndex((x) => x.id === a.id);
    if (i >= 0) groups.splice(i, 1);
    return { group: String(a.id) };
  },
  conversations: () => [{ id: "c0".repeat(32), with: FRIENDS[0], name: "Ada", last: dms[dms.length - 1] }],
  messages: (a) => page([...dms].reverse(), Number(a.limit), (a.before as string) ?? null),
  dm: (a) => {
    const p = makePost(ME, String(a.text), Date.now());
    dms.push(p);
    return written(p.id);
  },
  devices: () => devices,
  device_link: () => ({ text: "starling1devicelinkmock", uri: "starling:starling1devicelinkmock", svg: QR }),
  device_revoke: (a) => {
    const d = devices.find((x) => x.device === a.device);
    if (d) d.revoked = true;
    return { device: String(a.device) };
  },
  settings: () => settings,
  set_settings: (a) =>
    (settings = { ...settings, relay: String(a.relay), local_discovery: Boolean(a.localDiscovery), dht: Boolean(a.dht) }),
  export_bundle: () => ({ path: `${settings.home}/exports/starling-${Date.now()}.bundle`, records: 120, bytes: 48_000 }),
  import_bundle_file: () => null,
  import_bundle: () => ({ accepted: 12, known: 3, pending: 0, blobs: 0, refused: 0, rejections: [] }),
  storage: () => storage,
  set_budgets: (a) => {
    storage = { ...storage, budgets: a.budgets as Budgets };
    return { posts: 120, post_bytes: 36_000, images: 4, image_bytes: 800_000, blocked_dropped: 0 };
  },
  check_storage: () => ({ posts: 0, post_bytes: 0, images: 0, image_bytes: 0, blocked_dropped: 0 }),
  vacuum: () => (storage = { ...storage, file_bytes: storage.file_bytes - storage.free_bytes, free_bytes: 0 }),
  drop_feed: (a) => ({ identity: String(a.identity), entries: 40, images: 3, kept: null }),
  peers: () => [
    { device: "d".repeat(64), addrs: ["192.168.1.20:4242"], relay: null, last_seen: Date.now() - 40_000, path: "direct", rtt_ms: 3 },
    { device: "e".repeat(64), addrs: [], relay: "https://relay.example.org", last_seen: Date.now() - 3_600_000, path: "relay", rtt_ms: 84 },
    { device: "f".repeat(64), addrs: ["10.0.0.7:4242"], relay: null, last_seen: null, path: null, rtt_ms: null },
  ],
  net_status: () => ({ online: true, peers: 3, syncing: null, listening: [], error: null, reach: "direct" }),
  first_paint: () => Math.round(performance.now()),
  sync_now: () => ({ peers: [], accepted: 0 }),
};

/** Installs the pretend shell, and every 20 s a friend posts. */
export function installMock(): void {
  mockIPC(
    (cmd, payload) => {
      const handler = (handlers as Record<string, (a: Args) => unknown>)[cmd];
      if (!handler) throw { kind: "invalid", message: `mock: unknown command ${cmd}` };
      // Like real IPC, every answer is a fresh copy.
      const answer = handler((payload ?? {}) as Args);
      return answer === undefined ? undefined : structuredClone(answer);
    },
    { shouldMockEvents: true },
  );
  mockConvertFileSrc("linux");
  setInterval(() => {
    posts.unshift(makePost(FRIENDS[1], `Live post at ${new Date().toLocaleTimeString()}`, Date.now()));
    const event: Event = { kind: "received", peer: FRIENDS[1], space: "x", accepted: 1 };
    void emit("net", event);
  }, 20_000);
}
