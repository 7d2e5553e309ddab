// Human-readable counts and sizes.

/** A count with thousands separators: 12345 → "12,345". */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A byte size: 3_400_000 → "3.4 MB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The catch-up line of the sync indicator. */
export function formatProgress(entries: number, bytes: number): string {
  return `Catching up: ${formatCount(entries)} entries · ${formatBytes(bytes)}`;
}

/** The first characters of a hex id, for display. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** "1 follow", "2 follows": a count and its noun. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
