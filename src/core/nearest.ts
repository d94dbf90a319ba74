// "Did you mean …?" for things a person types: commands, kinds, options.
// Pure; the suggestion is only offered when it is close enough to be a typo.

/** Edit distance (insertions, deletions, substitutions and swaps of neighbours), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const [s, t] = [a.toLowerCase(), b.toLowerCase()];
  const rows = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[s.length]![t.length]!;
}

/**
 * The candidate closest to `typed`, when it is close enough to be a typo: at
 * most a third of its length away (and at least one edit), or `typed` is a
 * prefix of it. Undefined otherwise, so a wild guess is never offered.
 */
export function nearest(typed: string, candidates: readonly string[]): string | undefined {
  if (!typed) return undefined;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const prefix = typed.length > 1 && candidate.toLowerCase().startsWith(typed.toLowerCase());
    const distance = prefix ? 0.5 : editDistance(typed, candidate);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  if (!best) return undefined;
  return best.distance <= Math.max(1, Math.floor(best.candidate.length / 3)) ? best.candidate : undefined;
}

/** ` (did you mean X?)` or "", to follow the word that was not understood. */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const suggestion = nearest(typed, candidates);
  return suggestion ? ` (did you mean ${suggestion}?)` : "";
}
