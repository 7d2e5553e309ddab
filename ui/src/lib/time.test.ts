import { describe, expect, it } from "vitest";
import { usable } from "./locale";
import { dateOnly, fullTime, relativeTime } from "./time";

const now = new Date(2024, 5, 15, 12, 0, 0).getTime();

describe("relativeTime", () => {
  it("says now for the last few seconds and the near future", () => {
    expect(relativeTime(now, now)).toBe("now");
    expect(relativeTime(now - 9_000, now)).toBe("now");
    expect(relativeTime(now + 60_000, now)).toBe("now");
  });

  it("counts seconds, minutes, hours and days", () => {
    expect(relativeTime(now - 42_000, now, "en")).toBe("42s");
    expect(relativeTime(now - 5 * 60_000, now, "en")).toBe("5m");
    expect(relativeTime(now - 59 * 60_000 - 59_000, now, "en")).toBe("59m");
    expect(relativeTime(now - 3 * 3_600_000, now, "en")).toBe("3h");
    expect(relativeTime(now - 2 * 86_400_000, now, "en")).toBe("2d");
  });

  it("shows a date after a week, with the year if it differs", () => {
    expect(relativeTime(new Date(2024, 2, 12, 9).getTime(), now, "en-GB")).toBe("12 Mar");
    expect(relativeTime(new Date(2023, 11, 31, 9).getTime(), now, "en-GB")).toBe("31 Dec 2023");
  });
});

describe("other languages", () => {
  it("write units, dates and times in the locale given", () => {
    expect(relativeTime(now - 5 * 60_000, now, "de")).toBe("5 Min.");
    expect(relativeTime(new Date(2024, 2, 12, 9).getTime(), now, "de")).toBe("12. März");
    expect(relativeTime(new Date(2024, 2, 12, 9).getTime(), now, "en-US")).toBe("Mar 12");
    expect(fullTime(new Date(2024, 2, 12, 9, 5).getTime(), "de")).toBe("12.03.2024, 09:05");
    expect(dateOnly(new Date(2024, 2, 12, 9, 5).getTime(), "en-GB")).toBe("12 Mar 2024");
  });
});

describe("the locale", () => {
  it("falls back when the system reports a tag Intl refuses", () => {
    expect(usable("de-DE")).toBe("de-DE");
    expect(usable("c")).toBeNull();
    expect(usable("")).toBeNull();
    expect(usable(undefined)).toBeNull();
  });
});
