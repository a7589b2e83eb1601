/** Helpers shared by the line-codec tests: tokens, issue codes, and the fuzz driver. */
import { expect } from "bun:test";
import type { Issue } from "../../../src/config/diag.ts";
import type { Tok } from "../../../src/config/keepalived/types.ts";
import type { Result } from "../../../src/config/lines/common.ts";
import { splitWords } from "../../../src/config/lines/words.ts";
import { forCases, type Rng } from "./rand.ts";

export function toks(line: string): Tok[] {
  const w = splitWords(line);
  if (w.issues.length > 0) throw new Error(`test line does not split: ${line}`);
  return w.toks;
}

export const errorsOf = (r: { issues: readonly Issue[] }): string[] =>
  r.issues.filter((i) => (i.severity ?? "error") === "error").map((i) => i.code);

export const warningsOf = (r: { issues: readonly Issue[] }): string[] =>
  r.issues.filter((i) => i.severity === "warning").map((i) => i.code);

/** A clean parse: a value and no issue at all. */
export function clean<T>(r: Result<T>): T {
  if (r.value === undefined || r.issues.length > 0) {
    throw new Error(`expected a clean parse, got ${JSON.stringify(r.issues)}`);
  }
  return r.value;
}

/** Sample words: values of every shape a line can hold, plus junk. */
export const SAMPLES: readonly string[] = [
  "192.0.2.1",
  "192.0.2.0/24",
  "10.0.0.1/8",
  "0.0.0.0/0",
  "203.0.113.255",
  "2001:db8::1",
  "2001:db8::/64",
  "fe80::1",
  "::",
  "::/0",
  "::ffff:192.0.2.1",
  "1.2.3.4/33",
  "300.1.1.1",
  "0",
  "1",
  "7",
  "18",
  "255",
  "256",
  "65535",
  "65536",
  "4294967295",
  "4294967296",
  "0x10",
  "010",
  "08",
  "-1",
  "1.5",
  "1s",
  "200ms",
  "0.3s",
  "1e3",
  "eth0",
  "eth0:1",
  "lo",
  "main",
  "local",
  "bird",
  "forever",
  "+",
  "-",
  "lock",
  "inet",
  "inet6",
  "default",
  "all",
  "any",
  "ecn",
  "low",
  "enabled",
  "1-2",
  "10-5",
  "24/12",
  "100/200",
  "to",
  "via",
  "or",
  "nexthop",
  "encap",
  "ip",
  "ip6",
  "mpls",
  "ila",
  "dst",
  "src",
  "id",
  "type",
  "",
  " ",
  '"',
  "#",
  "{",
  "é",
  "a".repeat(20),
];

function junk(r: Rng): string {
  const chars = "abcxyz019./:-+#\"'{}\\ é";
  let s = "";
  for (let i = r.int(0, 6); i > 0; i--) s += chars[r.int(0, chars.length - 1)];
  return s;
}

export function randomToks(r: Rng, vocab: readonly string[]): Tok[] {
  const out: Tok[] = [];
  for (let n = r.int(0, 12); n > 0; n--) {
    const x = r.next();
    const text = x < 0.45 ? r.pick(vocab) : x < 0.9 ? r.pick(SAMPLES) : junk(r);
    out.push({ file: "f", line: 1, col: out.length + 1, text, quoted: r.bool(0.1) });
  }
  return out;
}

/**
 * Random token sequences must only ever produce issues (never throw); a line that does
 * yield a value has no error, every issue is well formed, and the value round-trips.
 */
export function fuzzLines<T>(
  seed: number,
  n: number,
  vocab: readonly string[],
  fromTokens: (t: readonly Tok[]) => Result<T>,
  toLine: (v: T) => string,
): number {
  let accepted = 0;
  forCases(seed, n, (r) => {
    const t = randomToks(r, vocab);
    const res = fromTokens(t);
    for (const i of res.issues) {
      expect(i.code).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(typeof i.message).toBe("string");
      if (typeof i.at === "number") expect(i.at >= 0 && i.at <= t.length).toBe(true);
    }
    if (res.value !== undefined) {
      accepted++;
      expect(errorsOf(res)).toEqual([]);
      const again = fromTokens(toks(toLine(res.value)));
      expect(again.value).toEqual(res.value);
    }
  });
  return accepted;
}

/** Random TOML-ish values for fromToml fuzzing. */
export function randomToml(r: Rng, keys: readonly string[], depth = 0): unknown {
  const x = r.next();
  if (x < 0.15) return r.pick(SAMPLES);
  if (x < 0.25) return r.int(-5, 70000);
  if (x < 0.3) return r.bool();
  if (x < 0.35) return r.pick([1.5, 2 ** 40, -0, Number.NaN, null, 10n ** 20n, new Date(0)]);
  if (x < 0.45 || depth > 2)
    return Array.from({ length: r.int(0, 3) }, () => randomToml(r, keys, depth + 1));
  const o: Record<string, unknown> = {};
  for (let n = r.int(0, 6); n > 0; n--)
    o[r.bool(0.85) ? r.pick(keys) : junk(r)] = randomToml(r, keys, depth + 1);
  return o;
}
