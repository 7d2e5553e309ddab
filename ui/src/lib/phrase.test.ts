import { describe, expect, it } from "vitest";
import { answersMatch, phraseWords, positionsToConfirm } from "./phrase";

describe("phrase confirmation", () => {
  it("asks distinct positions in order, within the phrase", () => {
    let x = 0;
    const seq = [0.99, 0.99, 0.5, 0.01, 0.5];
    const p = positionsToConfirm(24, 3, () => seq[x++ % seq.length]);
    expect(p).toEqual([0, 12, 23]);
    expect(positionsToConfirm(2, 5, Math.random).length).toBe(2);
  });
  it("matches answers ignoring case and spaces, and refuses a wrong one", () => {
    const words = ["apple", "river", "stone"];
    expect(answersMatch(words, [0, 2], [" Apple ", "STONE"])).toBe(true);
    expect(answersMatch(words, [0, 2], ["apple", "river"])).toBe(false);
    expect(answersMatch(words, [1], [])).toBe(false);
  });
  it("reads a phrase however it was typed", () => {
    expect(phraseWords("  Apple\nriver   stone ")).toEqual(["apple", "river", "stone"]);
    expect(phraseWords("")).toEqual([]);
  });
});
