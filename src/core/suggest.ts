/**
 * The known name closest to a mistyped one, for "did you mean" hints in the CLI and the library.
 * Closeness is the edit distance (insert, delete, substitute, or swap two neighbours: the usual
 * typos), case-insensitive; only a name within a third of its length (at least 1, at most 3 edits)
 * is suggested, so a word that merely shares letters is not offered; failing that, a name the
 * typed one begins (at least 3 characters).
 */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  const wanted = typed.toLowerCase();
  let best: string | undefined;
  // One or two letters are too short to guess from: only a different case counts.
  let bestDistance = wanted.length < 3 ? 0 : Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined || wanted.length < 3) return best;
  // A flag cut short (--tresh for --threshold) is far from the whole name but starts it.
  return known.find((candidate) => candidate.toLowerCase().startsWith(wanted));
}

/** Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one substring). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const table = new Array<number>(rows * columns);
  for (let i = 0; i < rows; i += 1) table[i * columns] = i;
  for (let j = 0; j < columns; j += 1) table[j] = j;
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < columns; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(table[(i - 1) * columns + j] + 1, table[i * columns + j - 1] + 1, table[(i - 1) * columns + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, table[(i - 2) * columns + j - 2] + 1);
      table[i * columns + j] = value;
    }
  }
  return table[rows * columns - 1];
}
