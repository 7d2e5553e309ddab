import { describe, expect, it } from "vitest";
import type { Group } from "./api";
import { groupName, owns } from "./groups";

const group = (over: Partial<Group>): Group => ({
  id: "g",
  name: null,
  description: null,
  owner: "o",
  members: [],
  my_role: null,
  ...over,
});

describe("groups", () => {
  it("names an unnamed group", () => {
    expect(groupName(group({}))).toBe("(unnamed group)");
    expect(groupName(group({ name: "Dawn chorus" }))).toBe("Dawn chorus");
  });
  it("knows who owns it", () => {
    expect(owns(group({ my_role: "owner" }))).toBe(true);
    expect(owns(group({ my_role: "member" }))).toBe(false);
    expect(owns(group({}))).toBe(false);
  });
});
