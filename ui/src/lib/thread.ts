// Arranging the posts of a thread around the one being viewed.
import type { Post } from "./api";

/** A thread as shown: the chain above the post, the post, and the replies below. */
export interface ThreadView {
  ancestors: Post[];
  focus: Post | null;
  replies: Post[];
}

/** Splits `posts` (in any order) into ancestors (oldest first), the post `id`, and replies (oldest first). */
export function arrangeThread(posts: readonly Post[], id: string): ThreadView {
  const byId = new Map(posts.map((p) => [p.id, p]));
  const focus = byId.get(id) ?? null;
  if (!focus) return { ancestors: [], focus: null, replies: [] };
  const ancestors: Post[] = [];
  const seen = new Set([focus.id]);
  let parent = focus.reply_to ? byId.get(focus.reply_to) : undefined;
  while (parent && !seen.has(parent.id)) {
    seen.add(parent.id);
    ancestors.unshift(parent);
    parent = parent.reply_to ? byId.get(parent.reply_to) : undefined;
  }
  const replies = posts
    .filter((p) => !seen.has(p.id))
    .sort((a, b) => a.timestamp - b.timestamp || a.id.localeCompare(b.id));
  return { ancestors, focus, replies };
}
