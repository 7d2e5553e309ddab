import { describe, expect, it } from "vitest";
import { linkify, safeHref } from "./linkify";

describe("linkify", () => {
  it("keeps plain text as one segment", () => {
    expect(linkify("hello world")).toEqual([{ kind: "text", text: "hello world" }]);
  });

  it("returns nothing for empty text", () => {
    expect(linkify("")).toEqual([]);
  });

  it("links http and https URLs", () => {
    expect(linkify("see https://example.com/a?b=1 and http://x.org")).toEqual([
      { kind: "text", text: "see " },
      { kind: "link", text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
      { kind: "text", text: " and " },
      { kind: "link", text: "http://x.org", href: "http://x.org/" },
    ]);
  });

  it("leaves sentence punctuation outside the link", () => {
    const s = linkify("go to https://example.com/page.");
    expect(s[1]).toEqual({ kind: "link", text: "https://example.com/page", href: "https://example.com/page" });
    expect(s[2]).toEqual({ kind: "text", text: "." });
  });

  it("keeps balanced parentheses and drops an unbalanced closing one", () => {
    expect(linkify("(https://en.wikipedia.org/wiki/Foo_(bar))")[1]).toMatchObject({
      kind: "link",
      text: "https://en.wikipedia.org/wiki/Foo_(bar)",
    });
  });

  it("never links javascript: or data: URLs", () => {
    for (const text of ["javascript:alert(1)", "JavaScript:alert(document.cookie)", "data:text/html,<b>x</b>"]) {
      const segments = linkify(text);
      expect(segments.every((s) => s.kind === "text")).toBe(true);
      expect(segments.map((s) => s.text).join("")).toBe(text);
    }
  });

  it("keeps markup as literal text", () => {
    const xss = "<img src=x onerror=alert(1)>";
    expect(linkify(xss)).toEqual([{ kind: "text", text: xss }]);
  });

  it("does not let a quote or angle bracket into a link", () => {
    const s = linkify('https://a.com/"><script>');
    expect(s[0]).toEqual({ kind: "link", text: "https://a.com/", href: "https://a.com/" });
    expect(s.map((x) => x.text).join("")).toBe('https://a.com/"><script>');
  });

  it("reassembles to the original text", () => {
    const text = "a https://x.y/z, b (http://q.r) c https://";
    expect(linkify(text).map((s) => s.text).join("")).toBe(text);
  });
});

describe("safeHref", () => {
  it("accepts only http and https", () => {
    expect(safeHref("https://a.b/")).toBe("https://a.b/");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("ftp://a.b/")).toBeNull();
    expect(safeHref("not a url")).toBeNull();
  });

  it("finds hashtags and mentions as the core does, outside links", () => {
    expect(linkify("#Birds at dusk with @Ann, see https://x.org/#anchor a#b &#38; #123")).toEqual([
      { kind: "tag", text: "#Birds", tag: "birds" },
      { kind: "text", text: " at dusk with " },
      { kind: "mention", text: "@Ann", name: "Ann" },
      { kind: "text", text: ", see " },
      { kind: "link", text: "https://x.org/#anchor", href: "https://x.org/#anchor" },
      { kind: "text", text: " a#b &#38; #123" },
    ]);
    expect(linkify("(#Été_2026) mail@example.org")).toEqual([
      { kind: "text", text: "(" },
      { kind: "tag", text: "#Été_2026", tag: "été_2026" },
      { kind: "text", text: ") mail@example.org" },
    ]);
    expect(linkify(`#${"a".repeat(65)}`)).toEqual([{ kind: "text", text: `#${"a".repeat(65)}` }]);
  });
});
