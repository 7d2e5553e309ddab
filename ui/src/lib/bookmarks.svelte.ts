// Which posts the user bookmarked (private: kept in the account, so the
// identity's other devices have them too): loaded once, then kept as the
// shell answers each change.

import { api } from "./api";

/** The bookmarked post ids, newest bookmark first. */
export const bookmarked = $state<{ ids: string[] }>({ ids: [] });

/** Whether `id` is bookmarked. */
export function isBookmarked(id: string): boolean {
  return bookmarked.ids.includes(id);
}

/** Loads the bookmarked ids from the shell. */
export async function loadBookmarks(): Promise<void> {
  bookmarked.ids = await api.bookmarkIds().catch(() => bookmarked.ids);
}

/** Bookmarks `id`, or takes it back when it is bookmarked. */
export async function toggleBookmark(id: string): Promise<void> {
  bookmarked.ids = isBookmarked(id) ? await api.unbookmark(id) : await api.bookmark(id);
}
