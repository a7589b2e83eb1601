/**
 * The loader's fast paths agree with the general code they bypass: plain lines skip the
 * preprocessor's per-line state, the statement scanner skips runs with regular expressions,
 * the location table keys paths lazily, and freezing skips leaves. Each is checked against
 * a straightforward reference on random input (seeded, FUZZ_SEED replays one).
 */
import { describe, expect, test } from "bun:test";
import type { Loc } from "../../src/config/diag.ts";
import { type ColsCache, plainLine, sourceLine } from "../../src/config/keepalived/lexer-text.ts";
import { splitBraces, tokenize } from "../../src/config/keepalived/parser.ts";
import type { SrcLine } from "../../src/config/keepalived/types.ts";
import { deepFreeze } from "../../src/config/model.ts";
import { LocTable, type Path, pathKey } from "../../src/config/path.ts";
import { mulberry32 } from "../../src/core/prng.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 0xc0f1);
const CASES = 4000;

/** Characters that matter to one rule or another, and some that matter to none. */
const ALPHABET = [
  ..."ab z09._-/:",
  " ",
  " ",
  "\t",
  "\v",
  "\f",
  "\r",
  "{",
  "}",
  '"',
  "#",
  "!",
  "\\",
  "$",
  "@",
  "~",
  "\0",
  "é",
  "\u00a0",
  "😀",
];

function randomLine(rnd: () => number): string {
  const n = Math.floor(rnd() * 40);
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return s;
}

describe("plainLine", () => {
  test("is null or exactly what sourceLine gives", () => {
    const rnd = mulberry32(SEED);
    const cache: ColsCache = new Map();
    let plain = 0;
    for (let k = 0; k < CASES; k++) {
      const raw = rnd() < 0.5 ? randomLine(rnd).replace(/[^a-z0-9 .\t]/g, "") : randomLine(rnd);
      const fast = plainLine(raw, cache);
      if (fast === null) continue;
      plain++;
      expect({ raw, ...fast }).toEqual({ raw, ...sourceLine(raw) });
    }
    // Both branches were exercised.
    expect(plain).toBeGreaterThan(CASES / 10);
    expect(plain).toBeLessThan(CASES);
  });

  test("declines what needs the full path", () => {
    const cache: ColsCache = new Map();
    for (const raw of ["", "a # c", "a ! c", 'a "b"', "a\\b", "$X=1", "@id a", "~SEQ(i,1,2) a"])
      expect(plainLine(raw, cache)).toBeNull();
    expect(plainLine("x".repeat(400), cache)).toBeNull();
    expect(plainLine("  weight 1  ", cache)).toEqual({
      text: "weight 1",
      cols: [3, 4, 5, 6, 7, 8, 9, 10],
      chain: null,
    });
  });

  test("lines of one shape share one column array", () => {
    const cache: ColsCache = new Map();
    const a = plainLine("    weight 1", cache);
    const b = plainLine("    weight 2", cache);
    expect(a?.cols).toBe(b?.cols as readonly number[]);
    expect(plainLine("   weight 1", cache)?.cols).not.toBe(a?.cols as readonly number[]);
  });
});

// ─── the statement scanner, against the character-by-character original ──────────────

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const isBlank = (c: number) => c === 32 || c === 9;

function refFindBrace(t: string, from: number): number {
  for (let q = from; q < t.length; q++) {
    const c = t[q];
    if (c === "{" || c === "}") return q;
    if (c === '"') {
      const close = t.indexOf('"', q + 1);
      if (close < 0) return -1;
      q = close;
    }
  }
  return -1;
}

function refSplitBraces(t: string): unknown[] {
  const pieces: unknown[] = [];
  let pos = 0;
  while (pos < t.length) {
    while (pos < t.length && isBlank(t.charCodeAt(pos))) pos++;
    if (pos >= t.length) break;
    const c = t[pos];
    if (c === "{" || c === "}") {
      pieces.push({ kind: c, start: pos });
      pos++;
      continue;
    }
    const brace = refFindBrace(t, pos);
    let end = brace < 0 ? t.length : brace;
    while (end > pos && isBlank(t.charCodeAt(end - 1))) end--;
    pieces.push({ kind: "text", start: pos, end });
    pos = brace < 0 ? t.length : brace;
  }
  return pieces;
}

function refTokenize(t: string, start: number, end: number) {
  const toks: { i: number; text: string; quoted: boolean }[] = [];
  let firstEnd = end;
  let i = start;
  for (;;) {
    while (i < end && isSpace(t.charCodeAt(i))) i++;
    if (i >= end) return { toks, firstEnd, openQuote: -1 };
    if (t[i] === '"') {
      const close = t.indexOf('"', i + 1);
      if (close < 0 || close >= end) return { toks, firstEnd, openQuote: i };
      toks.push({ i, text: t.slice(i + 1, close), quoted: true });
      i = close + 1;
    } else {
      let j = i;
      while (j < end && !isSpace(t.charCodeAt(j)) && t[j] !== '"') j++;
      toks.push({ i, text: t.slice(i, j), quoted: false });
      i = j;
    }
    if (toks.length === 1) firstEnd = i;
  }
}

describe("statement scanning", () => {
  test("splitBraces and tokenize match the per-character scan", () => {
    const rnd = mulberry32(SEED + 1);
    for (let k = 0; k < CASES; k++) {
      const text = randomLine(rnd);
      const pieces: unknown[] = splitBraces(text);
      expect({ text, pieces }).toEqual({ text, pieces: refSplitBraces(text) });
      const line: SrcLine = {
        text,
        file: "f",
        line: 1,
        cols: Array.from({ length: text.length }, (_, i) => i + 1),
      };
      const start = Math.floor(rnd() * (text.length + 1));
      const end = start + Math.floor(rnd() * (text.length - start + 1));
      const got = tokenize(line, start, end);
      const want = refTokenize(text, start, end);
      expect({ text, start, end, firstEnd: got.firstEnd, openQuote: got.openQuote }).toEqual({
        text,
        start,
        end,
        firstEnd: want.firstEnd,
        openQuote: want.openQuote,
      });
      expect(got.toks.map((t) => [t.col, t.text, t.quoted])).toEqual(
        want.toks.map((t) => [t.i + 1, t.text, t.quoted]),
      );
    }
  });
});

// ─── the location table ───────────────────────────────────────────────────────────────

describe("LocTable keyed lazily", () => {
  test("answers as a table keyed at every write would", () => {
    const rnd = mulberry32(SEED + 2);
    const segs: (string | number)[] = ["a", "b", 0, 1, "0", "vs"];
    const randomPath = (): Path =>
      Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => segs[Math.floor(rnd() * 6)] ?? "a");
    for (let round = 0; round < 200; round++) {
      const fallback: Loc = { file: "f", line: 0, col: 0 };
      const table = new LocTable(fallback);
      const ref = new Map<string, Loc>();
      for (let k = 0; k < 30; k++) {
        const path = randomPath();
        const loc: Loc = { file: "f", line: round * 100 + k + 1, col: 1 };
        const op = rnd();
        if (op < 0.4) {
          table.set(path, loc);
          ref.set(pathKey(path), loc);
        } else if (op < 0.8) {
          table.setIfAbsent(path, loc);
          if (!ref.has(pathKey(path))) ref.set(pathKey(path), loc);
        } else {
          // Lookups in the middle: later writes must still land.
          expect(table.get(path)).toEqual(ref.get(pathKey(path)) as Loc);
        }
      }
      for (let k = 0; k < 20; k++) {
        const path = randomPath();
        expect(table.get(path)).toEqual(ref.get(pathKey(path)) as Loc);
        let near: Loc = fallback;
        for (let n = path.length; n >= 0; n--) {
          const hit = ref.get(pathKey(path.slice(0, n)));
          if (hit) {
            near = hit;
            break;
          }
        }
        expect(table.nearest(path)).toEqual(near);
      }
    }
  });
});

describe("deepFreeze", () => {
  test("freezes every object and array below, and nothing else changes", () => {
    const shared = { x: [1, { y: 2 }] };
    const v = { a: [shared, shared, [3, [4]]], b: { c: "s", d: null, e: shared }, n: 1 };
    const before = JSON.stringify(v);
    expect(deepFreeze(v)).toBe(v);
    expect(JSON.stringify(v)).toBe(before);
    const all = new Set<unknown>();
    const walk = (x: unknown) => {
      if (typeof x !== "object" || x === null) return;
      all.add(x);
      for (const y of Object.values(x)) walk(y);
    };
    walk(v);
    expect(all.size).toBe(8);
    for (const x of all) expect(Object.isFrozen(x)).toBe(true);
    expect(deepFreeze(5)).toBe(5);
    expect(deepFreeze(null)).toBeNull();
  });
});
