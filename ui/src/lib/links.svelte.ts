// `starling:` links opened from outside the app (a QR code read by a
// phone's camera, a link in a browser or chat): each waits here until the
// user answers the dialog that says what it is. Nothing is followed or
// joined without that answer.

import { api, onLinkOpened, type ScannedTicket } from "./api";

/** The link on screen, and those waiting behind it. */
export const links = $state<{ showing: ScannedTicket | null; waiting: ScannedTicket[] }>({ showing: null, waiting: [] });

/** Most links waiting at once (a flood of links shows only the newest). */
const MAX_WAITING = 8;

/** Adds opened links to the queue; shows the first if none is on screen. */
export function queueLinks(opened: ScannedTicket[]): void {
  links.waiting.push(...opened);
  if (links.waiting.length > MAX_WAITING) links.waiting.splice(0, links.waiting.length - MAX_WAITING);
  if (!links.showing) nextLink();
}

/** Closes the link on screen and shows the next, if any. */
export function nextLink(): void {
  links.showing = links.waiting.shift() ?? null;
}

/** Takes the links the shell holds (one the app was started with, too) now
 *  and whenever another is opened; returns a stop function. */
export function watchLinks(): () => void {
  const take = () =>
    void api
      .openedLinks()
      .then(queueLinks)
      .catch((e) => console.warn("opened links unavailable", e));
  take();
  const off = onLinkOpened(take).catch(() => null);
  return () => void off.then((f) => f?.());
}
