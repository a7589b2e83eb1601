/**
 * Preprocessed lines → the generic statement tree. Brace splitting and tokenising follow
 * keepalived lib/parser.c (read_line's brace search, alloc_strvec_r, process_stream); the
 * keywords themselves mean nothing here, the lowering stage gives them meaning.
 */
import type { Diags, Loc } from "../diag.ts";
import type { SrcLine, Stmt, Tok } from "./types.ts";

/** Token separators: C isspace(), keepalived's WHITE_SPACE. */
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
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
  return { file: line.file, line: line.line, col: colAt(line, i), text, quoted };
}

/**
 * keepalived read_line(): a line is cut at its first `{` or `}` outside double quotes and
 * the remainder is read again as a line of its own; a line starting with a brace yields the
 * brace alone. An unterminated quote stops the search, so nothing after it is split.
 */
export function splitBraces(t: string): Piece[] {
  const pieces: Piece[] = [];
  let pos = 0;
  while (pos < t.length) {
    while (pos < t.length && isBlank(t.charCodeAt(pos))) pos++;
    if (pos >= t.length) break;
    const c = t[pos];
    if (c === "{" || c === "}") {
      pieces.push(c === "{" ? { kind: "{", start: pos } : { kind: "}", start: pos });
      pos++;
      continue;
    }
    const brace = findBrace(t, pos);
    let end = brace < 0 ? t.length : brace;
    while (end > pos && isBlank(t.charCodeAt(end - 1))) end--;
    pieces.push({ kind: "text", start: pos, end });
    pos = brace < 0 ? t.length : brace;
  }
  return pieces;
}

function findBrace(t: string, from: number): number {
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
  const t = line.text;
  const toks: Tok[] = [];
  let firstEnd = end;
  let i = start;
  for (;;) {
    while (i < end && isSpace(t.charCodeAt(i))) i++;
    if (i >= end) return { toks, firstEnd, openQuote: -1 };
    if (t[i] === '"') {
      const close = t.indexOf('"', i + 1);
      if (close < 0 || close >= end) return { toks, firstEnd, openQuote: i };
      toks.push(tok(line, i, t.slice(i + 1, close), true));
      i = close + 1;
    } else {
      let j = i;
      while (j < end && !isSpace(t.charCodeAt(j)) && t[j] !== '"') j++;
      toks.push(tok(line, i, t.slice(i, j), false));
      i = j;
    }
    if (toks.length === 1) firstEnd = i;
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
  const { toks, firstEnd, openQuote } = tokenize(line, start, end);
  if (openQuote >= 0 && !lexerSawOpenQuote(line.text)) {
    const msg = "unmatched double quote; the rest of the line is ignored";
    diags.warn(locAt(line, openQuote), "unmatched-quote", msg);
  }
  const kw = toks[0];
  if (!kw) return null;
  const args = toks.slice(1);
  let r = firstEnd;
  while (r < end && isSpace(line.text.charCodeAt(r))) r++;
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
  for (const line of lines) {
    for (const piece of splitBraces(line.text)) {
      const level = stack[stack.length - 1] ?? root;
      if (piece.kind === "{") {
        const inner = openBlock(level, line, piece.start, diags);
        if (inner) stack.push(inner);
      } else if (piece.kind === "}") {
        if (stack.length > 1) stack.pop();
        else
          diags.warn(
            locAt(line, piece.start),
            "unexpected-brace",
            "unexpected '}' with no open block; ignored",
          );
      } else {
        const stmt = statement(line, piece.start, piece.end, diags);
        if (stmt) level.stmts.push(stmt);
      }
    }
  }
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
