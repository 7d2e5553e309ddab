import { describe, expect, it } from "vitest";
import { MAX_TEXT_BYTES, bytesLeft, clearDraft, counterText, draftKey, loadDraft, saveDraft } from "./drafts";

describe("drafts", () => {
  it("are kept per place and dropped when posted or emptied", () => {
    const feed = draftKey({});
    const reply = draftKey({ replyTo: "ab" });
    saveDraft(feed, "half a thought");
    saveDraft(reply, "a reply");
    expect(loadDraft(feed)).toBe("half a thought");
    expect(loadDraft(reply)).toBe("a reply");
    expect(loadDraft(draftKey({ quoteOf: "ab" }))).toBe("");
    clearDraft(feed);
    expect(loadDraft(feed)).toBe("");
    saveDraft(reply, "");
    expect(loadDraft(reply)).toBe("");
  });

  it("for a group stay out of the webview's storage", () => {
    const key = draftKey({ space: "g1" });
    saveDraft(key, "private words");
    expect(loadDraft(key)).toBe("private words");
    const stored = globalThis.localStorage ? Object.keys(globalThis.localStorage) : [];
    expect(stored.some((k) => k.includes("g1"))).toBe(false);
    clearDraft(key);
  });
});

describe("the counter", () => {
  it("counts UTF-8 bytes and shows only near the limit", () => {
    expect(bytesLeft("")).toBe(MAX_TEXT_BYTES);
    expect(bytesLeft("é")).toBe(MAX_TEXT_BYTES - 2);
    expect(bytesLeft("🐦")).toBe(MAX_TEXT_BYTES - 4);
    expect(counterText(bytesLeft("short"))).toBeNull();
    expect(counterText(10)).toBe("10 left");
    expect(counterText(0)).toBe("0 left");
    expect(counterText(-3)).toBe("3 over");
  });
});
