// Keyboard focus among the posts on screen (j/k), and acting on the focused one (l/r).

const POST = '[data-testid="post"]';

/** The post element holding keyboard focus, if any. */
export function focusedPost(): HTMLElement | null {
  const active = document.activeElement;
  return active instanceof HTMLElement ? active.closest<HTMLElement>(POST) : null;
}

/** Moves focus to the next (+1) or previous (-1) post in the page. */
export function movePostFocus(step: 1 | -1): void {
  const posts = Array.from(document.querySelectorAll<HTMLElement>(POST));
  if (posts.length === 0) return;
  const current = focusedPost();
  const index = current ? posts.indexOf(current) : -1;
  const target = index < 0 ? posts[0] : posts[Math.min(posts.length - 1, Math.max(0, index + step))];
  target.focus();
  target.scrollIntoView({ block: "nearest" });
}

/** Clicks a button (by test id) inside the focused post. */
export function clickInFocusedPost(testId: string): void {
  focusedPost()?.querySelector<HTMLButtonElement>(`[data-testid="${testId}"]`)?.click();
}
