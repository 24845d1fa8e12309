/**
 * " (did you mean 'x'?)" when one candidate is within a small edit distance of `word`, else ''.
 * Used by every "unknown …" error so the message says what would be valid.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    // A prefix (device → device_id) is as good a guess as a one-letter typo.
    const prefix =
      Math.min(lower.length, other.length) >= 3 && (other.startsWith(lower) || lower.startsWith(other));
    const d = prefix ? 1 : editDistance(lower, other);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}

/** Levenshtein distance; words here are short (keys, function names), so the simple table is fine. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** "a, b, c" for messages. */
export function listOf(items: Iterable<string>): string {
  return [...items].join(', ');
}
