// "Did you mean …?": the known word nearest to a mistyped one, by edit
// distance (insertions, deletions, substitutions and swaps of neighbours).

/** Optimal string alignment distance between `a` and `b`. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The candidate nearest to `word` (the first of equals), or undefined when there is none. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best?.candidate;
}

/**
 * For something a person typed (a command, a kind, an option): the candidate
 * it is most likely a typo of, ignoring case: one it starts, or the closest
 * within a third of its length (at least one edit). Undefined otherwise, so
 * a wild guess is never offered.
 */
export function nearest(typed: string, candidates: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  if (!word) return undefined;
  const byLower = new Map(candidates.map((candidate) => [candidate.toLowerCase(), candidate]));
  const started = word.length > 1 ? [...byLower.keys()].find((candidate) => candidate.startsWith(word)) : undefined;
  const match = started ?? closest(word, byLower.keys());
  if (match === undefined) return undefined;
  return started || editDistance(word, match) <= Math.max(1, Math.floor(match.length / 3)) ? byLower.get(match) : undefined;
}

/** ` (did you mean X?)` or "", to follow the word that was not understood. */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const suggestion = nearest(typed, candidates);
  return suggestion ? ` (did you mean ${suggestion}?)` : "";
}
