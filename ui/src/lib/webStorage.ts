// The webview's storage (per device), or none where it is refused (a
// private window, a sandbox): callers then keep nothing across restarts.

/** The webview's `localStorage`, or `null` where it is not available. */
export function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
