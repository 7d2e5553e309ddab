// The hash router: every screen has an address like `#/post/ID`, so links
// are plain `<a href>` and the back button works.

/** A screen and its parameter. */
export type Route =
  | { name: "home" }
  | { name: "post"; id: string }
  | { name: "profile"; id: string }
  | { name: "groups" }
  | { name: "group"; id: string }
  | { name: "messages" }
  | { name: "dm"; id: string }
  | { name: "follow" }
  | { name: "notifications" }
  | { name: "bookmarks" }
  | { name: "search"; query: string }
  | { name: "devices" }
  | { name: "settings" };

export type RouteName = Route["name"];

const SIMPLE = ["home", "groups", "messages", "follow", "notifications", "bookmarks", "devices", "settings"] as const;
const WITH_ID = ["post", "profile", "group", "dm"] as const;

type SimpleName = (typeof SIMPLE)[number];
type IdName = (typeof WITH_ID)[number];

function isSimple(name: string): name is SimpleName {
  return (SIMPLE as readonly string[]).includes(name);
}

function isWithId(name: string): name is IdName {
  return (WITH_ID as readonly string[]).includes(name);
}

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** The route a location hash names; anything unknown is home. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "").replace(/^\/+/, "");
  const [path, queryString = ""] = raw.split("?", 2);
  const parts = path.split("/").filter((p) => p.length > 0);
  const [name, param] = parts;
  if (!name) return { name: "home" };
  if (parts.length === 1 && isSimple(name)) return { name };
  if (parts.length === 1 && name === "search") {
    const query = new URLSearchParams(queryString).get("q") ?? "";
    return { name: "search", query };
  }
  if (parts.length === 2 && isWithId(name)) {
    const id = decode(param);
    if (id) return { name, id };
  }
  return { name: "home" };
}

/** The location hash of a route. */
export function formatRoute(route: Route): string {
  switch (route.name) {
    case "post":
    case "profile":
    case "group":
    case "dm":
      return `#/${route.name}/${encodeURIComponent(route.id)}`;
    case "search":
      return route.query ? `#/search?q=${encodeURIComponent(route.query)}` : "#/search";
    default:
      return `#/${route.name}`;
  }
}

/** Goes to a route (adds a history entry). */
export function navigate(route: Route): void {
  const hash = formatRoute(route);
  if (location.hash !== hash) location.hash = hash;
}

/** The route the window shows now. */
export function currentRoute(): Route {
  return parseRoute(location.hash);
}

/** Calls `handler` with the new route whenever the hash changes; returns an unsubscribe. */
export function onRouteChange(handler: (route: Route) => void): () => void {
  const listener = () => handler(currentRoute());
  window.addEventListener("hashchange", listener);
  return () => window.removeEventListener("hashchange", listener);
}
