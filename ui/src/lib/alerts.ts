// Notifications of the operating system (a desktop's notification
// centre, a phone's lock screen) for what someone did for this user:
// replies, mentions, messages and posts in groups. Likes and reposts stay
// inside the app. Nothing is raised for what the user is looking at, nor
// for what arrived before this device first counted; at most a few at once.

import type { Conversation, Notification, Post } from "./api";
import { parseRoute, type Route } from "./router";
import { t } from "./i18n";
import { storage } from "./webStorage";

/** One notification for the operating system to show. */
export interface Alert {
  /** What happened and who did it ("Bob replied"). */
  title: string;
  /** The post or message, shortened. */
  body: string;
  /** When it happened (ms). */
  at: number;
  /** The screen that shows it. */
  route: Route;
}

/** Most notifications raised for one batch; past it, one says how many more. */
export const MAX_ALERTS = 3;
/** Longest body, in characters. */
const BODY_CHARS = 140;

const KEY = "starling.alerts.";

/** Whether the user wants notifications from the system (Settings; on by default). */
export function alertsEnabled(): boolean {
  return storage()?.getItem(KEY + "off") !== "1";
}

export function setAlertsEnabled(on: boolean): void {
  if (on) storage()?.removeItem(KEY + "off");
  else storage()?.setItem(KEY + "off", "1");
}

/** Up to when (ms) alerts of one source (`notes`, `dm`, `group.ID`) were
 *  raised: nothing at or before it is raised again. Starts at the first
 *  look, so old news is never raised. */
export function alertedUntil(source: string, now: number = Date.now()): number {
  const s = storage();
  const held = Number(s?.getItem(`${KEY}until.${source}`));
  if (Number.isFinite(held) && held > 0) return held;
  s?.setItem(`${KEY}until.${source}`, String(now));
  return now;
}

export function setAlertedUntil(source: string, at: number): void {
  if (at > alertedUntil(source, at)) storage()?.setItem(`${KEY}until.${source}`, String(at));
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > BODY_CHARS ? `${flat.slice(0, BODY_CHARS - 1)}…` : flat;
}

function nameOf(name: string | null, id: string): string {
  return name ?? `${id.slice(0, 8)}…`;
}

function bodyOf(post: Post): string {
  const text = shorten(post.text);
  if (text) return text;
  return t("alerts.images", { count: post.images.length });
}

/** Replies and mentions newer than `since`. */
export function notificationAlerts(items: Notification[], since: number): Alert[] {
  return items
    .filter((n) => n.timestamp > since && (n.kind === "reply" || n.kind === "mention"))
    .map((n) => ({
      title: t(n.kind === "reply" ? "alerts.replied" : "alerts.mentioned", { name: nameOf(n.from_name, n.from) }),
      body: bodyOf(n.post),
      at: n.timestamp,
      route: { name: "post", id: n.post.id },
    }));
}

/** Conversations whose newest message is from the other side and newer than `since`. */
export function messageAlerts(items: Conversation[], me: string, since: number): Alert[] {
  return items
    .filter((c) => c.last && c.last.author !== me && c.last.timestamp > since)
    .map((c) => ({
      title: t("alerts.message", { name: nameOf(c.name, c.with) }),
      body: bodyOf(c.last),
      at: c.last.timestamp,
      route: { name: "dm", id: c.with },
    }));
}

/** Others' posts in the group `name` newer than `since`. */
export function groupAlerts(group: { id: string; name: string | null }, posts: Post[], me: string, since: number): Alert[] {
  return posts
    .filter((p) => p.author !== me && p.timestamp > since)
    .map((p) => ({
      title: t("alerts.inGroup", { name: nameOf(p.author_name, p.author), group: group.name ?? t("alerts.aGroup") }),
      body: bodyOf(p),
      at: p.timestamp,
      route: { name: "group", id: group.id },
    }));
}

/** Whether the user is looking at the screen that shows `alert`: the
 *  window has focus and shows that screen (or the list it belongs to). */
export function looking(alert: Alert, hash: string, focused: boolean): boolean {
  if (!focused) return false;
  const here = parseRoute(hash);
  const there = alert.route;
  if (here.name === there.name && "id" in here && "id" in there) return here.id === there.id;
  if (there.name === "post") return here.name === "notifications";
  if (there.name === "dm") return here.name === "messages";
  return false;
}

/** Of `alerts`, the ones to raise (newest first, at most [`MAX_ALERTS`],
 *  then one that counts the rest), leaving out what the user is looking at. */
export function toRaise(alerts: Alert[], hash: string, focused: boolean): Alert[] {
  const shown = alerts.filter((a) => !looking(a, hash, focused)).sort((a, b) => b.at - a.at);
  if (shown.length <= MAX_ALERTS) return shown;
  const rest = shown.length - (MAX_ALERTS - 1);
  return [
    ...shown.slice(0, MAX_ALERTS - 1),
    { title: t("app.name"), body: t("alerts.more", { count: rest }), at: shown[MAX_ALERTS - 1].at, route: { name: "notifications" } },
  ];
}
