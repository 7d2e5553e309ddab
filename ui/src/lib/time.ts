// Short relative times for posts ("now", "5m", "3h", "2d", "12 Mar").

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long ago `timestamp` was at `now` (both ms since the epoch), compactly. */
export function relativeTime(timestamp: number, now: number): string {
  const age = now - timestamp;
  if (age < 10 * SECOND) return "now"; // includes small clock skew into the future
  if (age < MINUTE) return `${Math.floor(age / SECOND)}s`;
  if (age < HOUR) return `${Math.floor(age / MINUTE)}m`;
  if (age < DAY) return `${Math.floor(age / HOUR)}h`;
  if (age < 7 * DAY) return `${Math.floor(age / DAY)}d`;
  const then = new Date(timestamp);
  const day = `${then.getDate()} ${MONTHS[then.getMonth()]}`;
  return then.getFullYear() === new Date(now).getFullYear() ? day : `${day} ${then.getFullYear()}`;
}

/** The full local date and time, for a tooltip. */
export function fullTime(timestamp: number): string {
  return new Date(timestamp).toLocaleString();
}
