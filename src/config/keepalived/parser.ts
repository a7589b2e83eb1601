/**
 * Preprocessed lines → the generic statement tree. Brace splitting and tokenising follow
 * keepalived lib/parser.c (read_line's brace search, alloc_strvec_r, process_stream); the
 * keywords themselves mean nothing here, the lowering stage gives them meaning.
 */
import type { Diags, Loc } from "../diag.ts";
import type { SrcLine, Stmt, Tok } from "./types.ts";

/** Token separators: C isspace(), keepalived's WHITE_SPACE. */
const isBlank = (c: number) => c === 32 || c === 9;

/** A run of a line between braces, or one brace. */
type Piece =
  | { readonly kind: "text"; readonly start: number; readonly end: number }
  | { readonly kind: "{"; readonly start: number }
  | { readonly kind: "}"; readonly start: number };

/** Source column of character `i`; just past the last character for an index beyond it. */
function colAt(line: SrcLine, i: number): number {
  return line.cols[i] ?? (line.cols[line.cols.length - 1] ?? 0) + 1;
}

function locAt(line: SrcLine, i: number): Loc {
  return { file: line.file, line: line.line, col: colAt(line, i) };
}

function tok(line: SrcLine, i: number, text: string, quoted: boolean): Tok {
  const col = line.cols[i] ?? colAt(line, i);
  return { file: line.file, line: line.line, col, text, quoted };
}

/**
 * The scans below run for every line of a configuration that may have tens of thousands,
 * mostly before the JIT has compiled anything, when every call costs: words and the search
 * for a brace are one regular-expression call each, not a call per character, and the
 * short runs of blanks between words are tested inline. C isspace() is [\t-\r ].
 */
const WORD = /[^\t-\r "]*/y;
const BRACE_OR_QUOTE = /[{}"]/g;

/** The first index in [i, end) that is not C isspace(), or `end`. */
function skipSpaces(t: string, i: number, end: number): number {
  for (let c = t.charCodeAt(i); i < end && (c === 32 || (c >= 9 && c <= 13)); c = t.charCodeAt(i))
    i++;
  return i;
}

/** The index after the run `re` (a sticky `*` expression) matches at `i` (i ≤ t.length). */
function skipRun(re: RegExp, t: string, i: number): number {
  re.lastIndex = i;
  re.test(t);
  return re.lastIndex;
}

/**
 * keepalived read_line(): a line is cut at its first `{` or `}` outside double quotes and
 * the remainder is read again as a line of its own; a line starting with a brace yields the
 * brace alone. An unterminated quote stops the search, so nothing after it is split.
 */
export function splitBraces(t: string): Piece[] {
  const pieces: Piece[] = [];
  scanPieces(t, {
    brace: (kind, start) => pieces.push(kind === "{" ? { kind: "{", start } : { kind: "}", start }),
    text: (start, end) => pieces.push({ kind: "text", start, end }),
  });
  return pieces;
}

/** What scanPieces finds, in order; parseStatements acts on it without building pieces. */
interface PieceVisitor {
  brace(kind: "{" | "}", start: number): void;
  text(start: number, end: number): void;
}

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const QUOTE = 34;

function scanPieces(t: string, v: PieceVisitor): void {
  let pos = 0;
  while (pos < t.length) {
    for (let c = t.charCodeAt(pos); c === 32 || c === 9; c = t.charCodeAt(pos)) pos++;
    if (pos >= t.length) break;
    const c = t.charCodeAt(pos);
    if (c === OPEN_BRACE || c === CLOSE_BRACE) {
      v.brace(c === OPEN_BRACE ? "{" : "}", pos);
      pos++;
      continue;
    }
    const brace = findBrace(t, pos);
    let end = brace < 0 ? t.length : brace;
    while (end > pos && isBlank(t.charCodeAt(end - 1))) end--;
    v.text(pos, end);
    pos = brace < 0 ? t.length : brace;
  }
}

function findBrace(t: string, from: number): number {
  let q = from;
  for (;;) {
    BRACE_OR_QUOTE.lastIndex = q;
    if (!BRACE_OR_QUOTE.test(t)) return -1;
    q = BRACE_OR_QUOTE.lastIndex - 1;
    if (t.charCodeAt(q) !== QUOTE) return q;
    const close = t.indexOf('"', q + 1);
    if (close < 0) return -1;
    q = close + 1;
  }
}

/**
 * keepalived alloc_strvec_r(): whitespace-separated words; a `"` starts a word that runs to
 * the next `"` (quotes removed) and also ends an unquoted word. An unmatched `"` ends the
 * line's words, as in keepalived. Returns the tokens and, if any, the unmatched quote index.
 */
export function tokenize(
  line: SrcLine,
  start: number,
  end: number,
): { toks: Tok[]; firstEnd: number; openQuote: number } {
  const args: Tok[] = [];
  scanTokens(line, start, end, args);
  const toks = scan.kw ? [scan.kw, ...args] : args;
  const out = { toks, firstEnd: scan.firstEnd, openQuote: scan.openQuote };
  scan.kw = undefined;
  return out;
}

/**
 * What scanTokens found besides the arguments. One record, rewritten by every scan (a scan
 * never nests): a statement per line of a large configuration then costs no result object
 * and no second token array.
 */
const scan: { kw: Tok | undefined; firstEnd: number; openQuote: number } = {
  kw: undefined,
  firstEnd: 0,
  openQuote: -1,
};

/** tokenize's scan: the first word goes to `scan.kw`, the others to `args`. */
function scanTokens(line: SrcLine, start: number, end: number, args: Tok[]): void {
  const t = line.text;
  scan.kw = undefined;
  scan.firstEnd = end;
  scan.openQuote = -1;
  let i = start;
  for (;;) {
    i = skipSpaces(t, i, end);
    if (i >= end) return;
    let word: Tok;
    if (t.charCodeAt(i) === QUOTE) {
      const close = t.indexOf('"', i + 1);
      if (close < 0 || close >= end) {
        scan.openQuote = i;
        return;
      }
      word = tok(line, i, t.slice(i + 1, close), true);
      i = close + 1;
    } else {
      const j = Math.min(skipRun(WORD, t, i), end);
      word = tok(line, i, t.slice(i, j), false);
      i = j;
    }
    if (scan.kw) args.push(word);
    else {
      scan.kw = word;
      scan.firstEnd = i;
    }
  }
}

/** Whether the preprocessor already reported this quote (its decomment saw an odd count). */
function lexerSawOpenQuote(t: string): boolean {
  let open = false;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === "\\") i++;
    else if (t[i] === '"') open = !open;
  }
  return open;
}

/** A statement under construction: its block and `{` location are added when one opens. */
interface Building {
  readonly kw: Tok;
  readonly args: readonly Tok[];
  readonly rest: string;
  readonly restLoc: Loc;
  block?: Building[];
  openLoc?: Loc;
}

interface Level {
  readonly owner: Building | null;
  readonly stmts: Building[];
}

function statement(line: SrcLine, start: number, end: number, diags: Diags): Building | null {
  const args: Tok[] = [];
  scanTokens(line, start, end, args);
  const { kw, firstEnd, openQuote } = scan;
  scan.kw = undefined;
  if (openQuote >= 0 && !lexerSawOpenQuote(line.text)) {
    const msg = "unmatched double quote; the rest of the line is ignored";
    diags.warn(locAt(line, openQuote), "unmatched-quote", msg);
  }
  if (!kw) return null;
  const r = skipSpaces(line.text, firstEnd, end);
  const restLoc = r < end ? locAt(line, r) : { ...locAt(line, r - 1), col: colAt(line, r - 1) + 1 };
  return { kw, args, rest: line.text.slice(r, end), restLoc };
}

function openBlock(level: Level, line: SrcLine, at: number, diags: Diags): Level | null {
  const prev = level.stmts[level.stmts.length - 1];
  if (!prev || prev.block) {
    const msg = "unexpected '{' with no statement before it; ignored";
    diags.warn(locAt(line, at), "unexpected-brace", msg);
    return null;
  }
  prev.block = [];
  prev.openLoc = locAt(line, at);
  return { owner: prev, stmts: prev.block };
}

/**
 * Builds the statement tree. A `{` opens a block on the statement just before it in the
 * same block (on the same line or the next, as keepalived allows); a stray `}` is ignored
 * with a warning, and blocks still open at the end are closed with one.
 */
export function parseStatements(lines: readonly SrcLine[], diags: Diags): Stmt[] {
  const root: Level = { owner: null, stmts: [] };
  const stack: Level[] = [root];
  let line: SrcLine | undefined;
  const visitor: PieceVisitor = {
    brace(kind, start) {
      const at = line as SrcLine;
      if (kind === "{") {
        const inner = openBlock(stack[stack.length - 1] ?? root, at, start, diags);
        if (inner) stack.push(inner);
      } else if (stack.length > 1) stack.pop();
      else
        diags.warn(
          locAt(at, start),
          "unexpected-brace",
          "unexpected '}' with no open block; ignored",
        );
    },
    text(start, end) {
      const stmt = statement(line as SrcLine, start, end, diags);
      if (stmt) (stack[stack.length - 1] ?? root).stmts.push(stmt);
    },
  };
  for (line of lines) scanPieces(line.text, visitor);
  for (const { owner } of stack) {
    if (!owner?.openLoc) continue;
    diags.warn(
      owner.openLoc,
      "missing-brace",
      `block of '${owner.kw.text}' is never closed with '}'`,
    );
  }
  // Building is Stmt with its block still open to additions; none are made from here on.
  const stmts: Stmt[] = root.stmts;
  return stmts;
}
