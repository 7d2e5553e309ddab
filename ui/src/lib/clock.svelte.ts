// A coarse clock so relative times ("5m") update without each post owning a timer.

export const clock = $state({ now: Date.now() });

/** Ticks every 30 s; returns a stop function. */
export function startClock(): () => void {
  const timer = setInterval(() => (clock.now = Date.now()), 30_000);
  return () => clearInterval(timer);
}
