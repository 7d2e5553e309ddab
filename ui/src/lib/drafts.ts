// Drafts: what was typed in a compose box and not yet posted, kept per
// context (a new post, a reply to a post, a quote, a group, a conversation)
// so Escape, navigation or a closed dialog lose nothing. Public drafts (a
// feed post) also survive a restart in the webview's storage; drafts for a
// group or a conversation stay in memory only, since the store keeps those
// posts sealed at rest.

import { t } from "./i18n";
import { storage } from "./webStorage";

const PREFIX = "starling.draft.";
const memory = new Map<string, string>();

/** Where a draft belongs. */
export interface DraftPlace {
  replyTo?: string | null;
  quoteOf?: string | null;
  /** A group or conversation: private, so never written to disk. */
  space?: string | null;
}

/** The key of the draft for `place`. */
export function draftKey(place: DraftPlace): string {
  return [place.space ?? "feed", place.replyTo ?? "", place.quoteOf ?? ""].join(":");
}

function persistent(key: string): boolean {
  return key.startsWith("feed:");
}

/** The draft kept for `key`, or "". */
export function loadDraft(key: string): string {
  const held = memory.get(key);
  if (held !== undefined) return held;
  if (!persistent(key)) return "";
  return storage()?.getItem(PREFIX + key) ?? "";
}

/** Keeps `text` as the draft for `key` (an empty text drops it). */
export function saveDraft(key: string, text: string): void {
  if (text.length === 0) {
    clearDraft(key);
    return;
  }
  memory.set(key, text);
  if (persistent(key)) {
    try {
      storage()?.setItem(PREFIX + key, text);
    } catch {
      // Storage full or refused: the draft still lives in memory.
    }
  }
}

/** Drops the draft for `key` (it was posted). */
export function clearDraft(key: string): void {
  memory.delete(key);
  storage()?.removeItem(PREFIX + key);
}

/** The limit of a post's text, in UTF-8 bytes (the core's `MAX_TEXT_LEN`). */
export const MAX_TEXT_BYTES = 4096;

/** How many more bytes `text` may grow by (negative: over the limit). */
export function bytesLeft(text: string): number {
  return MAX_TEXT_BYTES - new TextEncoder().encode(text).length;
}

/** The counter shown under a compose box: nothing until 80% is used. */
export function counterText(left: number): string | null {
  if (left > MAX_TEXT_BYTES / 5) return null;
  if (left >= 0) return t("compose.left", { count: left });
  return t("compose.over", { count: -left });
}
