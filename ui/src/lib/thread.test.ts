import { describe, expect, it } from "vitest";
import type { Post } from "./api";
import { arrangeThread } from "./thread";

function post(id: string, timestamp: number, reply_to: string | null): Post {
  return {
    id, author: "a", author_name: null, text: id, timestamp, reply_to, quote_of: null,
    likes: 0, reposts: 0, liked_by_me: false, reposted_by_me: false, edited: false, images: [], alts: [], group: null,
    author_avatar: null, reply_to_author: null, reply_to_name: null, quoted: null,
  };
}

describe("arrangeThread", () => {
  it("puts ancestors above and replies below", () => {
    const posts = [post("r2", 50, "p"), post("root", 10, null), post("p", 20, "root"), post("r1", 30, "p")];
    const view = arrangeThread(posts, "p");
    expect(view.ancestors.map((p) => p.id)).toEqual(["root"]);
    expect(view.focus?.id).toBe("p");
    expect(view.replies.map((p) => p.id)).toEqual(["r1", "r2"]);
  });

  it("survives a missing post and a reply loop", () => {
    expect(arrangeThread([], "x").focus).toBeNull();
    const loop = [post("a", 1, "b"), post("b", 2, "a")];
    const view = arrangeThread(loop, "a");
    expect(view.ancestors.map((p) => p.id)).toEqual(["b"]);
    expect(view.replies).toEqual([]);
  });
});
