/**
 * "did you mean …?" for a key or value that is not known: the known one it most likely stands
 * for, if any. A case, underscore or dash variant (`cookie_file`, `CookieFile` for `cookieFile`)
 * wins; otherwise the closest within an edit distance of 2 (a transposition counts one), and
 * never a distance as long as the word itself (`ab` is not a misspelling of `ca`).
 */
export function suggest(word: string, known: Iterable<string>): string | undefined {
  const candidates = [...known];
  const plain = normalise(word);
  const variant = candidates.find((k) => normalise(k) === plain);
  if (variant !== undefined) return variant;
  let best: string | undefined;
  let bestDistance = Math.min(2, word.length - 1);
  for (const k of candidates) {
    const d = distance(word.toLowerCase(), k.toLowerCase(), bestDistance);
    if (d < bestDistance || (d === bestDistance && best === undefined)) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** `; did you mean X?` when a known word is close to `word`, else nothing. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const s = suggest(word, known);
  return s === undefined ? '' : `; did you mean ${s}?`;
}

const normalise = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), or `limit + 1`
 * as soon as it is known to exceed `limit`.
 */
export function distance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] as number) + 1);
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > limit) return limit + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length] as number;
}
