// Catches hard-coded English in the markup: every `.svelte` file under
// src is scanned for text between tags, and for user-visible attributes
// (aria-label, title, placeholder, alt, label, empty), that hold words
// instead of a `{t(...)}` expression. Symbols, emoji, punctuation and
// single letters (keys such as <kbd>n</kbd>) may stay literal.
import { describe, expect, it } from "vitest";

/** Every component's source, by path (read by Vite at build time). */
const sources = import.meta.glob<string>("../../**/*.svelte", { query: "?raw", import: "default", eager: true });

/** `source` with each top-level `{...}` (and what it holds, strings
 *  included) replaced by a blank. */
function withoutExpressions(source: string): string {
  let out = "";
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (depth === 0) {
      if (c === "{") depth = 1;
      else out += c;
      continue;
    }
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) out += " ";
  }
  return out;
}

/** The markup of a component: no script, style or comments, no expressions. */
function markup(source: string): string {
  const stripped = source
    .replace(/<script\b[\s\S]*?<\/script>/g, "")
    .replace(/<style\b[\s\S]*?<\/style>/g, "")
    .replace(/<!--[\s\S]*?-->/g, "");
  return withoutExpressions(stripped);
}

const WORD = /\p{L}{2,}/u;
const VISIBLE_ATTRIBUTES = /\s(aria-label|title|placeholder|alt|label|empty)="([^"]*)"/g;

/** The literal words in `source`'s markup that the user would see. */
function untranslated(source: string): string[] {
  const html = markup(source);
  const found: string[] = [];
  for (const m of html.matchAll(/>([^<>]*)</g)) {
    const text = m[1].replace(/&[a-z]+;|&#\d+;/gi, " ").trim();
    if (WORD.test(text)) found.push(text);
  }
  for (const m of html.matchAll(VISIBLE_ATTRIBUTES)) {
    if (WORD.test(m[2])) found.push(`${m[1]}="${m[2]}"`);
  }
  return found;
}

describe("the untranslated-text check", () => {
  it("finds literal words and lets expressions, symbols and keys pass", () => {
    expect(untranslated(`<p>Hello there</p>`)).toEqual(["Hello there"]);
    expect(untranslated(`<button aria-label="Close">✕</button>`)).toEqual([`aria-label="Close"`]);
    expect(untranslated(`<p>{t("a.b")} <kbd>n</kbd> · {n} / {m} ↩ ♥</p>`)).toEqual([]);
    expect(untranslated(`<a onclick={() => x > 1 && go("}")}>{t("x")}</a>`)).toEqual([]);
    expect(untranslated(`<script lang="ts">const s = "<p>Words</p>";</script><p>{s}</p>`)).toEqual([]);
    expect(untranslated(`{#if a}<span>Oops {b}</span>{/if}`)).toEqual(["Oops"]);
  });
});

describe("every component", () => {
  const files = Object.entries(sources);

  it("is found", () => {
    expect(files.length).toBeGreaterThan(20);
  });

  for (const [path, source] of files) {
    it(`${path.replace(/^(\.\.\/)+/, "src/")} has no hard-coded text`, () => {
      expect(untranslated(source)).toEqual([]);
    });
  }
});
