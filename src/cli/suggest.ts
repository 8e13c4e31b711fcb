// "Did you mean …?": the closest known name to a typo, by edit distance, for commands and flags.

/** Levenshtein distance with adjacent transpositions counted as one edit ("drian" → "drain"). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The known name closest to `typo`, if it is close enough to be what was meant (or a prefix of it). */
export function closest(typo: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  const t = typo.toLowerCase();
  for (const k of known) {
    const d = editDistance(t, k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(t.length, best.length) / 3));
  if (bestD <= limit) return best;
  // a unique unambiguous prefix ("--trans" for "--transport")
  const prefixed = [...known].filter((k) => t.length >= 3 && k.toLowerCase().startsWith(t));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** " — did you mean X?" or "" */
export function didYouMean(typo: string, known: Iterable<string>, show = (s: string) => `"${s}"`): string {
  const c = closest(typo, known);
  return c === undefined ? '' : `did you mean ${show(c)}?`;
}
