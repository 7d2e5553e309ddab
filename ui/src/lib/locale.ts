// The language dates and numbers are written in: the UI's (see
// i18n/language.svelte.ts), in the webview's regional variant when it
// speaks that language, formatted through `Intl`.
import { language, languageTag, onLanguageChange } from "./i18n/language.svelte";

/** The last answer of `appLocale`, for the language it was for. */
let memo: { lang: string; locale: string } | null = null;

/** The locale to format for: the UI language's tag when `Intl` knows it (a
 *  webview under `LANG=C` may report a tag it refuses, such as "c"), else
 *  English. Worked out once per language (every visible string asks). */
export function appLocale(): string {
  const lang = language.current; // read first: a template that formats re-renders when it changes
  if (memo?.lang !== lang) memo = { lang, locale: usable(languageTag(lang)) ?? "en" };
  return memo.locale;
}

/** `tag` if `Intl` accepts it as a locale. */
export function usable(tag: string | undefined): string | null {
  if (!tag) return null;
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    return null;
  }
}

const formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

/** Forgets every formatter made (the language changed). */
export function clearFormats(): void {
  formats.clear();
  memo = null;
}
onLanguageChange(clearFormats);

/** The formatter `make` gives for `key`, made once. */
function cached<F extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => F): F {
  let f = formats.get(key) as F | undefined;
  if (!f) {
    f = make();
    formats.set(key, f);
  }
  return f;
}

/** A cached `Intl.NumberFormat` for `locale` and `options`. */
export function numberFormat(locale: string, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  return cached(`n ${locale} ${JSON.stringify(options)}`, () => new Intl.NumberFormat(locale, options));
}

/** A cached `Intl.DateTimeFormat` for `locale` and `options`. */
export function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(`d ${locale} ${JSON.stringify(options)}`, () => new Intl.DateTimeFormat(locale, options));
}
