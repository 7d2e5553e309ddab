// Splits post text into plain text and web links, so links can be rendered
// as `<a>` elements built from text without ever interpreting markup.

/** A piece of post text: either literal text or an http(s) link. */
export type Segment =
  | { kind: "text"; text: string }
  | { kind: "link"; text: string; href: string };

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

/** Splits `text` into segments; only http: and https: URLs become links. */
export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  const pushText = (t: string) => {
    if (!t) return;
    const prev = segments[segments.length - 1];
    if (prev && prev.kind === "text") prev.text += t;
    else segments.push({ kind: "text", text: t });
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
