// Raises the system's notifications (see alerts.ts) as news arrives.

import { api, type Conversation, type Notification } from "./api";
import {
  alertedUntil,
  alertsEnabled,
  groupAlerts,
  messageAlerts,
  notificationAlerts,
  setAlertedUntil,
  toRaise,
  type Alert,
} from "./alerts";

function focused(): boolean {
  return document.visibilityState === "visible" && document.hasFocus();
}

/** Takes what `make` finds newer than each source's mark, moves the marks
 *  past it, and raises it unless the user turned notifications off. */
async function raise(sources: Record<string, (since: number) => Alert[]>): Promise<void> {
  const fresh: Alert[] = [];
  for (const [source, make] of Object.entries(sources)) {
    const found = make(alertedUntil(source));
    if (found.length === 0) continue;
    setAlertedUntil(source, Math.max(...found.map((a) => a.at)));
    fresh.push(...found);
  }
  if (fresh.length === 0 || !alertsEnabled()) return;
  for (const a of toRaise(fresh, location.hash, focused())) {
    await api.notifySystem(a.title, a.body).catch((e) => console.warn("notification not shown", e));
  }
}

/** Raises what is new among replies, mentions and conversations. */
export function alertNews(me: string, notes: Notification[], convs: Conversation[]): Promise<void> {
  return raise({
    notes: (since) => notificationAlerts(notes, since),
    dm: (since) => messageAlerts(convs, me, since),
  });
}

/** Raises others' new posts in `space` when it is one of the user's groups. */
export async function alertGroup(me: string, space: string): Promise<void> {
  const groups = await api.groups().catch(() => []);
  const group = groups.find((g) => g.id === space);
  if (!group) return;
  const page = await api.groupTimeline(space, 10, null).catch(() => null);
  if (page) await raise({ [`group.${space}`]: (since) => groupAlerts(group, page.posts, me, since) });
}
