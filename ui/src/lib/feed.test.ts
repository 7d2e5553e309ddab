import { describe, expect, it } from "vitest";
import type { Post } from "./api";
import { appendPage, mergeFirstPage, newPosts, refreshInPlace } from "./feed";

function post(id: string, timestamp: number, text = id): Post {
  return {
    id, author: "a", author_name: null, text, timestamp, reply_to: null, quote_of: null,
    likes: 0, reposts: 0, liked_by_me: false, reposted_by_me: false, edited: false, images: [], alts: [], group: null,
    author_avatar: null, reply_to_author: null, reply_to_name: null, quoted: null,
  };
}

describe("feed merging", () => {
  const current = { posts: [post("c", 30), post("b", 20), post("a", 10)], next: "cursor-a" };

  it("finds posts newer than the shown ones", () => {
    expect(newPosts(current.posts, [post("e", 50), post("d", 40), post("c", 30)]).map((p) => p.id)).toEqual(["e", "d"]);
    expect(newPosts([], [post("x", 1)]).map((p) => p.id)).toEqual(["x"]);
  });

  it("prepends new posts and keeps older loaded ones", () => {
    const merged = mergeFirstPage(current, { posts: [post("d", 40), post("c", 30)], next: "cursor-c" });
    expect(merged.posts.map((p) => p.id)).toEqual(["d", "c", "b", "a"]);
    expect(merged.next).toBe("cursor-a");
  });

  it("drops a deleted post inside the span the page covers", () => {
    const merged = mergeFirstPage(current, { posts: [post("d", 40), post("b", 20)], next: "cursor-b" });
    expect(merged.posts.map((p) => p.id)).toEqual(["d", "b", "a"]);
  });

  it("takes the page whole when it is the entire timeline", () => {
    const merged = mergeFirstPage(current, { posts: [post("d", 40), post("a", 10)], next: null });
    expect(merged).toEqual({ posts: [post("d", 40), post("a", 10)], next: null });
  });

  it("updates edited posts in place", () => {
    const edited = post("b", 20, "new text");
    const out = refreshInPlace(current.posts, [edited, post("zz", 99)]);
    expect(out.map((p) => p.text)).toEqual(["c", "new text", "a"]);
    expect(refreshInPlace(current.posts, [post("zz", 99)])).toBe(current.posts);
  });

  it("appends a page without duplicates", () => {
    const out = appendPage(current, { posts: [post("a", 10), post("z", 5)], next: null });
    expect(out.posts.map((p) => p.id)).toEqual(["c", "b", "a", "z"]);
    expect(out.next).toBeNull();
  });
});
