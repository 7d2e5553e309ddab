// One fan-out point for things that change what screens show: events pushed
// by the shell, and the app's own writes (so a new post shows at once).
import { onNet, type Event } from "./api";

/** A shell event, `posted` when this app wrote a post (the feed goes to
 * the top to show it), or `edited` when it changed one in place (a repost,
 * an edit, a delete: the feed refreshes where it is). */
export type LiveEvent = Event | { kind: "posted" } | { kind: "edited" };

type Handler = (e: LiveEvent) => void;

const handlers = new Set<Handler>();
let started: Promise<void> | null = null;

/** Starts listening to the shell (once); failures leave the app working without live updates. */
export function startLive(): Promise<void> {
  started ??= onNet(publish).then(
    () => undefined,
    (e) => console.warn("live updates unavailable", e),
  );
  return started;
}

/** Calls `handler` for every live event; returns an unsubscribe. */
export function onLive(handler: Handler): () => void {
  handlers.add(handler);
  return () => handlers.delete(handler);
}

/** Delivers an event to every subscriber. */
export function publish(e: LiveEvent): void {
  for (const h of handlers) {
    try {
      h(e);
    } catch (err) {
      console.error(err);
    }
  }
}

/** Whether an event may have brought posts a timeline should show. */
export function bringsPosts(e: LiveEvent): boolean {
  switch (e.kind) {
    case "received":
    case "synced":
      return e.accepted > 0;
    case "changed":
    case "posted":
    case "edited":
      return true;
    default:
      return false;
  }
}

/** Calls `reload` whenever an event may have brought posts; returns an unsubscribe. */
export function reloadOnPosts(reload: () => void): () => void {
  return onLive((e) => {
    if (bringsPosts(e)) reload();
  });
}
