import { beforeEach, describe, expect, it } from "vitest";
import type { Conversation, Notification, Post } from "./api";
import {
  MAX_ALERTS,
  alertedUntil,
  alertsEnabled,
  groupAlerts,
  looking,
  messageAlerts,
  notificationAlerts,
  setAlertedUntil,
  setAlertsEnabled,
  toRaise,
  type Alert,
} from "./alerts";

const post = (author: string, timestamp: number, text = "hello", id = `p${timestamp}`) =>
  ({ id, author, author_name: null, timestamp, text, images: [] }) as unknown as Post;

const note = (kind: Notification["kind"], timestamp: number): Notification =>
  ({ kind, from: "bobid0000000", from_name: "Bob", post: post("bob", timestamp, "a reply"), timestamp }) as Notification;

describe("what is raised", () => {
  beforeEach(() => localStorage.clear());

  it("raises replies and mentions, never likes or reposts, and only news", () => {
    const items = [note("reply", 300), note("mention", 250), note("like", 400), note("repost", 500), note("reply", 100)];
    const raised = notificationAlerts(items, 200);
    expect(raised.map((a) => a.title)).toEqual(["Bob replied", "Bob mentioned you"]);
    expect(raised[0].body).toBe("a reply");
    expect(raised[0].route).toEqual({ name: "post", id: "p300" });
  });

  it("raises messages from the other side and posts of others in a group", () => {
    const convs = [
      { with: "bob", name: "Bob", last: post("bob", 500, "psst") },
      { with: "cat", name: null, last: post("me", 600) },
    ] as Conversation[];
    expect(messageAlerts(convs, "me", 100).map((a) => [a.title, a.body])).toEqual([["Message from Bob", "psst"]]);
    const posts = [post("bob", 700, "chorus"), post("me", 800)];
    expect(groupAlerts({ id: "g", name: "Choir" }, posts, "me", 100).map((a) => a.title)).toEqual(["bob… in Choir"]);
  });

  it("shortens long bodies and names an image-only post", () => {
    const long = notificationAlerts([{ ...note("reply", 300), post: post("bob", 300, "x".repeat(500)) }], 0)[0];
    expect(long.body.length).toBe(140);
    const pic = { ...post("bob", 300, ""), images: ["h"] } as Post;
    expect(notificationAlerts([{ ...note("reply", 300), post: pic }], 0)[0].body).toBe("An image");
  });

  it("leaves out what the user is looking at in a focused window", () => {
    const reply: Alert = { title: "t", body: "b", at: 1, route: { name: "post", id: "p1" } };
    const dm: Alert = { title: "t", body: "b", at: 2, route: { name: "dm", id: "bob" } };
    expect(looking(reply, "#/notifications", true)).toBe(true);
    expect(looking(reply, "#/notifications", false)).toBe(false);
    expect(looking(dm, "#/dm/bob", true)).toBe(true);
    expect(looking(dm, "#/dm/cat", true)).toBe(false);
    expect(looking(dm, "#/home", true)).toBe(false);
    expect(toRaise([reply, dm], "#/messages", true)).toEqual([reply]);
  });

  it("raises at most a few, newest first, then one that counts the rest", () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ title: `n${i}`, body: "", at: i, route: { name: "home" } }) as Alert);
    const raised = toRaise(many, "#/home", false);
    expect(raised).toHaveLength(MAX_ALERTS);
    expect(raised.slice(0, MAX_ALERTS - 1).map((a) => a.title)).toEqual(["n6", "n5"]);
    expect(raised[MAX_ALERTS - 1].body).toMatch(/^5 more/);
  });

  it("remembers up to when it raised, per source, starting at the first look", () => {
    expect(alertedUntil("notes", 1000)).toBe(1000);
    expect(alertedUntil("notes", 5000)).toBe(1000);
    setAlertedUntil("notes", 2000);
    setAlertedUntil("notes", 1500);
    expect(alertedUntil("notes")).toBe(2000);
    expect(alertedUntil("dm", 42)).toBe(42);
  });

  it("can be turned off", () => {
    expect(alertsEnabled()).toBe(true);
    setAlertsEnabled(false);
    expect(alertsEnabled()).toBe(false);
    setAlertsEnabled(true);
    expect(alertsEnabled()).toBe(true);
  });
});
