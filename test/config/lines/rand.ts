/**
 * Seeded randomness for the line-codec tests. The seed is random per run unless LINES_SEED
 * is set; every test that uses it prints it in its name and in its failure messages.
 */
export const SEED = Number(process.env.LINES_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** mulberry32: small, fast, good enough to drive generators. */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), this.s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
  /** Random bytes, biased towards zero so IPv6 zero-compression gets exercised. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const zeroish = this.bool(0.6);
    for (let i = 0; i < n; i++) out[i] = zeroish && this.bool(0.6) ? 0 : this.int(0, 255);
    return out;
  }
}

/** Runs `body` for `n` cases; a failure names the seed and the case. */
export function forCases(seed: number, n: number, body: (r: Rng, c: number) => void): void {
  const r = new Rng(seed);
  for (let c = 0; c < n; c++) {
    try {
      body(r, c);
    } catch (e) {
      throw new Error(
        `seed ${seed} (LINES_SEED=${seed}), case ${c}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
