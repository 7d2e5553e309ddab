import { afterEach, describe, expect, it, vi } from "vitest";
import { applyTheme } from "./theme";

function systemPrefersDark(dark: boolean) {
  const listeners: (() => void)[] = [];
  const mq = {
    matches: dark,
    addEventListener: (_: string, f: () => void) => listeners.push(f),
    removeEventListener: vi.fn(),
  };
  vi.stubGlobal("matchMedia", () => mq);
  return { mq, fire: () => listeners.forEach((f) => f()) };
}

describe("theme", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("resolves the system choice and follows its changes", () => {
    const sys = systemPrefersDark(true);
    applyTheme("system");
    expect(document.documentElement.dataset.theme).toBe("dark");
    sys.mq.matches = false;
    sys.fire();
    expect(document.documentElement.dataset.theme).toBe("light");
  });

  it("an explicit choice wins over the system", () => {
    systemPrefersDark(true);
    applyTheme("light");
    expect(document.documentElement.dataset.theme).toBe("light");
    applyTheme("dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
  });
});
