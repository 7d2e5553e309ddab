// Reporting, once, that the first timeline was painted, so the shell can
// measure start-up time; the answer is kept on `window` for tests.
import { api } from "./api";

let reported = false;

/** Waits two animation frames (the frame after the paint) and tells the shell; only the first call counts. */
export function reportFirstPaint(): void {
  if (reported) return;
  reported = true;
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      api.firstPaint().then(
        (ms) => (window.__starlingFirstPaint = ms),
        (e) => console.warn("first_paint failed", e),
      );
    }),
  );
}
