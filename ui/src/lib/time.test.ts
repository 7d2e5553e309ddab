import { describe, expect, it } from "vitest";
import { relativeTime } from "./time";

const now = new Date(2024, 5, 15, 12, 0, 0).getTime();

describe("relativeTime", () => {
  it("says now for the last few seconds and the near future", () => {
    expect(relativeTime(now, now)).toBe("now");
    expect(relativeTime(now - 9_000, now)).toBe("now");
    expect(relativeTime(now + 60_000, now)).toBe("now");
  });

  it("counts seconds, minutes, hours and days", () => {
    expect(relativeTime(now - 42_000, now)).toBe("42s");
    expect(relativeTime(now - 5 * 60_000, now)).toBe("5m");
    expect(relativeTime(now - 59 * 60_000 - 59_000, now)).toBe("59m");
    expect(relativeTime(now - 3 * 3_600_000, now)).toBe("3h");
    expect(relativeTime(now - 2 * 86_400_000, now)).toBe("2d");
  });

  it("shows a date after a week, with the year if it differs", () => {
    expect(relativeTime(new Date(2024, 2, 12, 9).getTime(), now)).toBe("12 Mar");
    expect(relativeTime(new Date(2023, 11, 31, 9).getTime(), now)).toBe("31 Dec 2023");
  });
});
