// The arithmetic of a virtualised list: which rows to render for a scroll
// position, given row heights that are measured once seen and estimated
// until then. Pure functions; the component only feeds them numbers.

/** Heights of rows measured so far, by row key. */
export type HeightCache = Map<string, number>;

/** The half-open range of row indices to render. */
export interface Range {
  start: number;
  end: number;
}

/** The height assumed for a row never measured: the mean of measured ones, or `fallback`. */
export function estimateHeight(cache: HeightCache, fallback: number): number {
  if (cache.size === 0) return fallback;
  let sum = 0;
  for (const h of cache.values()) sum += h;
  return sum / cache.size;
}

/**
 * Prefix sums of row heights: `offsets[i]` is the top of row `i`, and
 * `offsets[keys.length]` is the total height.
 */
export function rowOffsets(keys: readonly string[], cache: HeightCache, estimate: number): Float64Array {
  const offsets = new Float64Array(keys.length + 1);
  for (let i = 0; i < keys.length; i++) {
    offsets[i + 1] = offsets[i] + (cache.get(keys[i]) ?? estimate);
  }
  return offsets;
}

/** The index of the row that contains `y` (clamped to the rows there are). */
export function rowAt(offsets: Float64Array, y: number): number {
  const count = offsets.length - 1;
  if (count <= 0) return 0;
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** What the viewport shows, in the list's own coordinates. */
export interface Viewport {
  /** distance scrolled past the top of the list (may be negative above it) */
  top: number;
  height: number;
}

/** The rows intersecting the viewport, widened by `overscan` rows each side. */
export function visibleRange(offsets: Float64Array, viewport: Viewport, overscan: number): Range {
  const count = offsets.length - 1;
  if (count <= 0) return { start: 0, end: 0 };
  const top = Math.max(0, viewport.top);
  const bottom = Math.max(top, viewport.top + viewport.height);
  const first = rowAt(offsets, top);
  let last = rowAt(offsets, bottom);
  if (offsets[last] >= bottom && last > first) last -= 1;
  return {
    start: Math.max(0, first - overscan),
    end: Math.min(count, last + 1 + overscan),
  };
}

/** Whether the rendered range comes within `threshold` rows of the end, so more should load. */
export function nearEnd(range: Range, count: number, threshold: number): boolean {
  return count === 0 || range.end >= count - threshold;
}

/**
 * How far to move the scroll position when a row's height changes from
 * `before` to `after`: rows wholly above the viewport push content down, so
 * the view must follow them to stay put.
 */
export function scrollCorrection(rowTop: number, before: number, after: number, viewportTop: number): number {
  return rowTop + before <= viewportTop ? after - before : 0;
}
