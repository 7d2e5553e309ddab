// Phone or desktop layout, following the same breakpoint as the CSS, so
// each navigation element exists once in the page.

/** Widths at or below this get the one-column phone layout. */
export const PHONE_QUERY = "(max-width: 600px)";

export const layout = $state({ phone: false });

/** Tracks the window width; returns a stop function. */
export function watchLayout(): () => void {
  if (typeof window.matchMedia !== "function") return () => {};
  const query = window.matchMedia(PHONE_QUERY);
  const update = () => (layout.phone = query.matches);
  update();
  query.addEventListener("change", update);
  return () => query.removeEventListener("change", update);
}

/** Whether this is a phone (where the camera scanner exists). */
export function isPhoneDevice(): boolean {
  return /Android|iPhone|iPad/.test(navigator.userAgent);
}
