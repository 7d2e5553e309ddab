import { describe, expect, it } from "vitest";
import { fromForm, kindLabel, toForm } from "./storage";

describe("storage budgets form", () => {
  it("round-trips budgets in megabytes and days", () => {
    const b = { media_cache_bytes: 500_000_000, others_posts_bytes: 2_000_000_000, keep_others_posts_days: 30 };
    expect(toForm(b)).toEqual({ mediaMb: 500, postsMb: 2000, days: 30 });
    expect(fromForm(toForm(b))).toEqual(b);
  });

  it("refuses negative, fractional and empty values", () => {
    expect(fromForm({ mediaMb: -1, postsMb: 1, days: 1 })).toMatch(/Images/);
    expect(fromForm({ mediaMb: 1, postsMb: 1.5, days: 1 })).toMatch(/Posts/);
    expect(fromForm({ mediaMb: 1, postsMb: 1, days: NaN })).toMatch(/Days/);
  });

  it("names every kind", () => {
    expect(kindLabel("media_cache")).toBe("Others' images (cache)");
    expect(kindLabel("own")).toBe("Your posts and records");
  });
});
