/**
 * Text primitives for the keepalived.conf preprocessor: a line being rewritten keeps, for
 * every character, its column in the source line (`cols`) and the chain of parameter
 * expansions that produced it (`chain`, used to stop `$A=$A` from looping).
 */

/** keepalived lib/parser.h MAXBUF: the read buffer, including the newline and the NUL. */
export const MAXBUF_BYTES = 1024;
/** Longest line content keepalived accepts: MAXBUF less the newline and the terminator. */
export const MAX_LINE_BYTES = MAXBUF_BYTES - 2;
/** Longest line a parameter substitution may produce (the buffer less its terminator). */
export const MAX_EXPANDED_BYTES = MAXBUF_BYTES - 1;

/** One link of an expansion chain: the parameter `name`, expanded inside `parent`. */
export interface ChainNode {
  readonly name: string;
  readonly parent: ChainNode | null;
}

export interface Rich {
  readonly text: string;
  /** 1-based source column of each character. */
  readonly cols: readonly number[];
  /** Expansion chain of each character; null when no character came from an expansion. */
  readonly chain: readonly (ChainNode | null)[] | null;
}

export function identityCols(n: number, first = 1): number[] {
  const cols: number[] = [];
  for (let i = 0; i < n; i++) cols.push(first + i);
  return cols;
}

export function richOf(text: string, firstCol = 1): Rich {
  return { text, cols: identityCols(text.length, firstCol), chain: null };
}

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Columns count characters (Unicode code points, see Loc), not UTF-16 units: both halves
 * of a surrogate pair get the pair's column. Only lines holding a surrogate need this.
 */
function charCols(text: string): number[] {
  const cols = new Array<number>(text.length);
  let col = 0;
  let high = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const low = c >= 0xdc00 && c <= 0xdfff;
    if (!(low && high)) col++;
    high = !low && c >= 0xd800 && c <= 0xdbff;
    cols[i] = col;
  }
  return cols;
}

/** The character column of UTF-16 index `i` of a source line (i ≤ its length). */
export function charColAt(text: string, i: number): number {
  const before = text.slice(0, i + 1);
  if (!SURROGATE.test(before)) return i + 1;
  return colAt(richOfChars(before), i);
}

function richOfChars(text: string): Rich {
  return { text, cols: charCols(text), chain: null };
}

/**
 * A source line as decomment() would leave it, built directly (one cols array) when the
 * line holds no quote, comment, backslash or character outside the BMP: the common case.
 */
export function sourceLine(
  raw: string,
  onOpenQuote?: (col: number) => void,
  cache?: ColsCache,
): Rich {
  if (SURROGATE.test(raw)) return decomment(richOfChars(raw), onOpenQuote);
  if (COMMENT_OR_QUOTE.test(raw)) return decomment(richOf(raw), onOpenQuote);
  const start = skipBlanks(raw, 0);
  let end = raw.length;
  while (end > start && isBlankCode(raw.charCodeAt(end - 1))) end--;
  const text = start === 0 && end === raw.length ? raw : raw.slice(start, end);
  return { text, cols: sharedIdentityCols(end - start, start + 1, cache), chain: null };
}

/**
 * Anything that gives a line more to do than trimming its blanks: a NUL or CR, quotes,
 * comments, escapes, parameters (`$`), conditionals (`@`), sequences (`~`), characters
 * outside the BMP. Most lines of a large configuration hold none of them.
 */
const NOT_PLAIN = /[\0\r"#!\\$@~\ud800-\udfff]/;

/**
 * The fast path of a physical line: when `raw` is non-empty, short enough that its UTF-8
 * length cannot pass MAX_LINE_BYTES, and holds nothing NOT_PLAIN matches, it is its own
 * logical line once trimmed, exactly as sourceLine and the preprocessor would leave it.
 * Returns null for every other line, which takes the full path.
 */
export function plainLine(raw: string, cache: ColsCache): Rich | null {
  if (raw.length === 0 || raw.length * 3 > MAX_LINE_BYTES || NOT_PLAIN.test(raw)) return null;
  const start = skipBlanks(raw, 0);
  let end = raw.length;
  while (end > start && isBlankCode(raw.charCodeAt(end - 1))) end--;
  const text = start === 0 && end === raw.length ? raw : raw.slice(start, end);
  return { text, cols: sharedIdentityCols(end - start, start + 1, cache), chain: null };
}

/**
 * Column arrays of plain lines, by indent and length. Nothing writes a `cols` array once
 * built (every rewrite makes a new one), so lines alike share one: a generated LVS
 * configuration repeats a handful of line shapes tens of thousands of times.
 */
export type ColsCache = Map<number, readonly number[]>;
/** Longer lines than keepalived reads (MAXBUF) are never shared. */
const SHARE_BELOW = 4096;

function sharedIdentityCols(n: number, first: number, cache?: ColsCache): readonly number[] {
  if (!cache || n >= SHARE_BELOW || first >= SHARE_BELOW) return identityCols(n, first);
  const key = first * SHARE_BELOW + n;
  let cols = cache.get(key);
  if (!cols) {
    cols = identityCols(n, first);
    cache.set(key, cols);
  }
  return cols;
}

/** All characters at one column: text that came from an expansion at `col`. */
export function richAt(text: string, col: number): Rich {
  return { text, cols: new Array<number>(text.length).fill(col), chain: null };
}

export function sliceRich(r: Rich, start: number, end = r.text.length): Rich {
  if (start === 0 && end >= r.text.length) return r;
  return {
    text: r.text.slice(start, end),
    cols: r.cols.slice(start, end),
    chain: r.chain ? r.chain.slice(start, end) : null,
  };
}

/** Drops the expansion chains: they only mean something while one line is processed. */
export function plainRich(r: Rich): Rich {
  return r.chain ? { text: r.text, cols: r.cols, chain: null } : r;
}

/** Column of character `i`, or just past the end for an index beyond the text. */
export function colAt(r: Rich, i: number): number {
  const c = r.cols[i];
  if (c !== undefined) return c;
  const last = r.cols[r.cols.length - 1];
  return last === undefined ? 1 : last + 1;
}

export function isBlankCode(c: number): boolean {
  return c === 32 || c === 9;
}

/** C isspace(): space, \t, \n, \v, \f, \r. */
export function isSpaceCode(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

export function skipBlanks(s: string, i: number): number {
  // The test is written out, not isBlankCode: this runs for every character of indentation.
  for (let c = s.charCodeAt(i); c === 32 || c === 9; c = s.charCodeAt(i)) i++;
  return i;
}

/** UTF-8 length, computed only when the UTF-16 length cannot settle the question. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}

export function exceedsBytes(s: string, max: number): boolean {
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return utf8Length(s) > max;
}

const COMMENT_OR_QUOTE = /["#!\\]/;

/**
 * keepalived lib/parser.c decomment(): strips leading and trailing blanks, cuts the line at
 * the first `#` or `!` outside double quotes, turns `\#` / `\!` outside quotes into the bare
 * character, and keeps a final `\` (the multi-line definition marker) glued to the text.
 * `onOpenQuote` receives the column of a double quote left open at the end of the line.
 */
export function decomment(r: Rich, onOpenQuote?: (col: number) => void): Rich {
  const t = r.text;
  const n = t.length;
  const start = skipBlanks(t, 0);
  let cut = n;
  let cont = false;
  let openQuote = -1;
  const escapes: number[] = [];
  if (COMMENT_OR_QUOTE.test(t)) {
    for (let i = start; i < n; i++) {
      const c = t.charCodeAt(i);
      if (c === 34) {
        openQuote = openQuote < 0 ? i : -1;
      } else if (c === 92) {
        if (i + 1 >= n) {
          cut = i;
          cont = true;
          break;
        }
        const d = t.charCodeAt(i + 1);
        if (openQuote < 0 && (d === 35 || d === 33)) escapes.push(i);
        i++; // the escaped character is never a quote toggle nor a comment
      } else if (openQuote < 0 && (c === 35 || c === 33)) {
        cut = i;
        break;
      }
    }
  }
  if (openQuote >= 0 && onOpenQuote) onOpenQuote(colAt(r, openQuote));
  let end = cut;
  while (end > start && isBlankCode(t.charCodeAt(end - 1))) end--;
  let out = sliceRich(r, start, end);
  if (escapes.length > 0) out = removeChars(r, start, end, escapes);
  if (cont) out = appendRich(out, sliceRich(r, cut, cut + 1));
  return out;
}

function removeChars(r: Rich, start: number, end: number, drop: readonly number[]): Rich {
  const parts: Rich[] = [];
  let from = start;
  for (const i of drop) {
    if (i >= end) break;
    parts.push(sliceRich(r, from, i));
    from = i + 1;
  }
  parts.push(sliceRich(r, from, end));
  return parts.reduce(appendRich);
}

export function appendRich(a: Rich, b: Rich): Rich {
  if (b.text.length === 0) return a;
  if (a.text.length === 0) return b;
  const chain =
    a.chain || b.chain
      ? [
          ...(a.chain ?? new Array<null>(a.text.length).fill(null)),
          ...(b.chain ?? new Array<null>(b.text.length).fill(null)),
        ]
      : null;
  return { text: a.text + b.text, cols: [...a.cols, ...b.cols], chain };
}

/** Replaces `[start, end)` of `r` with `value`, every new character at column `col`. */
export function spliceRich(
  r: Rich,
  start: number,
  end: number,
  value: string,
  col: number,
  node: ChainNode,
): Rich {
  const n = r.text.length;
  const chainOf = (i: number): ChainNode | null => (r.chain ? (r.chain[i] ?? null) : null);
  const cols = new Array<number>(n - (end - start) + value.length);
  const chain = new Array<ChainNode | null>(cols.length);
  let k = 0;
  for (let i = 0; i < start; i++, k++) {
    cols[k] = r.cols[i] ?? col;
    chain[k] = chainOf(i);
  }
  for (let i = 0; i < value.length; i++, k++) {
    cols[k] = col;
    chain[k] = node;
  }
  for (let i = end; i < n; i++, k++) {
    cols[k] = r.cols[i] ?? col;
    chain[k] = chainOf(i);
  }
  return { text: r.text.slice(0, start) + value + r.text.slice(end), cols, chain };
}

/** Directory part of a path, as keepalived's chdir() into the included file's directory. */
export function dirName(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  if (slash === 0) return "/";
  return path.slice(0, slash);
}

/** Lexical normalisation: collapses `//`, `.` and `dir/..`; keeps a leading `/`. */
export function normalizePath(path: string): string {
  const abs = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (part !== ".." || !abs) out.push(part);
  }
  const joined = out.join("/");
  if (abs) return `/${joined}`;
  return joined === "" ? "." : joined;
}
