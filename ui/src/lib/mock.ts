// A pretend shell for looking at the UI in a plain browser (`npm run dev`
// outside Tauri). Only main.ts loads it, only in dev builds and only when
// the Tauri internals are missing; the real app never does.
import { emit } from "@tauri-apps/api/event";
import { mockConvertFileSrc, mockIPC } from "@tauri-apps/api/mocks";
import type { Conversation, Device, Group, NetEvent, Notification, Post, Profile } from "./api";

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
    edited: false,
    images: [],
    ...extra,
  };
}

const now = Date.now();
const posts: Post[] = Array.from({ length: 10_000 }, (_, i) =>
  makePost(FRIENDS[i % FRIENDS.length], `${SAMPLE[i % SAMPLE.length]} (#${10_000 - i})`, now - i * 97_000),
);
const groups: Group[] = [];
const dms: Post[] = [makePost(FRIENDS[0], "Hi! This is a direct message.", now - 3_600_000)];
const devices: Device[] = [
  { device: "f0".repeat(32), name: "This laptop", this_device: true, revoked: false, linked_at: now - 86_400_000 * 30 },
  { device: "f1".repeat(32), name: "Old phone", this_device: false, revoked: false, linked_at: now - 86_400_000 * 90 },
];
let settings = { relay: "default", local_discovery: true, home: "/home/you/.local/share/starling" };
let me: { identity: string; device: string; name: string | null } | null =
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
  };
}

type Args = Record<string, unknown>;
const handlers: Record<string, (a: Args) => unknown> = {
  status: () => ({ home: settings.home, me }),
  create_identity: (a) => (me = { identity: ME, device: devices[0].device, name: String(a.name) }),
  ticket: () => ({ text: `starling1${ME}mockticket`, svg: QR }),
  timeline: (a) => page(posts.filter((p) => !p.group), Number(a.limit), (a.before as string) ?? null),
  author_posts: (a) => page(posts.filter((p) => p.author === a.identity), Number(a.limit), (a.before as string) ?? null),
  thread: (a) => {
    const root = posts.find((p) => p.id === a.id);
    return root ? [root, ...posts.filter((p) => p.reply_to === a.id)] : [];
  },
  search: (a) => posts.filter((p) => p.text.toLowerCase().includes(String(a.query).toLowerCase())).slice(0, 50),
  notifications: (): Notification[] =>
    posts.slice(0, 5).map((p, i) => ({ kind: (["reply", "mention", "like", "repost", "quote"] as const)[i], from: p.author, from_name: p.author_name, post: p, timestamp: p.timestamp })),
  post: (a) => {
    const n = a.post as { text: string; reply_to?: string; quote_of?: string; group?: string; images?: unknown[] };
    const p = makePost(ME, n.text, Date.now(), { reply_to: n.reply_to ?? null, quote_of: n.quote_of ?? null, group: n.group ?? null });
    posts.unshift(p);
    return p.id;
  },
  like: () => undefined,
  repost: () => undefined,
  edit: (a) => {
    const p = posts.find((x) => x.id === a.id);
    if (p) Object.assign(p, { text: a.text, edited: true });
  },
  delete: (a) => {
    const i = posts.findIndex((x) => x.id === a.id);
    if (i >= 0) posts.splice(i, 1);
  },
  profile: (a) => profile((a.identity as string) ?? ME),
  set_profile: (a) => {
    if (a.name) NAMES[ME] = String(a.name);
  },
  following: () => FRIENDS.map(profile),
  follow: (a) => {
    if (!String(a.ticket).startsWith("starling1")) throw "not a ticket: expected text starting with starling1";
    return FRIENDS[0];
  },
  scan_image: () => `starling1${FRIENDS[1]}`,
  unfollow: () => undefined,
  mute: () => undefined,
  unmute: () => undefined,
  block: () => undefined,
  unblock: () => undefined,
  groups: () => groups,
  group: (a) => {
    const g = groups.find((x) => x.id === a.id);
    if (!g) throw "no such group";
    return g;
  },
  group_create: (a) => {
    const id = `9${groups.length}`.repeat(32);
    groups.push({ id, name: String(a.name), description: (a.description as string) ?? null, admins: [ME], members: [{ identity: ME, name: "You", role: "admin" }, { identity: FRIENDS[0], name: "Ada", role: "member" }], is_admin: true });
    return id;
  },
  group_invite: () => ({ text: "starling1groupinvitemock", svg: QR }),
  group_join: () => {
    throw "this invite has expired";
  },
  group_timeline: (a) => page(posts.filter((p) => p.group === a.id), Number(a.limit), (a.before as string) ?? null),
  group_remove: (a) => {
    const g = groups.find((x) => x.id === a.id);
    if (g) g.members = g.members.filter((m) => m.identity !== a.member);
  },
  group_leave: (a) => {
    const i = groups.findIndex((x) => x.id === a.id);
    if (i >= 0) groups.splice(i, 1);
  },
  conversations: (): Conversation[] => [{ identity: FRIENDS[0], name: "Ada", last: dms[dms.length - 1] }],
  messages: () => dms,
  dm: (a) => void dms.push(makePost(ME, String(a.text), Date.now())),
  devices: () => devices,
  device_link: () => ({ text: "starling1devicelinkmock", svg: QR }),
  device_revoke: (a) => {
    const d = devices.find((x) => x.device === a.device);
    if (d) d.revoked = true;
  },
  settings: () => settings,
  set_settings: (a) => (settings = { ...settings, relay: String(a.relay), local_discovery: Boolean(a.localDiscovery) }),
  export_bundle: () => `${settings.home}/bundle-${Date.now()}.starling`,
  import_bundle: () => ({ accepted: 12, known: 3, rejected: 0 }),
  net_status: () => ({ online: true, peers: 3, syncing: null, listening: [], error: null }),
  first_paint: () => Math.round(performance.now()),
  sync_now: () => undefined,
};

/** Installs the pretend shell, and every 20 s a friend posts. */
export function installMock(): void {
  mockIPC(
    (cmd, payload) => {
      const handler = handlers[cmd];
      if (!handler) throw `mock: unknown command ${cmd}`;
      // Like real IPC, every answer is a fresh copy.
      const answer = handler((payload ?? {}) as Args);
      return answer === undefined ? undefined : structuredClone(answer);
    },
    { shouldMockEvents: true },
  );
  mockConvertFileSrc("linux");
  setInterval(() => {
    posts.unshift(makePost(FRIENDS[1], `Live post at ${new Date().toLocaleTimeString()}`, Date.now()));
    const event: NetEvent = { kind: "received", peer: FRIENDS[1], space: "x", accepted: 1 };
    void emit("net", event);
  }, 20_000);
}
