// Light, dark or following the system; the choice lives in localStorage.

export type Theme = "system" | "light" | "dark";

const KEY = "starling.theme";

/** The stored choice, or "system". */
export function loadTheme(): Theme {
  try {
    const t = localStorage.getItem(KEY);
    return t === "light" || t === "dark" ? t : "system";
  } catch {
    return "system";
  }
}

/** Applies a theme to the document (CSS reads `data-theme`). */
export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === "system") delete root.dataset.theme;
  else root.dataset.theme = theme;
}

/** Stores and applies a theme. */
export function saveTheme(theme: Theme): void {
  try {
    if (theme === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  } catch {
    // storage may be unavailable; the theme still applies for this session
  }
  applyTheme(theme);
}
