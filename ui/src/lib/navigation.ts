// The places the navigation offers, shared by the desktop sidebar and the phone tab bar.
import type { Key } from "./i18n";
import type { Route, RouteName } from "./router";

/** One navigation entry. */
export interface Destination {
  testid: string;
  /** its name, as a catalog key (shown through `t`, so it follows the language) */
  label: Key;
  icon: string;
  /** the route it opens (profile needs the user's identity) */
  route: (me: string) => Route;
  /** route names that count as "here" for highlighting */
  matches: RouteName[];
  /** whether the phone tab bar shows it directly (else it is under More) */
  tab: boolean;
}

export const DESTINATIONS: readonly Destination[] = [
  { testid: "nav-home", label: "nav.home", icon: "⌂", route: () => ({ name: "home" }), matches: ["home", "post"], tab: true },
  { testid: "nav-search", label: "nav.search", icon: "⌕", route: () => ({ name: "search", query: "" }), matches: ["search"], tab: true },
  { testid: "nav-groups", label: "nav.groups", icon: "◎", route: () => ({ name: "groups" }), matches: ["groups", "group"], tab: true },
  { testid: "nav-messages", label: "nav.messages", icon: "✉", route: () => ({ name: "messages" }), matches: ["messages", "dm"], tab: true },
  { testid: "nav-notifications", label: "nav.notifications", icon: "★", route: () => ({ name: "notifications" }), matches: ["notifications"], tab: false },
  { testid: "nav-bookmarks", label: "nav.bookmarks", icon: "⚑", route: () => ({ name: "bookmarks" }), matches: ["bookmarks"], tab: false },
  { testid: "nav-follow", label: "nav.follow", icon: "＋", route: () => ({ name: "follow" }), matches: ["follow"], tab: false },
  { testid: "nav-profile", label: "nav.profile", icon: "☺", route: (me) => ({ name: "profile", id: me }), matches: ["profile"], tab: false },
  { testid: "nav-devices", label: "nav.devices", icon: "▭", route: () => ({ name: "devices" }), matches: ["devices"], tab: false },
  { testid: "nav-settings", label: "nav.settings", icon: "⚙", route: () => ({ name: "settings" }), matches: ["settings"], tab: false },
];
