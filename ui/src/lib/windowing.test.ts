import { describe, expect, it } from "vitest";
import { estimateHeight, nearEnd, rowAt, rowOffsets, scrollCorrection, visibleRange } from "./windowing";

const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

describe("windowing", () => {
  it("estimates from measured rows, or the fallback", () => {
    expect(estimateHeight(new Map(), 100)).toBe(100);
    expect(estimateHeight(new Map([["a", 50], ["b", 150]]), 100)).toBe(100);
    expect(estimateHeight(new Map([["a", 40]]), 100)).toBe(40);
  });

  it("sums measured and estimated heights", () => {
    const cache = new Map([["k1", 200]]);
    expect(Array.from(rowOffsets(keys(3), cache, 100))).toEqual([0, 100, 300, 400]);
  });

  it("finds the row containing a point", () => {
    const offsets = rowOffsets(keys(4), new Map(), 10); // 0 10 20 30 40
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, 9.9)).toBe(0);
    expect(rowAt(offsets, 10)).toBe(1);
    expect(rowAt(offsets, 35)).toBe(3);
    expect(rowAt(offsets, 1000)).toBe(3);
    expect(rowAt(rowOffsets([], new Map(), 10), 5)).toBe(0);
  });

  it("renders only the viewport plus overscan", () => {
    const offsets = rowOffsets(keys(10_000), new Map(), 100);
    expect(visibleRange(offsets, { top: 0, height: 800 }, 3)).toEqual({ start: 0, end: 11 });
    expect(visibleRange(offsets, { top: 50_000, height: 800 }, 3)).toEqual({ start: 497, end: 511 });
    expect(visibleRange(offsets, { top: 999_500, height: 800 }, 3)).toEqual({ start: 9992, end: 10_000 });
  });

  it("handles a viewport above the list and an empty list", () => {
    const offsets = rowOffsets(keys(5), new Map(), 100);
    expect(visibleRange(offsets, { top: -300, height: 400 }, 0)).toEqual({ start: 0, end: 1 });
    expect(visibleRange(rowOffsets([], new Map(), 100), { top: 0, height: 400 }, 5)).toEqual({ start: 0, end: 0 });
  });

  it("uses measured heights for the range", () => {
    const cache = new Map([["k0", 1000]]);
    const offsets = rowOffsets(keys(20), cache, 100);
    expect(visibleRange(offsets, { top: 0, height: 500 }, 0)).toEqual({ start: 0, end: 1 });
    expect(visibleRange(offsets, { top: 1000, height: 250 }, 0)).toEqual({ start: 1, end: 4 });
  });

  it("asks for more near the end", () => {
    expect(nearEnd({ start: 0, end: 40 }, 50, 10)).toBe(true);
    expect(nearEnd({ start: 0, end: 39 }, 50, 10)).toBe(false);
    expect(nearEnd({ start: 0, end: 0 }, 0, 10)).toBe(true);
  });

  it("corrects scroll only for rows above the viewport", () => {
    expect(scrollCorrection(0, 100, 150, 500)).toBe(50);
    expect(scrollCorrection(450, 100, 150, 500)).toBe(0);
    expect(scrollCorrection(600, 100, 50, 500)).toBe(0);
  });
});
