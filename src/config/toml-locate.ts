/**
 * Source positions for TOML documents. smol-toml validates and parses but keeps no
 * positions, so the validator, which must report `file:line:col`, asks this module where
 * a key path was defined. One linear pass over the text, run after smol-toml accepted it,
 * records the offset of every path; on text it cannot follow it stops and keeps what it
 * found, and it never throws. Lines and columns are worked out only for the paths asked
 * for (a binary search over line starts, then a walk along the line).
 *
 * Section references are to the TOML 1.0.0 specification (https://toml.io/en/v1.0.0).
 */

import { CH, Cursor, type KeySeg } from "./toml-locate-scan.ts";

/** A table key, or an index into an array (inline arrays and arrays of tables alike). */
export type PathSeg = string | number;

export interface TomlLocs {
  /**
   * Where `path` was defined: 1-based line, and column counted in Unicode code points.
   * Array indices must be numbers: ["a", 0] is an element, ["a", "0"] a key named "0".
   */
  get(path: readonly PathSeg[]): { line: number; col: number } | undefined;
}

/** Nesting of arrays and inline tables beyond which the scan stops, to bound recursion. */
const MAX_DEPTH = 1000;

/**
 * Paths become map keys: a name as `<length>:<name>`, an index as `#<n>;`, concatenated.
 * Read left to right this is unambiguous whatever the names contain, and needs no escaping.
 */
function seg(s: PathSeg): string {
  return typeof s === "number" ? `#${s};` : `${s.length}:${s}`;
}

function child(parent: string, s: PathSeg): string {
  return parent + seg(s);
}

/**
 * Path key → UTF-16 offset where the path was defined, stored as the offset when the
 * definition was explicit and as its bitwise complement (negative) when it was implicit.
 */
type Offsets = Map<string, number>;

export function locateToml(text: string): TomlLocs {
  const offsets: Offsets = new Map();
  new Locator(new Cursor(text), offsets).run();
  let starts: number[] | undefined;
  return {
    get(path) {
      const v = offsets.get(path.map(seg).join(""));
      if (v === undefined) return undefined;
      starts ??= lineStarts(text);
      return lineCol(text, starts, v < 0 ? ~v : v);
    },
  };
}

/** Offsets where lines start. Spec "Spec": a newline is LF or CRLF, so LF ends a line. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line, and column in code points (a byte-order mark is not a column). */
function lineCol(
  text: string,
  starts: readonly number[],
  offset: number,
): { line: number; col: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  let i = lo === 0 && text.charCodeAt(0) === 0xfeff ? 1 : starts[lo]!;
  let col = 1;
  for (; i < offset; col++) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    i += pair ? 2 : 1;
  }
  return { line: lo + 1, col };
}

class Locator {
  /** Resolved path of an array of tables → how many `[[...]]` elements it has so far. */
  private readonly aotCount = new Map<string, number>();

  constructor(
    private readonly cur: Cursor,
    private readonly offsets: Offsets,
  ) {}

  /**
   * The first definition of a path wins, except that an explicit one replaces an implicit
   * one: spec "Table" allows `[a.b]` before `[a]`, and `[a]` is where `a` is defined.
   */
  private define(key: string, at: number, explicit: boolean): void {
    const old = this.offsets.get(key);
    if (old === undefined || (explicit && old < 0)) this.offsets.set(key, explicit ? at : ~at);
  }

  /**
   * The top level (spec ABNF `toml = expression *( newline expression )`): one key/value
   * pair or header per line. This loop and those in array() and inlineTable() go round
   * again only after consuming something (a statement, a comma), so they always end.
   */
  run(): void {
    const cur = this.cur;
    let table = "";
    for (;;) {
      cur.skipTrivia();
      if (cur.eof) return;
      if (cur.peek() === CH.LBRACKET) {
        const next = this.header();
        if (next === undefined) return;
        table = next;
      } else if (!this.keyValue(table, 0)) {
        return;
      }
      if (!cur.atEndOfLine()) return;
    }
  }

  /**
   * Spec "Table" and "Array of Tables": `[a.b]` or `[[a.b]]`; returns the resolved path
   * of the table that following key/value pairs belong to. Every path the header names
   * is located at its first key segment.
   */
  private header(): string | undefined {
    const cur = this.cur;
    cur.eat(CH.LBRACKET);
    const isArray = cur.eat(CH.LBRACKET);
    cur.skipWs();
    const segs = cur.readKey();
    if (segs === undefined || !cur.eat(CH.RBRACKET)) return undefined;
    if (isArray && !cur.eat(CH.RBRACKET)) return undefined;
    const at = segs[0]!.at;
    let key = "";
    segs.forEach((s, i) => {
      key = child(key, s.name);
      const last = i === segs.length - 1;
      if (last && isArray) {
        this.define(key, at, false);
        const n = this.aotCount.get(key) ?? 0;
        this.aotCount.set(key, n + 1);
        key = child(key, n);
        this.define(key, at, true);
        return;
      }
      this.define(key, at, last);
      // Spec "Array of Tables": a header naming an array of tables refers to its most
      // recently defined element, e.g. `[fruits.physical]` after `[[fruits]]`.
      const n = this.aotCount.get(key);
      if (n !== undefined) key = child(key, n - 1);
    });
    return key;
  }

  /**
   * Spec "Key/Value Pair" and "Keys": `k = v`, `a.b.c = v`. The full path is at the key's first
   * character, each intermediate prefix (an implicitly created table) at its own segment.
   */
  private keyValue(table: string, depth: number): boolean {
    const cur = this.cur;
    const segs: KeySeg[] | undefined = cur.readKey();
    if (segs === undefined || !cur.eat(CH.EQUALS)) return false;
    let key = table;
    const lastIndex = segs.length - 1;
    for (let i = 0; i < lastIndex; i++) {
      const s = segs[i]!;
      key = child(key, s.name);
      this.define(key, s.at, false);
    }
    key = child(key, segs[lastIndex]!.name);
    this.define(key, segs[0]!.at, true);
    cur.skipWs();
    return this.value(key, depth);
  }

  /** Any value (spec "Key/Value Pair": it starts on the key's line). */
  private value(key: string, depth: number): boolean {
    const cur = this.cur;
    if (depth > MAX_DEPTH) return false;
    switch (cur.peek()) {
      case CH.DQUOTE:
      case CH.SQUOTE:
        return cur.skipString();
      case CH.LBRACKET:
        return this.array(key, depth + 1);
      case CH.LBRACE:
        return this.inlineTable(key, depth + 1);
      default:
        return cur.skipScalar();
    }
  }

  /**
   * Spec "Array": elements separated by commas, with newlines, comments and a trailing
   * comma allowed anywhere between them. Element i is located at its first character.
   */
  private array(key: string, depth: number): boolean {
    const cur = this.cur;
    cur.eat(CH.LBRACKET);
    for (let i = 0; ; i++) {
      cur.skipTrivia();
      if (cur.eat(CH.RBRACKET)) return true;
      const elem = child(key, i);
      this.define(elem, cur.pos, true);
      if (!this.value(elem, depth)) return false;
      cur.skipTrivia();
      if (cur.eat(CH.COMMA)) continue;
      return cur.eat(CH.RBRACKET);
    }
  }

  /**
   * Spec "Inline Table": `{ k = v, ... }` on one line, no trailing comma. Newlines,
   * comments and a trailing comma (TOML 1.1) are tolerated, since nothing here validates.
   */
  private inlineTable(key: string, depth: number): boolean {
    const cur = this.cur;
    cur.eat(CH.LBRACE);
    for (;;) {
      cur.skipTrivia();
      if (cur.eat(CH.RBRACE)) return true;
      if (!this.keyValue(key, depth)) return false;
      cur.skipTrivia();
      if (cur.eat(CH.COMMA)) continue;
      return cur.eat(CH.RBRACE);
    }
  }
}
