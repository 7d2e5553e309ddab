// Merging a freshly fetched first page of a timeline into the posts already
// shown, newest first. Pure: the feed component decides when to apply it.
import type { Page, Post } from "./api";

/** The posts a feed shows and the cursor for the page after them. */
export interface FeedState {
  posts: Post[];
  next: string | null;
}

/** Posts in `fresh` that are newer than anything in `current`, i.e. arrived since. */
export function newPosts(current: readonly Post[], fresh: readonly Post[]): Post[] {
  const known = new Set(current.map((p) => p.id));
  const newest = current.length > 0 ? current[0].timestamp : -Infinity;
  return fresh.filter((p) => !known.has(p.id) && p.timestamp >= newest);
}

/**
 * The feed after taking in a fresh first page: the page replaces the span of
 * time it covers (so edits and deletions show), older posts already loaded stay.
 */
export function mergeFirstPage(current: FeedState, fresh: Page): FeedState {
  if (current.posts.length === 0 || fresh.next === null || fresh.posts.length === 0) {
    return { posts: fresh.posts, next: fresh.next };
  }
  const ids = new Set(fresh.posts.map((p) => p.id));
  const oldest = fresh.posts[fresh.posts.length - 1].timestamp;
  const older = current.posts.filter((p) => !ids.has(p.id) && p.timestamp <= oldest);
  return { posts: [...fresh.posts, ...older], next: older.length > 0 ? current.next : fresh.next };
}

/** Updates posts already shown with their fresh versions, adding or removing none. */
export function refreshInPlace(current: readonly Post[], fresh: readonly Post[]): Post[] {
  const byId = new Map(fresh.map((p) => [p.id, p]));
  let changed = false;
  const posts = current.map((p) => {
    const update = byId.get(p.id);
    if (update && update !== p) {
      changed = true;
      return update;
    }
    return p;
  });
  return changed ? posts : (current as Post[]);
}

/** Appends a next page, skipping posts already shown. */
export function appendPage(current: FeedState, page: Page): FeedState {
  const known = new Set(current.posts.map((p) => p.id));
  return { posts: [...current.posts, ...page.posts.filter((p) => !known.has(p.id))], next: page.next };
}
