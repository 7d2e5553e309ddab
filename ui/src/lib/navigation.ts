// The places the navigation offers, shared by the desktop sidebar and the phone tab bar.
import type { Route, RouteName } from "./router";

/** One navigation entry. */
export interface Destination {
  testid: string;
  label: string;
  icon: string;
  /** the route it opens (profile needs the user's identity) */
  route: (me: string) => Route;
  /** route names that count as "here" for highlighting */
  matches: RouteName[];
  /** whether the phone tab bar shows it directly (else it is under More) */
  tab: boolean;
}

export const DESTINATIONS: readonly Destination[] = [
  { testid: "nav-home", label: "Home", icon: "⌂", route: () => ({ name: "home" }), matches: ["home", "post"], tab: true },
  { testid: "nav-search", label: "Search", icon: "⌕", route: () => ({ name: "search", query: "" }), matches: ["search"], tab: true },
  { testid: "nav-groups", label: "Groups", icon: "◎", route: () => ({ name: "groups" }), matches: ["groups", "group"], tab: true },
  { testid: "nav-messages", label: "Messages", icon: "✉", route: () => ({ name: "messages" }), matches: ["messages", "dm"], tab: true },
  { testid: "nav-notifications", label: "Notifications", icon: "★", route: () => ({ name: "notifications" }), matches: ["notifications"], tab: false },
  { testid: "nav-follow", label: "Follow", icon: "＋", route: () => ({ name: "follow" }), matches: ["follow"], tab: false },
  { testid: "nav-profile", label: "Profile", icon: "☺", route: (me) => ({ name: "profile", id: me }), matches: ["profile"], tab: false },
  { testid: "nav-devices", label: "Devices", icon: "▭", route: () => ({ name: "devices" }), matches: ["devices"], tab: false },
  { testid: "nav-settings", label: "Settings", icon: "⚙", route: () => ({ name: "settings" }), matches: ["settings"], tab: false },
];
