// Words and numbers for the Storage section of Settings.
import type { Budgets, StorageKind } from "./contract";
import { t } from "./i18n";

/** What a kind of stored data is called on screen. */
export function kindLabel(kind: StorageKind): string {
  switch (kind) {
    case "own":
      return t("storage.kindOwn");
    case "own_media":
      return t("storage.kindOwnMedia");
    case "followed":
      return t("storage.kindFollowed");
    case "groups":
      return t("storage.kindGroups");
    case "conversations":
      return t("storage.kindConversations");
    case "mirrored":
      return t("storage.kindMirrored");
    case "media_cache":
      return t("storage.kindMediaCache");
    case "search_index":
      return t("storage.kindSearchIndex");
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
    [t("storage.fieldImages"), f.mediaMb],
    [t("storage.fieldPosts"), f.postsMb],
    [t("storage.fieldDays"), f.days],
  ] as const) {
    if (!Number.isFinite(v) || v < 0 || !Number.isInteger(v)) return t("storage.wholeNumber", { name });
  }
  return {
    media_cache_bytes: f.mediaMb * 1_000_000,
    others_posts_bytes: f.postsMb * 1_000_000,
    keep_others_posts_days: f.days,
  };
}
