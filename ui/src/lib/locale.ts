// The language dates and numbers are written in: the system's (the
// webview's first preferred language), formatted through `Intl`.

/** The locale to format for: the system's when `Intl` knows it (a webview
 *  under `LANG=C` may report a tag it refuses, such as "c"), else English. */
export function appLocale(): string {
  const preferred = globalThis.navigator?.languages?.[0] ?? globalThis.navigator?.language;
  return usable(preferred) ?? "en";
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

const numbers = new Map<string, Intl.NumberFormat>();
const dates = new Map<string, Intl.DateTimeFormat>();

/** A cached `Intl.NumberFormat` for `locale` and `options`. */
export function numberFormat(locale: string, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let f = numbers.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, options);
    numbers.set(key, f);
  }
  return f;
}

/** A cached `Intl.DateTimeFormat` for `locale` and `options`. */
export function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let f = dates.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    dates.set(key, f);
  }
  return f;
}
