import { cleanup, render } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import { invoke } from "@tauri-apps/api/core";
import type { Post as PostData } from "../lib/api";
import Post from "./Post.svelte";

vi.mock("@tauri-apps/api/core", () => ({
  invoke: vi.fn(() => Promise.resolve()),
  convertFileSrc: (path: string, protocol: string) => `http://${protocol}.localhost/${path}`,
}));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn(() => Promise.resolve(() => {})) }));

function post(text: string, extra: Partial<PostData> = {}): PostData {
  return {
    id: "ab".repeat(32),
    author: "cd".repeat(32),
    author_name: "Mallory <b>",
    text,
    timestamp: Date.now() - 5 * 60_000,
    reply_to: null,
    quote_of: null,
    likes: 2,
    reposts: 1,
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

describe("Post", () => {
  afterEach(cleanup);

  it("shows markup in post text as literal text", () => {
    const xss = "<img src=x onerror=alert(1)>";
    const { container, getByTestId } = render(Post, { post: post(xss) });
    expect(container.querySelector("img")).toBeNull();
    expect(getByTestId("post-text").textContent).toBe(xss);
    expect(getByTestId("post-text").children).toHaveLength(0);
  });

  it("renders the author name as text too", () => {
    const { container, getByText } = render(Post, { post: post("hi") });
    expect(getByText("Mallory <b>")).toBeTruthy();
    expect(container.querySelector("b")).toBeNull();
  });

  it("links only http(s) URLs, opened by the shell in the system browser", () => {
    const text = "see https://example.org/x and javascript:alert(1)";
    const { getByTestId } = render(Post, { post: post(text) });
    const body = getByTestId("post-text");
    const links = body.querySelectorAll("a");
    expect(links).toHaveLength(1);
    expect(links[0].getAttribute("href")).toBe("https://example.org/x");
    expect(links[0].getAttribute("rel")).toBe("noopener noreferrer");
    expect(links[0].getAttribute("target")).toBeNull();
    expect(body.textContent).toBe(text);
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    links[0].dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(invoke).toHaveBeenCalledWith("open_link", { url: "https://example.org/x" });
  });

  it("carries the test ids, counts, and image URLs from the blob protocol", () => {
    const p = post("pic", { images: ["h1", "h2"] });
    const { getByTestId, getAllByTestId } = render(Post, { post: p });
    expect(getByTestId("post").getAttribute("data-id")).toBe(p.id);
    for (const id of ["post-like", "post-reply", "post-quote", "post-repost"]) expect(getByTestId(id)).toBeTruthy();
    expect(getByTestId("post-likes").textContent).toBe("2");
    const images = getAllByTestId("post-image");
    expect(images.map((i) => i.getAttribute("src"))).toEqual([
      `http://starling-media.localhost/${p.author}/h1`,
      `http://starling-media.localhost/${p.author}/h2`,
    ]);
    expect(images.every((i) => i.getAttribute("alt"))).toBe(true);
  });

  it("gives each image its author's description, marked ALT, and opens the viewer on a click", async () => {
    const { viewer, closeViewer } = await import("../lib/viewer.svelte");
    const p = post("pic", { images: ["h1", "h2"], alts: ["", "Two starlings on a wire"] });
    const { getAllByTestId } = render(Post, { post: p });
    const images = getAllByTestId("post-image");
    expect(images[1].getAttribute("alt")).toBe("Two starlings on a wire");
    expect(images[0].getAttribute("alt")).toMatch(/^Image 1 of 2/);
    expect(getAllByTestId("post-image-alt-badge")).toHaveLength(1);
    getAllByTestId("post-image-open")[1].click();
    expect(viewer.showing?.index).toBe(1);
    expect(viewer.showing?.alts[1]).toBe("Two starlings on a wire");
    closeViewer();
  });

  it("shows the user's own like as pressed, and takes it back or gives it again on a click", async () => {
    const p = post("liked", { likes: 2, liked_by_me: true });
    const { getByTestId } = render(Post, { post: p });
    const button = getByTestId("post-like");
    expect(button.getAttribute("aria-pressed")).toBe("true");
    vi.mocked(invoke).mockResolvedValueOnce({ ...p, likes: 1, liked_by_me: false });
    button.click();
    await vi.waitFor(() => expect(getByTestId("post-likes").textContent).toBe("1"));
    expect(invoke).toHaveBeenCalledWith("unlike", { id: p.id });
    expect(button.getAttribute("aria-pressed")).toBe("false");
    expect(button.getAttribute("aria-label")).toBe("Like (1)");
    button.click();
    await vi.waitFor(() => expect(getByTestId("post-likes").textContent).toBe("2"));
    expect(invoke).toHaveBeenCalledWith("like", { id: p.id });
    expect(button.getAttribute("aria-pressed")).toBe("true");
    expect(button.getAttribute("aria-label")).toBe("Unlike (2)");
  });

  it("bookmarks a post and takes the bookmark back", async () => {
    const p = post("worth keeping");
    const { getByTestId } = render(Post, { post: p });
    const button = getByTestId("post-bookmark");
    expect(button.getAttribute("aria-pressed")).toBe("false");
    vi.mocked(invoke).mockResolvedValueOnce([p.id]);
    button.click();
    await vi.waitFor(() => expect(button.getAttribute("aria-pressed")).toBe("true"));
    expect(invoke).toHaveBeenCalledWith("bookmark", { id: p.id });
    vi.mocked(invoke).mockResolvedValueOnce([]);
    button.click();
    await vi.waitFor(() => expect(button.getAttribute("aria-pressed")).toBe("false"));
    expect(invoke).toHaveBeenCalledWith("unbookmark", { id: p.id });
  });

  it("shows edit and delete only on the user's own posts", async () => {
    const { session } = await import("../lib/session.svelte");
    const p = post("mine");
    const other = render(Post, { post: p });
    expect(other.queryByTestId("post-edit")).toBeNull();
    cleanup();
    session.me = { identity: p.author, device: "d", name: "me" };
    const own = render(Post, { post: p });
    expect(own.getByTestId("post-edit")).toBeTruthy();
    expect(own.getByTestId("post-delete")).toBeTruthy();
    session.me = null;
  });
});
