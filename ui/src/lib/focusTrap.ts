// Keeping keyboard focus inside a dialog while it is open, and giving it
// back to where it was when the dialog closes.

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type=hidden])",
  "textarea:not([disabled])",
  "select:not([disabled])",
  '[tabindex]:not([tabindex="-1"])',
].join(",");

/** The elements inside `root` that Tab reaches, in order. */
export function focusables(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => !el.closest("[hidden]") && !el.classList.contains("visually-hidden"),
  );
}

/** Where Tab (or Shift+Tab with `back`) goes from `index` among `count`
 *  elements: around the ends, never out. `index` -1: focus is outside. */
export function nextIndex(index: number, count: number, back: boolean): number {
  if (count === 0) return -1;
  if (index < 0) return back ? count - 1 : 0;
  return (index + (back ? count - 1 : 1)) % count;
}

/** The element that has focus now, to give it back later. */
export function focused(): HTMLElement | null {
  return document.activeElement instanceof HTMLElement ? document.activeElement : null;
}

/** Traps Tab inside `root` until the returned function is called, which
 *  gives focus back to `restore` (by default, what had it before).
 *  Focuses the element marked `data-autofocus`, else the first focusable
 *  one, unless focus is already inside. */
export function trapFocus(root: HTMLElement, restore: HTMLElement | null = focused()): () => void {
  if (!root.contains(document.activeElement)) {
    (root.querySelector<HTMLElement>("[data-autofocus]") ?? focusables(root)[0])?.focus();
  }
  const onKey = (event: KeyboardEvent) => {
    if (event.key !== "Tab") return;
    const list = focusables(root);
    const at = list.indexOf(document.activeElement as HTMLElement);
    const next = nextIndex(at, list.length, event.shiftKey);
    event.preventDefault();
    if (next >= 0) list[next].focus();
  };
  root.addEventListener("keydown", onKey);
  return () => {
    root.removeEventListener("keydown", onKey);
    if (restore?.isConnected) restore.focus();
  };
}
