import { describe, expect, it } from "vitest";
import { INITIAL_KEYS, SEQUENCE_TIMEOUT, isTypingTarget, pressKey, type KeyAction, type KeyState } from "./keys";

/** Feeds keys one by one (each 10 ms apart) and collects the actions. */
function type(keys: string[], start = 1000): (KeyAction | null)[] {
  let state: KeyState = INITIAL_KEYS;
  return keys.map((key, i) => {
    const r = pressKey(state, { key }, start + i * 10);
    state = r.state;
    return r.action;
  });
}

describe("key sequences", () => {
  it("maps single keys", () => {
    expect(type(["n"])).toEqual(["compose"]);
    expect(type(["/"])).toEqual(["search"]);
    expect(type(["j", "k", "l", "r"])).toEqual(["next", "previous", "like", "reply"]);
    expect(type(["x"])).toEqual([null]);
  });

  it("maps two-key sequences", () => {
    expect(type(["g", "h"])).toEqual([null, "home"]);
    expect(type(["g", "n"])).toEqual([null, "notifications"]);
    expect(type(["g", "g"])).toEqual([null, "groups"]);
    expect(type(["g", "m"])).toEqual([null, "messages"]);
    expect(type(["g", "s"])).toEqual([null, "settings"]);
  });

  it("drops an unknown sequence without acting on its second key", () => {
    expect(type(["g", "x", "n"])).toEqual([null, null, "compose"]);
    expect(type(["g", "j"])).toEqual([null, null]);
  });

  it("forgets a prefix after the timeout", () => {
    const first = pressKey(INITIAL_KEYS, { key: "g" }, 0);
    const late = pressKey(first.state, { key: "n" }, SEQUENCE_TIMEOUT + 1);
    expect(late.action).toBe("compose");
  });

  it("ignores keys with modifiers and always honours Escape", () => {
    expect(pressKey(INITIAL_KEYS, { key: "n", ctrl: true }, 0).action).toBeNull();
    expect(pressKey(INITIAL_KEYS, { key: "n", meta: true }, 0).action).toBeNull();
    const pending = pressKey(INITIAL_KEYS, { key: "g" }, 0).state;
    expect(pressKey(pending, { key: "Escape" }, 5)).toEqual({ state: INITIAL_KEYS, action: "close" });
  });

  it("knows when the user is typing", () => {
    const input = document.createElement("input");
    const checkbox = document.createElement("input");
    checkbox.type = "checkbox";
    expect(isTypingTarget(input)).toBe(true);
    expect(isTypingTarget(document.createElement("textarea"))).toBe(true);
    expect(isTypingTarget(checkbox)).toBe(false);
    expect(isTypingTarget(document.createElement("button"))).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});
