import { cleanup, fireEvent, render } from "@testing-library/svelte";
import { tick } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import { appLocale } from "../locale";
import { network } from "../network.svelte";
import { relativeTime } from "../time";
import { formatCount } from "../units";
import SyncStatus from "../../components/SyncStatus.svelte";
import Settings from "../../screens/Settings.svelte";
import { de } from "./de";
import { en } from "./en";
import { interpolate, language, languageTag, setLanguage, systemLanguage, t, type Key } from "./index";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn(() => Promise.resolve()) }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn(() => Promise.resolve(() => {})) }));

/** Every entry of a catalog by dotted key (a plural's forms as `key.one`, `key.other`). */
function leaves(node: object, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(node)) {
    if (typeof v === "string") out.set(prefix + k, v);
    else for (const [kk, vv] of leaves(v as object, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  setLanguage("system");
});

describe("the catalogs", () => {
  const english = leaves(en);
  const german = leaves(de);

  it("have exactly the same keys", () => {
    expect([...german.keys()].sort()).toEqual([...english.keys()].sort());
    expect(english.size).toBeGreaterThan(300);
  });

  it("fill every entry, with the same placeholders", () => {
    for (const [key, text] of english) {
      const translated = german.get(key) ?? "";
      expect(translated.length, key).toBeGreaterThan(0);
      expect(placeholders(translated), key).toEqual(placeholders(text));
    }
  });
});

describe("t", () => {
  it("speaks English by default (jsdom says en-US)", () => {
    expect(language.current).toBe("en");
    expect(t("nav.home")).toBe("Home");
    expect(document.documentElement.lang).not.toBe("de");
  });

  it("interpolates in both languages", () => {
    expect(t("alerts.replied", { name: "Bob" })).toBe("Bob replied");
    expect(t("alerts.replied", { name: "Bob" }, "de")).toBe("Bob hat geantwortet");
    expect(t("search.noMatch", { query: "starlings" }, "de")).toBe("Keine Beiträge zu „starlings“.");
    expect(interpolate("{a} and {b}", { a: "x" })).toBe("x and {b}");
  });

  it("pluralizes in both languages", () => {
    expect(t("feed.newPosts", { count: 1 })).toBe("1 new post");
    expect(t("feed.newPosts", { count: 3 })).toBe("3 new posts");
    expect(t("feed.newPosts", { count: 1 }, "de")).toBe("1 neuer Beitrag");
    expect(t("feed.newPosts", { count: 3 }, "de")).toBe("3 neue Beiträge");
    expect(t("alerts.images", { count: 1 })).toBe("An image");
    expect(t("alerts.images", { count: 0 })).toBe("0 images");
    expect(t("alerts.images", { count: 2 }, "de")).toBe("2 Bilder");
    expect(t("trending.people", { count: 12345 })).toBe("12,345 people");
  });

  const keys: Key[] = ["nav.settings", "sync.offline", "time.now"];

  it("follows a change of language at once", () => {
    expect(keys.map((k) => t(k))).toEqual(["Settings", "Offline", "now"]);
    setLanguage("de");
    expect(language.current).toBe("de");
    expect(keys.map((k) => t(k))).toEqual(["Einstellungen", "Offline", "jetzt"]);
    expect(t("trending.people", { count: 12345 })).toBe("12.345 Personen");
    expect(localStorage.getItem("starling.language")).toBe("de");
    expect(document.documentElement.lang).toBe("de");
    setLanguage("en");
    expect(t("nav.settings")).toBe("Settings");
    expect(localStorage.getItem("starling.language")).toBe("en");
    setLanguage("system");
    expect(localStorage.getItem("starling.language")).toBeNull();
  });

  it("formats dates and numbers in the UI's language", () => {
    const now = new Date(2024, 5, 15, 12).getTime();
    expect(appLocale()).toBe("en-US");
    expect(formatCount(12345)).toBe("12,345");
    setLanguage("de");
    expect(appLocale()).toBe("de");
    expect(formatCount(12345)).toBe("12.345");
    expect(relativeTime(now - 5 * 60_000, now)).toBe("5 Min.");
    expect(relativeTime(now, now)).toBe("jetzt");
    setLanguage("en");
    expect(formatCount(12345)).toBe("12,345");
  });

  it("speaks German under 'system' when the webview does", () => {
    vi.spyOn(navigator, "language", "get").mockReturnValue("de-AT");
    expect(systemLanguage()).toBe("de");
    setLanguage("system");
    expect(language.current).toBe("de");
    expect(languageTag()).toBe("de-AT");
    expect(document.documentElement.lang).toBe("de-AT");
    expect(t("nav.home")).toBe("Startseite");
    expect(systemLanguage("fr-FR")).toBe("en");
  });
});

describe("components", () => {
  it("re-render when the language changes", async () => {
    network.online = false;
    network.peers = 2;
    const status = render(SyncStatus).getByTestId("sync-status");
    const text = () => status.textContent?.replace(/\s+/g, " ");
    expect(text()).toContain("Offline · 2 peers Sync now");
    setLanguage("de");
    await tick();
    expect(text()).toContain("Offline · 2 Peers Jetzt synchronisieren");
  });

  it("switch from the language selector in Settings, which remembers the choice", async () => {
    const view = render(Settings);
    const select = view.getByTestId("settings-language") as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(["system", "en", "de"]);
    expect(select.value).toBe("system");
    expect(view.getByRole("heading", { level: 1 }).textContent).toBe("Settings");
    select.value = "de";
    await fireEvent.change(select);
    await tick();
    expect(view.getByRole("heading", { level: 1 }).textContent).toBe("Einstellungen");
    expect(localStorage.getItem("starling.language")).toBe("de");
    expect(document.documentElement.lang).toBe("de");
    select.value = "en";
    await fireEvent.change(select);
    await tick();
    expect(view.getByRole("heading", { level: 1 }).textContent).toBe("Settings");
  });
});
