// Unread counts on the Notifications and Messages tabs (and in the
// window's title): what arrived after the user last looked, remembered per
// device in the webview's storage. Nothing from before the first count
// is unread.

import { api, type Conversation, type Notification } from "./api";
import { t } from "./i18n";
import { storage } from "./webStorage";

/** The counts the navigation shows. */
export const unread = $state({ notifications: 0, messages: 0 });

const SEEN = "starling.seen.";

/** When this device first counted (ms): nothing older is unread. */
function firstCount(): number {
  const s = storage();
  const held = Number(s?.getItem(SEEN + "since"));
  if (Number.isFinite(held) && held > 0) return held;
  const now = Date.now();
  s?.setItem(SEEN + "since", String(now));
  return now;
}

/** When the user last looked at `what` (ms). */
function seen(what: string): number {
  const held = Number(storage()?.getItem(SEEN + what));
  return Number.isFinite(held) && held > 0 ? held : firstCount();
}

function markSeen(what: string, at: number): void {
  if (at > seen(what)) storage()?.setItem(SEEN + what, String(at));
}

/** The unread count a navigation entry (by its test id) shows, if any. */
export function badgeOf(testid: string): number {
  if (testid === "nav-notifications") return unread.notifications;
  if (testid === "nav-messages") return unread.messages;
  return 0;
}

/** The count last sent to the app's icon (-1: none yet). */
let badgeShown = -1;

/** Notifications newer than `since`. */
export function unreadNotifications(items: Notification[], since: number): number {
  return items.filter((n) => n.timestamp > since).length;
}

/** Conversations whose newest message, from the other side, is newer
 *  than when each was last read (by the identity written with). */
export function unreadConversations(items: Conversation[], me: string, since: (identity: string) => number): number {
  return items.filter((c) => c.last && c.last.author !== me && c.last.timestamp > since(c.with)).length;
}

/** Counts again from the store; returns what it counted from. */
export async function refreshUnread(me: string): Promise<{ notes: Notification[]; convs: Conversation[] }> {
  const [notes, convs] = await Promise.all([
    api.notifications().catch(() => [] as Notification[]),
    api.conversations().catch(() => [] as Conversation[]),
  ]);
  unread.notifications = unreadNotifications(notes, seen("notifications"));
  unread.messages = unreadConversations(convs, me, (id) => seen(`dm.${id}`));
  const total = unread.notifications + unread.messages;
  document.title = total > 0 ? t("app.titleUnread", { count: total }) : t("app.title");
  if (total !== badgeShown) {
    badgeShown = total;
    // The dock or taskbar icon's count: where no dock shows one, nothing.
    void api.setBadge(total).catch(() => undefined);
  }
  return { notes, convs };
}

/** The user saw the notifications up to the newest of `items`. */
export function sawNotifications(items: Notification[], me: string): void {
  const newest = Math.max(0, ...items.map((n) => n.timestamp));
  markSeen("notifications", Math.max(newest, Date.now()));
  void refreshUnread(me);
}

/** The user read the conversation with `identity` up to `newest`. */
export function sawConversation(identity: string, newest: number, me: string): void {
  markSeen(`dm.${identity}`, Math.max(newest, Date.now()));
  void refreshUnread(me);
}
