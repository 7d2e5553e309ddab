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

let followSystem: MediaQueryList | null = null;
const onSystemChange = () => applyTheme("system");

/** Applies a theme to the document: CSS reads `data-theme` ("light" or
 * "dark"); "system" resolves to the system's preference and follows it. */
export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  followSystem?.removeEventListener("change", onSystemChange);
  followSystem = null;
  if (theme === "system" && typeof window.matchMedia === "function") {
    followSystem = window.matchMedia("(prefers-color-scheme: dark)");
    followSystem.addEventListener("change", onSystemChange);
    root.dataset.theme = followSystem.matches ? "dark" : "light";
  } else {
    root.dataset.theme = theme === "dark" ? "dark" : "light";
  }
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
