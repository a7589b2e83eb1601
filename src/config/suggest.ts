/** "did you mean …?" for misspelt keywords: the closest known word within edit distance 2. */

function distance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > cap) return cap + 1;
    prev = cur;
  }
  return prev[b.length] ?? cap + 1;
}

export function suggest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  const w = word.toLowerCase();
  for (const k of known) {
    const d = distance(w, k.toLowerCase(), 2);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

export function didYouMean(word: string, known: Iterable<string>): string {
  const s = suggest(word, known);
  return s ? ` (did you mean '${s}'?)` : "";
}
