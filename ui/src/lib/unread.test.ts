import { describe, expect, it } from "vitest";
import type { Conversation, Notification, Post } from "./api";
import { unreadConversations, unreadNotifications } from "./unread.svelte";

const post = (author: string, timestamp: number) => ({ author, timestamp }) as Post;

describe("unread counts", () => {
  it("count notifications newer than the last look", () => {
    const items = [100, 200, 300].map((timestamp) => ({ timestamp }) as Notification);
    expect(unreadNotifications(items, 150)).toBe(2);
    expect(unreadNotifications(items, 300)).toBe(0);
  });

  it("count conversations whose newest message is theirs and new", () => {
    const convs = [
      { with: "a", last: post("them", 500) },
      { with: "b", last: post("me", 900) },
      { with: "c", last: post("them", 100) },
    ] as Conversation[];
    const since = (id: string) => ({ a: 400, b: 0, c: 200 })[id] ?? 0;
    expect(unreadConversations(convs, "me", since)).toBe(1);
  });
});
