// How a group is named and who runs it, as the screens show it.
import type { Group } from "./api";
import { t } from "./i18n";

/** The group's name, or a stand-in until its document arrives. */
export function groupName(g: Group): string {
  return g.name ?? t("groups.unnamed");
}

/** Whether this identity owns the group (and so invites and removes). */
export function owns(g: Group): boolean {
  return g.my_role === "owner";
}
