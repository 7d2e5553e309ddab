// The UI's words: `t(key, vars)` gives the entry `key` of the catalog of
// the current language (see language.svelte.ts), with `{name}` replaced by
// `vars.name` (numbers written the locale's way) and, for a plural entry,
// the form `Intl.PluralRules` picks for `vars.count`. Reading it in a
// template or a `$derived` re-renders when the language changes.
import { appLocale, numberFormat } from "../locale";
import type { Catalog, Key, Plural } from "./catalog";
import { de } from "./de";
import { en } from "./en";
import { language, type Language } from "./language.svelte";

export type { Catalog, Key, Plural } from "./catalog";
export {
  LANGUAGES,
  applyLanguage,
  language,
  languageTag,
  onLanguageChange,
  setLanguage,
  systemLanguage,
  type Language,
  type LanguageSetting,
} from "./language.svelte";

/** What may fill a `{placeholder}`. */
export type Vars = Record<string, string | number>;

type Entry = string | Plural;

/** Every catalog, by language. */
export const catalogs: Record<Language, Catalog> = { en, de };

/** A catalog's entries by dotted key. */
function flatten(node: object, prefix = "", into = new Map<string, Entry>()): Map<string, Entry> {
  for (const [k, v] of Object.entries(node)) {
    if (typeof v === "string" || (typeof v === "object" && v !== null && "other" in v)) into.set(prefix + k, v as Entry);
    else flatten(v as object, `${prefix}${k}.`, into);
  }
  return into;
}

const flat: Record<Language, Map<string, Entry>> = { en: flatten(en), de: flatten(de) };

const pluralRules = new Map<string, Intl.PluralRules>();

function plural(lang: Language, count: number): Intl.LDMLPluralRule {
  let rules = pluralRules.get(lang);
  if (!rules) {
    rules = new Intl.PluralRules(lang);
    pluralRules.set(lang, rules);
  }
  return rules.select(count);
}

/** `template` with each `{name}` replaced by `vars.name` (unknown names
 *  stay as they are; numbers in `locale`, by default the app's). */
export function interpolate(template: string, vars: Vars = {}, locale?: string): string {
  // Most entries have no placeholder: they cost a lookup, nothing more.
  if (!template.includes("{")) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? numberFormat(locale ?? appLocale()).format(value) : value;
  });
}

/** The text of `key` in the current language (or `lang`). */
export function t(key: Key, vars?: Vars, lang: Language = language.current): string {
  const entry = flat[lang].get(key) ?? flat.en.get(key) ?? key;
  let template: string;
  if (typeof entry === "string") {
    template = entry;
  } else {
    const count = Number(vars?.count ?? 0);
    template = (entry as unknown as Record<string, string | undefined>)[plural(lang, count)] ?? entry.other;
  }
  return interpolate(template, vars, lang === language.current ? undefined : lang);
}
