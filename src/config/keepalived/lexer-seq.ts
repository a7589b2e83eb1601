/**
 * `~SEQ(var, start, step, end)`, `~SEQx(...)` and `~LST(var, v1, v2...)` /
 * `~LST({A,B}, {1,2}, {3,4})` line generators (keepalived lib/parser.c add_seq, add_lst and
 * the generator branch of read_line).
 */
import { isSpaceCode, type Rich, skipBlanks, sliceRich } from "./lexer-text.ts";

interface Origin {
  readonly file: string;
  readonly line: number;
}

export interface SeqGen extends Origin {
  readonly kind: "seq";
  readonly name: string;
  next: number;
  readonly step: number;
  readonly last: number;
  readonly hex: boolean;
  /** The rest of the line after the specification, repeated once per value. */
  readonly text: Rich;
}

export interface LstGen extends Origin {
  readonly kind: "lst";
  readonly names: readonly string[];
  readonly sets: readonly (readonly string[])[];
  next: number;
  readonly text: Rich;
}

export type Gen = SeqGen | LstGen;

/** The result of parsing a specification: a generator, or why it is invalid. */
export type SpecResult = { readonly gen: Gen } | { readonly error: string };

/** C strtol(s, &end, 0): blanks, sign, then 0x hex, 0 octal or decimal; no digits → 0. */
function strtol(s: string, i: number): { value: number; end: number } {
  let p = i;
  while (p < s.length && isSpaceCode(s.charCodeAt(p))) p++;
  let sign = 1;
  if (s[p] === "+" || s[p] === "-") {
    if (s[p] === "-") sign = -1;
    p++;
  }
  let base = 10;
  let digits = /[0-9]/;
  if (
    s[p] === "0" &&
    (s[p + 1] === "x" || s[p + 1] === "X") &&
    /[0-9a-fA-F]/.test(s[p + 2] ?? "")
  ) {
    base = 16;
    digits = /[0-9a-fA-F]/;
    p += 2;
  } else if (s[p] === "0") {
    base = 8;
    digits = /[0-7]/;
  }
  const from = p;
  while (p < s.length && digits.test(s[p] ?? "")) p++;
  if (p === from) return { value: 0, end: i };
  return { value: sign * Number.parseInt(s.slice(from, p), base), end: p };
}

/**
 * Parses `~SEQ(...)` / `~SEQx(...)` at the start of `line`. `expand` substitutes parameters
 * in the numeric part (keepalived runs replace_param over it), returning null on failure.
 */
export function parseSeq(line: Rich, origin: Origin, expand: (s: Rich) => string): SpecResult {
  const t = line.text;
  let p = 4;
  const hex = t[p] === "x";
  if (hex) p++;
  p = skipBlanks(t, p);
  if (t[p] !== "(") return { error: "expected '(' after ~SEQ" };
  p = skipBlanks(t, p + 1);
  const nameStart = p;
  while (p < t.length && !" \t,)".includes(t[p] ?? "")) p++;
  const name = t.slice(nameStart, p);
  p = skipBlanks(t, p);
  if (name === "" || name.startsWith("{") || t[p] !== ",") {
    return { error: "expected a variable name and ',' after '~SEQ('" };
  }
  p = skipBlanks(t, p + 1);
  const close = t.indexOf(")", p);
  if (close < 0) return { error: "missing terminating ')'" };
  const nums = seqNumbers(expand(sliceRich(line, p, close + 1)));
  if ("error" in nums) return nums;
  if (hex && (nums.start < 0 || nums.last < 0)) {
    return { error: "~SEQx is only valid for non-negative numbers" };
  }
  const textStart = skipBlanks(t, close + 1);
  const text = sliceText(line, textStart);
  return { gen: { kind: "seq", name, hex, text, ...nums, next: nums.start, ...origin } };
}

type SeqNumbers = { start: number; step: number; last: number } | { error: string };

/** keepalived add_seq(): `(end)`, `(start, end)` or `(start, step, end)` up to `)`. */
function seqNumbers(s: string): SeqNumbers {
  const bad = { error: "expected 1 to 3 comma-separated numbers before ')'" };
  const nums: number[] = [];
  let p = 0;
  for (;;) {
    const n = strtol(s, p);
    nums.push(n.value);
    p = skipBlanks(s, n.end);
    if (s[p] === ")") break;
    if (s[p] !== "," || nums.length === 3) return bad;
    p++;
  }
  const [a = 0, b = 0, c = 0] = nums;
  if (nums.length === 1) return { start: a < 0 ? -1 : 1, step: a < 1 ? -1 : 1, last: a };
  if (nums.length === 2) return { start: a, step: a <= b ? 1 : -1, last: b };
  if (b === 0 || (a < c && b < 0) || (a > c && b > 0)) {
    return { error: `step ${b} never gets from ${a} to ${c}` };
  }
  return { start: a, step: b, last: c };
}

/** The repeated text; expansion chains are dropped, they belong to the defining line. */
function sliceText(line: Rich, start: number): Rich {
  return { text: line.text.slice(start), cols: line.cols.slice(start), chain: null };
}

/** A cursor over the specification text; `fail` is set on the first syntax error. */
class Scan {
  p: number;
  constructor(
    readonly t: string,
    p: number,
  ) {
    this.p = skipBlanks(t, p);
  }
  /** Consumes `c` (and the blanks after it) if it is next. */
  eat(c: string): boolean {
    if (this.t[this.p] !== c) return false;
    this.p = skipBlanks(this.t, this.p + 1);
    return true;
  }
  word(stops: string): string {
    const from = this.p;
    while (this.p < this.t.length && !stops.includes(this.t[this.p] ?? "")) this.p++;
    const w = this.t.slice(from, this.p);
    this.p = skipBlanks(this.t, this.p);
    return w;
  }
  peek(): string | undefined {
    return this.t[this.p];
  }
}

/** keepalived add_lst(): `~LST(var, v1, ...)` or `~LST({a, b}, {1, 2}, ...)`. */
export function parseLst(line: Rich, origin: Origin): SpecResult {
  const s = new Scan(line.text, 4);
  if (!s.eat("(")) return { error: "expected '(' after ~LST" };
  const names = lstNames(s);
  if (!names) return { error: "expected variable names then ',' after '~LST('" };
  const sets: string[][] = [];
  for (;;) {
    const set = lstValues(s, names.length);
    if (typeof set === "string") return { error: set };
    sets.push(set);
    if (s.eat(")")) break;
    if (!s.eat(",")) return { error: "expected ',' or ')' after a ~LST value" };
  }
  const text = sliceText(line, s.p);
  return { gen: { kind: "lst", names, sets, next: 0, text, ...origin } };
}

function lstNames(s: Scan): string[] | null {
  const braced = s.eat("{");
  const names: string[] = [];
  for (;;) {
    const name = s.word(" \t,}");
    if (name === "") return null;
    names.push(name);
    if (!braced || s.eat("}")) break;
    if (!s.eat(",")) return null;
  }
  return s.eat(",") ? names : null;
}

/** One value set; missing values are empty, as in keepalived. */
function lstValues(s: Scan, count: number): string[] | string {
  const braced = s.eat("{");
  const values: string[] = [];
  for (;;) {
    values.push(s.word(" \t,})"));
    if (braced ? s.eat("}") : s.peek() === "," || s.peek() === ")") break;
    if (!s.eat(",")) return "expected ',' between ~LST values";
    if (values.length >= count) return "~LST value set has more values than variables";
  }
  while (values.length < count) values.push("");
  return values;
}

/** The value the generator gives its variable(s) next, advancing it. True when exhausted. */
export function advance(g: Gen, set: (name: string, value: string) => void): boolean {
  if (g.kind === "seq") {
    set(g.name, g.hex ? g.next.toString(16) : String(g.next));
    g.next += g.step;
    return g.step > 0 ? g.next > g.last : g.next < g.last;
  }
  const values = g.sets[g.next] ?? [];
  g.names.forEach((name, i) => {
    set(name, values[i] ?? "");
  });
  g.next++;
  return g.next >= g.sets.length;
}
