// The full-size image viewer: which post's images it shows, and where.

/** What the viewer shows: a post's images, their descriptions, the one
 *  on screen, and who posted them. */
export interface Viewing {
  owner: string;
  images: string[];
  alts: string[];
  index: number;
  by: string;
}

/** The viewer's state; `null` while it is closed. */
export const viewer = $state<{ showing: Viewing | null }>({ showing: null });

/** Opens the viewer on image `index` of a post. */
export function openViewer(showing: Viewing): void {
  viewer.showing = { ...showing, index: stepIndex(showing.index, 0, showing.images.length) };
}

export function closeViewer(): void {
  viewer.showing = null;
}

/** Shows the image `step` places on (around the ends). */
export function stepViewer(step: number): void {
  const s = viewer.showing;
  if (s) s.index = stepIndex(s.index, step, s.images.length);
}

/** The image `step` places from `index` among `count`, around the ends
 *  (the last image's "next" is the first). */
export function stepIndex(index: number, step: number, count: number): number {
  if (count <= 0) return 0;
  return (((index + step) % count) + count) % count;
}
