// Keyboard shortcuts: single keys and two-key sequences ("g h"), parsed by
// a small pure state machine so the app only maps actions to effects.

/** What a shortcut does. */
export type KeyAction =
  | "compose"
  | "search"
  | "home"
  | "notifications"
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
  description: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: "n", action: "compose", description: "New post" },
  { keys: "/", action: "search", description: "Search" },
  { keys: "g h", action: "home", description: "Go home" },
  { keys: "g n", action: "notifications", description: "Go to notifications" },
  { keys: "g g", action: "groups", description: "Go to groups" },
  { keys: "g m", action: "messages", description: "Go to messages" },
  { keys: "g s", action: "settings", description: "Go to settings" },
  { keys: "j", action: "next", description: "Focus next post" },
  { keys: "k", action: "previous", description: "Focus previous post" },
  { keys: "l", action: "like", description: "Like focused post" },
  { keys: "r", action: "reply", description: "Reply to focused post" },
  { keys: "Escape", action: "close", description: "Close dialog" },
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
