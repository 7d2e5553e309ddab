// Human-readable counts and sizes, written through `Intl` in the app's
// locale.

import { appLocale, numberFormat } from "./locale";
import { t } from "./i18n";

/** A count with the locale's separators: 12345 → "12,345" ("12.345" in German). */
export function formatCount(n: number, locale = appLocale()): string {
  return numberFormat(locale).format(Math.round(n));
}

/** A byte size: 3_400_000 → "3.4 MB" ("3,4 MB" in German). */
export function formatBytes(bytes: number, locale = appLocale()): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${formatCount(value, locale)} B`;
  const one = numberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return `${one.format(value)} ${units[unit]}`;
}

/** The catch-up line of the sync indicator. */
export function formatProgress(entries: number, bytes: number): string {
  return t("sync.progress", { entries: formatCount(entries), bytes: formatBytes(bytes) });
}

/** The first characters of a hex id, for display. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** "1 follow", "2 follows": a count and its noun. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
