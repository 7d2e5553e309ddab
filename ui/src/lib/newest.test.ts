import { describe, expect, it } from "vitest";
import { newest } from "./newest";

describe("newest", () => {
  it("only the latest load is current", () => {
    const begin = newest();
    const first = begin();
    expect(first()).toBe(true);
    const second = begin();
    expect(first()).toBe(false);
    expect(second()).toBe(true);
  });

  it("separate screens do not interfere", () => {
    const a = newest();
    const b = newest();
    const la = a();
    b();
    expect(la()).toBe(true);
  });
});
