// Splits post text into plain text, web links, #hashtags and @mentions, so
// they can be rendered as elements built from text without ever
// interpreting markup.

/** A piece of post text: literal text, an http(s) link, a hashtag (`tag`
 *  lower case, as the core indexes it) or a mention of a name. */
export type Segment =
  | { kind: "text"; text: string }
  | { kind: "link"; text: string; href: string }
  | { kind: "tag"; text: string; tag: string }
  | { kind: "mention"; text: string; name: string };

/** A hashtag as the core's `hashtag.rs` finds it: `#` not after a letter,
 *  digit, `_`, `/`, `&` or `#`; letters, digits and `_`; one letter at
 *  least; 64 characters at most. */
const TAG_PATTERN = /(?<![\p{L}\p{N}_/&#])#([\p{L}\p{N}_]+)/gu;
const MENTION_PATTERN = /(?<![\p{L}\p{N}_@])@([\p{L}\p{N}_]+)/gu;
const MAX_TAG_CHARS = 64;

/** The tags and mentions in a piece of plain text, as segments. */
function words(text: string): Segment[] {
  const found: { start: number; end: number; segment: Segment }[] = [];
  for (const m of text.matchAll(TAG_PATTERN)) {
    const word = m[1];
    if ([...word].length > MAX_TAG_CHARS || !/\p{L}/u.test(word)) continue;
    const start = m.index ?? 0;
    found.push({ start, end: start + m[0].length, segment: { kind: "tag", text: m[0], tag: word.toLowerCase() } });
  }
  for (const m of text.matchAll(MENTION_PATTERN)) {
    const start = m.index ?? 0;
    if (found.some((f) => start < f.end && f.start < start + m[0].length)) continue;
    found.push({ start, end: start + m[0].length, segment: { kind: "mention", text: m[0], name: m[1] } });
  }
  found.sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  let last = 0;
  for (const f of found) {
    if (f.start > last) out.push({ kind: "text", text: text.slice(last, f.start) });
    out.push(f.segment);
    last = f.end;
  }
  if (last < text.length) out.push({ kind: "text", text: text.slice(last) });
  return out;
}

const URL_PATTERN = /https?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'"\]}>]+$/;

/** The URL without punctuation that more likely ends the sentence than the link. */
function trimUrl(candidate: string): string {
  let url = candidate.replace(TRAILING_PUNCTUATION, "");
  // A closing parenthesis belongs to the URL only if it opens one too.
  while (url.endsWith(")") && count(url, "(") < count(url, ")")) {
    url = url.slice(0, -1).replace(TRAILING_PUNCTUATION, "");
  }
  return url;
}

function count(text: string, ch: string): number {
  return text.split(ch).length - 1;
}

/** The normalised href if `url` is a valid http: or https: URL, else null. */
export function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
    if (!parsed.hostname) return null;
    return parsed.href;
  } catch {
    return null;
  }
}

/** Splits `text` into segments; only http: and https: URLs become links;
 *  hashtags and mentions are found outside links. */
export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  const pushText = (t: string) => {
    if (!t) return;
    for (const w of words(t)) {
      const prev = segments[segments.length - 1];
      if (w.kind === "text" && prev && prev.kind === "text") prev.text += w.text;
      else segments.push(w);
    }
  };
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    const url = trimUrl(match[0]);
    const href = safeHref(url);
    pushText(text.slice(last, start));
    if (href) {
      segments.push({ kind: "link", text: url, href });
    } else {
      pushText(url);
    }
    last = start + url.length;
  }
  pushText(text.slice(last));
  return segments;
}
