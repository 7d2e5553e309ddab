// Keyboard shortcuts: single keys and two-key sequences ("g h"), parsed by
// a small pure state machine so the app only maps actions to effects.
import type { Key } from "./i18n";

/** What a shortcut does. */
export type KeyAction =
  | "compose"
  | "search"
  | "home"
  | "notifications"
  | "bookmarks"
  | "groups"
  | "messages"
  | "settings"
  | "next"
  | "previous"
  | "like"
  | "reply"
  | "close";

/** A shortcut as typed, e.g. "n" or "g h", and what it does. */
export interface Shortcut {
  keys: string;
  action: KeyAction;
  /** what it does, as a catalog key (shown through `t`) */
  description: Key;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: "n", action: "compose", description: "shortcuts.compose" },
  { keys: "/", action: "search", description: "shortcuts.search" },
  { keys: "g h", action: "home", description: "shortcuts.home" },
  { keys: "g n", action: "notifications", description: "shortcuts.notifications" },
  { keys: "g b", action: "bookmarks", description: "shortcuts.bookmarks" },
  { keys: "g g", action: "groups", description: "shortcuts.groups" },
  { keys: "g m", action: "messages", description: "shortcuts.messages" },
  { keys: "g s", action: "settings", description: "shortcuts.settings" },
  { keys: "j", action: "next", description: "shortcuts.next" },
  { keys: "k", action: "previous", description: "shortcuts.previous" },
  { keys: "l", action: "like", description: "shortcuts.like" },
  { keys: "r", action: "reply", description: "shortcuts.reply" },
  { keys: "Escape", action: "close", description: "shortcuts.close" },
];

/** The sequencer's memory: the first key of a pending sequence and when it was pressed. */
export interface KeyState {
  pending: string | null;
  at: number;
}

export const INITIAL_KEYS: KeyState = { pending: null, at: 0 };

/** How long the second key of a sequence may wait, in ms. */
export const SEQUENCE_TIMEOUT = 1500;

/** A key press as the sequencer sees it. */
export interface KeyPress {
  key: string;
  ctrl?: boolean;
  meta?: boolean;
  alt?: boolean;
}

const BINDINGS = new Map(SHORTCUTS.map((s) => [s.keys, s.action]));
const PREFIXES = new Set(SHORTCUTS.filter((s) => s.keys.includes(" ")).map((s) => s.keys.split(" ")[0]));

/** Feeds one key press; returns the new state and the action it completes, if any. */
export function pressKey(
  state: KeyState,
  press: KeyPress,
  now: number,
): { state: KeyState; action: KeyAction | null } {
  if (press.ctrl || press.meta || press.alt) return { state: INITIAL_KEYS, action: null };
  const key = press.key;
  if (key === "Escape") return { state: INITIAL_KEYS, action: "close" };
  if (state.pending !== null && now - state.at <= SEQUENCE_TIMEOUT) {
    const action = BINDINGS.get(`${state.pending} ${key}`) ?? null;
    return { state: INITIAL_KEYS, action };
  }
  if (PREFIXES.has(key)) return { state: { pending: key, at: now }, action: null };
  return { state: INITIAL_KEYS, action: BINDINGS.get(key) ?? null };
}

/** Whether keys typed into `target` are text, not shortcuts. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "reset", "file", "range", "color"].includes(type);
  }
  return false;
}
