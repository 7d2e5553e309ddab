import { afterEach, describe, expect, it } from "vitest";
import { currentRoute, formatRoute, navigate, parseRoute, type Route } from "./router";

describe("router", () => {
  afterEach(() => {
    location.hash = "";
  });

  it("parses every screen", () => {
    expect(parseRoute("#/home")).toEqual({ name: "home" });
    expect(parseRoute("#/post/abc123")).toEqual({ name: "post", id: "abc123" });
    expect(parseRoute("#/profile/f00")).toEqual({ name: "profile", id: "f00" });
    expect(parseRoute("#/groups")).toEqual({ name: "groups" });
    expect(parseRoute("#/group/g1")).toEqual({ name: "group", id: "g1" });
    expect(parseRoute("#/messages")).toEqual({ name: "messages" });
    expect(parseRoute("#/dm/d1")).toEqual({ name: "dm", id: "d1" });
    expect(parseRoute("#/follow")).toEqual({ name: "follow" });
    expect(parseRoute("#/notifications")).toEqual({ name: "notifications" });
    expect(parseRoute("#/search")).toEqual({ name: "search", query: "" });
    expect(parseRoute("#/search?q=hello%20world")).toEqual({ name: "search", query: "hello world" });
    expect(parseRoute("#/devices")).toEqual({ name: "devices" });
    expect(parseRoute("#/settings")).toEqual({ name: "settings" });
  });

  it("falls back to home for empty, unknown or malformed hashes", () => {
    expect(parseRoute("")).toEqual({ name: "home" });
    expect(parseRoute("#")).toEqual({ name: "home" });
    expect(parseRoute("#/nope")).toEqual({ name: "home" });
    expect(parseRoute("#/post")).toEqual({ name: "home" });
    expect(parseRoute("#/post/a/b")).toEqual({ name: "home" });
    expect(parseRoute("#/settings/x")).toEqual({ name: "home" });
    expect(parseRoute("#/post/%E0%A4%A")).toEqual({ name: "home" });
  });

  it("round-trips routes through the hash", () => {
    const routes: Route[] = [
      { name: "home" },
      { name: "post", id: "a/b c" },
      { name: "dm", id: "xyz" },
      { name: "search", query: "tea & cake" },
      { name: "settings" },
    ];
    for (const r of routes) expect(parseRoute(formatRoute(r))).toEqual(r);
  });

  it("navigates by setting the hash", () => {
    navigate({ name: "group", id: "g9" });
    expect(location.hash).toBe("#/group/g9");
    expect(currentRoute()).toEqual({ name: "group", id: "g9" });
  });
});
