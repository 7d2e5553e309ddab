// The sync indicator's state: online, peers, and a catch-up in progress.
import { api, isCommandError, type Path } from "./api";
import { onLive, type LiveEvent } from "./live";
import { t } from "./i18n";

/** What the indicator shows. */
export const network = $state({
  online: false,
  peers: 0,
  /** The best path to any peer reached lately; null when none was. */
  reach: null as Path | null,
  catchUp: null as { entries: number; bytes: number } | null,
  error: null as string | null,
});

/** The fallback refresh interval when no events arrive. */
const POLL_MS = 10_000;

let pending: ReturnType<typeof setTimeout> | null = null;

async function refresh(): Promise<void> {
  try {
    const s = await api.netStatus();
    network.online = s.online;
    network.peers = s.peers;
    network.reach = s.reach;
    network.error = s.error;
    if (s.syncing && !network.catchUp) network.catchUp = { entries: s.syncing.entries, bytes: s.syncing.bytes };
    if (!s.syncing) network.catchUp = null;
  } catch (e) {
    network.online = false;
    network.reach = null;
    // Before first start there is no network to report on.
    network.error = isCommandError(e) && e.kind !== "no_identity" ? e.message : null;
  }
}

/** What the indicator says of how the node reaches its peers. */
export function reachLabel(online: boolean, reach: Path | null): string {
  if (!online) return t("sync.offline");
  if (reach === "direct") return t("sync.online");
  if (reach === "relay") return t("sync.relayOnly");
  return t("sync.noPeer");
}

/** Refreshes soon, coalescing bursts of events into one call. */
function refreshSoon(): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    void refresh();
  }, 300);
}

function onEvent(e: LiveEvent): void {
  switch (e.kind) {
    case "progress":
      network.catchUp = { entries: e.entries, bytes: e.bytes };
      return;
    case "synced":
    case "sync_failed":
      network.catchUp = null;
      refreshSoon();
      return;
    case "peer_up":
    case "peer_down":
    case "received":
      refreshSoon();
      return;
    default:
      return;
  }
}

/** Starts tracking the network; returns a stop function. */
export function watchNetwork(): () => void {
  void refresh();
  const off = onLive(onEvent);
  const timer = setInterval(() => void refresh(), POLL_MS);
  return () => {
    off();
    clearInterval(timer);
  };
}
