// Words and numbers for the Storage section of Settings.
import type { Budgets, StorageKind } from "./contract";

/** What a kind of stored data is called on screen. */
export function kindLabel(kind: StorageKind): string {
  switch (kind) {
    case "own":
      return "Your posts and records";
    case "own_media":
      return "Your images";
    case "followed":
      return "People you follow";
    case "groups":
      return "Groups";
    case "conversations":
      return "Conversations";
    case "mirrored":
      return "Held for others";
    case "media_cache":
      return "Others' images (cache)";
    case "search_index":
      return "Search index";
  }
}

/** Budgets as the form edits them: megabytes and days. */
export interface BudgetForm {
  mediaMb: number;
  postsMb: number;
  days: number;
}

export function toForm(b: Budgets): BudgetForm {
  return {
    mediaMb: Math.round(b.media_cache_bytes / 1e6),
    postsMb: Math.round(b.others_posts_bytes / 1e6),
    days: b.keep_others_posts_days,
  };
}

/** The form's values as budgets, or an error to show when one is not a whole number ≥ 0. */
export function fromForm(f: BudgetForm): Budgets | string {
  for (const [name, v] of [
    ["Images", f.mediaMb],
    ["Posts", f.postsMb],
    ["Days", f.days],
  ] as const) {
    if (!Number.isFinite(v) || v < 0 || !Number.isInteger(v)) return `${name}: give a whole number, 0 or more`;
  }
  return {
    media_cache_bytes: f.mediaMb * 1_000_000,
    others_posts_bytes: f.postsMb * 1_000_000,
    keep_others_posts_days: f.days,
  };
}
