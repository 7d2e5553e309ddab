// The recovery phrase step of onboarding: which words to ask back, and
// whether the answers match.

/** `count` distinct word positions (0-based, ascending) out of `total`,
 * drawn with `random` (a function like Math.random). */
export function positionsToConfirm(total: number, count: number, random: () => number): number[] {
  const picked = new Set<number>();
  const want = Math.min(count, total);
  while (picked.size < want) {
    picked.add(Math.min(total - 1, Math.floor(random() * total)));
  }
  return [...picked].sort((a, b) => a - b);
}

/** Whether every answer is the word at its position (case and spaces ignored). */
export function answersMatch(words: string[], positions: number[], answers: string[]): boolean {
  return positions.every((p, i) => (answers[i] ?? "").trim().toLowerCase() === (words[p] ?? "").toLowerCase());
}

/** The words of a pasted or typed phrase, however they were spaced. */
export function phraseWords(text: string): string[] {
  return text.trim().toLowerCase().split(/\s+/).filter((w) => w.length > 0);
}
