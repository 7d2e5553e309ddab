// Short relative times for posts ("now", "5m", "3h", "2d", "12 Mar"), and
// full dates, written through `Intl` in the app's locale.

import { appLocale, dateFormat, numberFormat } from "./locale";
import { t } from "./i18n";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long ago `timestamp` was at `now` (both ms since the epoch), compactly. */
export function relativeTime(timestamp: number, now: number, locale = appLocale()): string {
  const age = now - timestamp;
  if (age < 10 * SECOND) return t("time.now"); // includes small clock skew into the future
  const ago = (n: number, unit: string) =>
    numberFormat(locale, { style: "unit", unit, unitDisplay: "narrow" }).format(Math.floor(n));
  if (age < MINUTE) return ago(age / SECOND, "second");
  if (age < HOUR) return ago(age / MINUTE, "minute");
  if (age < DAY) return ago(age / HOUR, "hour");
  if (age < 7 * DAY) return ago(age / DAY, "day");
  const then = new Date(timestamp);
  const sameYear = then.getFullYear() === new Date(now).getFullYear();
  const options: Intl.DateTimeFormatOptions = sameYear
    ? { day: "numeric", month: "short" }
    : { day: "numeric", month: "short", year: "numeric" };
  return dateFormat(locale, options).format(then);
}

/** The full local date and time, for a tooltip. */
export function fullTime(timestamp: number, locale = appLocale()): string {
  return dateFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(timestamp));
}

/** The local date alone. */
export function dateOnly(timestamp: number, locale = appLocale()): string {
  return dateFormat(locale, { dateStyle: "medium" }).format(new Date(timestamp));
}
