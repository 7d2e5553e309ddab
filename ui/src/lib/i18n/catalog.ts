// The shape of a catalog, derived from the English one: the same keys,
// any text. A plural entry has the forms `Intl.PluralRules` selects
// (`one`, `other`); `other` is always there.
import type { en } from "./en";

/** A plural entry: its forms by plural category. */
export interface Plural {
  readonly one: string;
  readonly other: string;
}

type Widen<T> = T extends string ? string : { readonly [K in keyof T]: Widen<T[K]> };

/** A complete catalog: exactly the keys of `en`, with strings (or plural forms) as values. */
export type Catalog = Widen<typeof en>;

type Leaves<T, P extends string = ""> = {
  [K in keyof T & string]: T[K] extends string | Plural ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];

/** A dotted key of one entry, e.g. `"post.reply"` or `"feed.newPosts"`. */
export type Key = Leaves<typeof en>;
