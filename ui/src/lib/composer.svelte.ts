// The compose dialog: whether it is open and what it answers or quotes.
import type { Post } from "./api";

/** The dialog's state; inline compose boxes hide while it is open. */
export const composer = $state({
  open: false,
  replyTo: null as Post | null,
  quoteOf: null as Post | null,
  group: null as string | null,
});

/** Opens the dialog for a new post, a reply or a quote. */
export function openComposer(options: { replyTo?: Post; quoteOf?: Post; group?: string | null } = {}): void {
  composer.replyTo = options.replyTo ?? null;
  composer.quoteOf = options.quoteOf ?? null;
  composer.group = options.group ?? options.replyTo?.group ?? options.quoteOf?.group ?? null;
  composer.open = true;
}

export function closeComposer(): void {
  composer.open = false;
  composer.replyTo = null;
  composer.quoteOf = null;
  composer.group = null;
}
