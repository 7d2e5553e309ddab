import { describe, expect, it } from "vitest";
import { counted, formatBytes, formatCount, formatProgress, shortId } from "./units";

describe("units", () => {
  it("formats counts and sizes", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(12345)).toBe("12,345");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(3_400_000)).toBe("3.4 MB");
    expect(formatBytes(1500)).toBe("1.5 kB");
  });

  it("writes numbers the locale's way", () => {
    expect(formatCount(12345, "de")).toBe("12.345");
    expect(formatBytes(3_400_000, "de")).toBe("3,4 MB");
    expect(formatBytes(12_345, "de")).toBe("12,3 kB");
  });

  it("formats the catch-up line", () => {
    expect(formatProgress(12345, 3_400_000)).toBe("Catching up: 12,345 entries · 3.4 MB");
  });

  it("shortens ids", () => {
    expect(shortId("0123456789abcdef")).toBe("01234567");
  });
});

describe("counted", () => {
  it("names one and many", () => {
    expect(counted(1, "follow")).toBe("1 follow");
    expect(counted(0, "follow")).toBe("0 follows");
    expect(counted(2, "reply", "replies")).toBe("2 replies");
  });
});
