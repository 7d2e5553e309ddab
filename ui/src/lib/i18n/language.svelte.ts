// Which language the UI speaks: the user's choice ("system", "en" or
// "de", remembered in the webview's storage) and what it resolves to.
// "system" speaks German when the webview's language is German, else
// English. The state is reactive, so everything that reads it follows a
// change at once.

import { storage } from "../webStorage";

/** What the user chose in Settings. */
export type LanguageSetting = "system" | "en" | "de";
/** A language the UI has a catalog for. */
export type Language = "en" | "de";

export const LANGUAGES: readonly Language[] = ["en", "de"];

const KEY = "starling.language";

function isSetting(value: unknown): value is LanguageSetting {
  return value === "system" || value === "en" || value === "de";
}

/** The webview's language tag (e.g. "de-DE"), if it reports one. */
export function systemTag(): string | undefined {
  const nav = globalThis.navigator;
  return nav?.language || nav?.languages?.[0] || undefined;
}

/** The language "system" stands for: German for a German webview, else English. */
export function systemLanguage(tag: string | undefined = systemTag()): Language {
  return tag?.toLowerCase().startsWith("de") ? "de" : "en";
}

function resolve(setting: LanguageSetting): Language {
  return setting === "system" ? systemLanguage() : setting;
}

function stored(): LanguageSetting {
  try {
    const held = storage()?.getItem(KEY);
    return isSetting(held) ? held : "system";
  } catch {
    return "system";
  }
}

const initial = stored();

/** The choice and the language it resolves to. */
export const language = $state<{ setting: LanguageSetting; current: Language }>({
  setting: initial,
  current: resolve(initial),
});

const listeners = new Set<() => void>();

/** Calls `listener` after every change of the UI language; returns an unsubscribe. */
export function onLanguageChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** `tag` if `Intl` accepts it as a locale. */
function canonical(tag: string | undefined): string | null {
  if (!tag) return null;
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    return null;
  }
}

/** The BCP-47 tag dates and numbers are written in: the webview's own
 *  (e.g. "en-GB", "de-AT") when it is in the UI's language, else the UI
 *  language itself ("en", "de"). */
export function languageTag(lang: Language = language.current): string {
  const system = canonical(systemTag());
  return system && system.toLowerCase().split("-")[0] === lang ? system : lang;
}

/** Puts the current language on `<html lang>`. */
export function applyLanguage(): void {
  if (typeof document !== "undefined") document.documentElement.lang = languageTag();
}

function update(): void {
  const next = resolve(language.setting);
  const changed = next !== language.current;
  language.current = next;
  applyLanguage();
  if (changed) for (const listener of listeners) listener();
}

/** Stores and applies a choice; the UI switches without a reload. */
export function setLanguage(setting: LanguageSetting): void {
  try {
    if (setting === "system") storage()?.removeItem(KEY);
    else storage()?.setItem(KEY, setting);
  } catch {
    // storage may be unavailable; the choice still applies for this session
  }
  language.setting = setting;
  update();
}

// "system" follows the webview when its language changes.
globalThis.addEventListener?.("languagechange", () => {
  if (language.setting === "system") update();
});
