/**
 * The keepalived.conf preprocessor: files and includes in, logical lines out. Everything
 * keepalived lib/parser.c read_line() does before a line is split at braces and tokenised:
 * line limits, comments, `@ID` conditionals, `$NAME=` definitions, ~SEQ / ~LST generators,
 * `$NAME` substitution, `include` and `include_check`.
 */
import type { Diags, Loc } from "../diag.ts";
import {
  INCLUDE_READABLE,
  type IncludeLine,
  parseInclude,
  parseIncludeCheck,
  planInclude,
} from "./lexer-include.ts";
import {
  builtinDefs,
  captureLine,
  type Def,
  type Defs,
  endCapture,
  MAX_SUBSTITUTIONS_PER_LINE,
  type SubstContext,
  substitute,
  tryDefinition,
} from "./lexer-params.ts";
import { advance, type Gen, parseLst, parseSeq } from "./lexer-seq.ts";
import {
  type ColsCache,
  charColAt,
  decomment,
  dirName,
  exceedsBytes,
  MAX_LINE_BYTES,
  normalizePath,
  plainLine,
  type Rich,
  richAt,
  skipBlanks,
  sliceRich,
  sourceLine,
} from "./lexer-text.ts";
import type { SourceHost, SrcLine } from "./types.ts";

/**
 * Lines (read or generated) one preprocess may handle: stops runaway ~SEQ, parameters and
 * includes. Ten times a generated 255-instance, 2,000-real-server configuration (~20,000
 * lines), yet it bounds what a few hundred self-referencing bytes cost (about a second).
 */
export const MAX_PREPROCESSED_LINES = 200_000;
/** Nested include depth; deeper means a loop through different names (e.g. symlinks). */
export const MAX_INCLUDE_DEPTH = 64;

export interface PreprocessOptions {
  /** Overrides MAX_PREPROCESSED_LINES (tests and fuzzing use a small value). */
  readonly maxLines?: number;
}

interface Origin {
  readonly file: string;
  readonly line: number;
}

/** The rest of a multi-line parameter's value, read before the file goes on. */
interface Frame extends Origin {
  readonly lines: readonly string[];
  next: number;
  /** `$` column of the use: every generated character maps there. */
  readonly col: number;
  /** Generators that existed when the value was expanded wait until it is consumed. */
  readonly genDepth: number;
}

/** Per file being read: keepalived's seq_list and multi-line stack, kept per file so an
 * include reached from a generated line is read in place. */
interface Pending {
  readonly gens: Gen[];
  readonly frames: Frame[];
}

interface OpenFile {
  readonly path: string;
  /** Normalised path, for loop detection. */
  readonly key: string;
}

interface State {
  readonly host: SourceHost;
  readonly diags: Diags;
  readonly out: SrcLine[];
  readonly defs: Defs;
  readonly files: OpenFile[];
  includeCheck: number;
  linesLeft: number;
  stopped: boolean;
  /** The multi-line definition whose continuation lines are being collected. */
  capture: Def | null;
  /** Column arrays shared by plain lines of the same shape (see sourceLine). */
  readonly cols: ColsCache;
}

/** Per logical line: substitution budget and what was already reported about it. */
interface LineState {
  left: number;
  reported: boolean;
  quoteReported: boolean;
}

export function preprocess(
  path: string,
  host: SourceHost,
  diags: Diags,
  opts: PreprocessOptions = {},
): SrcLine[] {
  const st: State = {
    host,
    diags,
    out: [],
    defs: builtinDefs(),
    files: [],
    includeCheck: 0,
    linesLeft: opts.maxLines ?? MAX_PREPROCESSED_LINES,
    stopped: false,
    capture: null,
    cols: new Map(),
  };
  readFile(st, path, host.readFile(path) ?? "");
  return st.out;
}

function readFile(st: State, path: string, text: string): void {
  st.files.push({ path, key: normalizePath(path) });
  // keepalived saves include_check when it opens a file and restores it at the end
  const savedCheck = st.includeCheck;
  const pending: Pending = { gens: [], frames: [] };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length && !st.stopped; i++) {
    const raw = lines[i] ?? "";
    if (!plainPhysicalLine(st, path, i + 1, raw))
      physicalLine(st, pending, { file: path, line: i + 1 }, raw);
    if (pending.gens.length > 0 || pending.frames.length > 0) drain(st, pending);
  }
  // Our choice: a multi-line definition does not run on into the including file.
  stopCapture(st);
  st.includeCheck = savedCheck;
  st.files.pop();
}

function stopCapture(st: State): void {
  if (st.capture) endCapture(st.capture);
  st.capture = null;
}

/**
 * A line with nothing to expand, outside a multi-line definition and within the line
 * budget, is emitted as it is, trimmed (see plainLine): what physicalLine would do, without
 * its per-line state. False when the line needs physicalLine.
 */
function plainPhysicalLine(st: State, file: string, line: number, raw: string): boolean {
  if (st.capture || st.linesLeft < 1) return false;
  const r = plainLine(raw, st.cols);
  // `include` and `include_check` lines are directives, not statements.
  if (!r || r.text.startsWith("include")) return false;
  st.linesLeft--;
  if (r.text.length > 0) st.out.push({ text: r.text, file, line, cols: r.cols });
  return true;
}

function physicalLine(st: State, pending: Pending, at: Origin, line: string): void {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  const raw = end === line.length ? line : line.slice(0, end);
  // keepalived: an empty line ends a multi-line definition; so do the lines it ignores
  if (raw.length === 0) {
    stopCapture(st);
    return;
  }
  if (!take(st, at)) return;
  const nul = raw.indexOf("\0");
  if (nul >= 0) {
    const col = charColAt(raw, nul);
    st.diags.error({ ...at, col }, "line-has-nul", "line contains a NUL byte; ignored");
    stopCapture(st);
    return;
  }
  // keepalived's fgets() budget counts a CR before the newline too
  if (exceedsBytes(line, MAX_LINE_BYTES)) {
    const msg = `line longer than ${MAX_LINE_BYTES} bytes (keepalived MAXBUF); ignored`;
    st.diags.error({ ...at, col: 1 }, "line-too-long", msg);
    stopCapture(st);
    return;
  }
  const ls = newLineState();
  const r = sourceLine(raw, (col) => reportQuote(st, ls, { ...at, col }), st.cols);
  if (r.text.length > 0) handleLine(st, pending, r, at, ls);
}

function newLineState(): LineState {
  return { left: MAX_SUBSTITUTIONS_PER_LINE, reported: false, quoteReported: false };
}

function reportQuote(st: State, ls: LineState, loc: Loc): void {
  if (ls.quoteReported) return;
  ls.quoteReported = true;
  st.diags.error(loc, "unterminated-quote", "unterminated double quote");
}

/** Counts one more line against the limit; false (and one error) once it is spent. */
function take(st: State, at: Origin): boolean {
  if (st.stopped) return false;
  if (--st.linesLeft >= 0) return true;
  st.stopped = true;
  const msg =
    "configuration expands to too many lines (runaway ~SEQ, parameter or include?); stopped";
  st.diags.error({ ...at, col: 1 }, "too-many-lines", msg);
  return false;
}

/** Generated lines first (innermost ~SEQ/~LST, then multi-line values), as read_line. */
function drain(st: State, pending: Pending): void {
  for (;;) {
    const g = nextGenerated(st, pending);
    if (!g || !take(st, g.at)) return;
    handleLine(st, pending, g.rich, g.at, newLineState());
  }
}

function nextGenerated(st: State, p: Pending): { rich: Rich; at: Origin } | null {
  const top = p.frames[p.frames.length - 1];
  const gen = p.gens[p.gens.length - 1];
  if (gen && p.gens.length > (top ? top.genDepth : 0)) {
    const done = advance(gen, (name, value) =>
      st.defs.set(name, { value, multiline: false, builtin: null }),
    );
    if (done) p.gens.pop();
    return { rich: gen.text, at: { file: gen.file, line: gen.line } };
  }
  if (!top) return null;
  const text = top.lines[top.next++] ?? "";
  if (top.next >= top.lines.length) p.frames.pop();
  return { rich: richAt(text, top.col), at: { file: top.file, line: top.line } };
}

function handleLine(st: State, p: Pending, r: Rich, at: Origin, ls: LineState): void {
  if (st.capture) {
    if (!captureLine(st.capture, r.text)) st.capture = null;
    return;
  }
  const line = expandLine(st, p, r, at, ls);
  if (line) finishLine(st, line, at);
}

/**
 * read_line's inner loop: `@ID`, `$NAME=`, ~SEQ/~LST, then substitution; a substituted line
 * is decommented again and, if it starts with `@` or still holds a `$`, goes round again.
 * Returns the line to emit, or null when it was consumed or dropped.
 */
function expandLine(st: State, p: Pending, r: Rich, at: Origin, ls: LineState): Rich | null {
  let line: Rich | null = r;
  for (;;) {
    if (line.text[0] === "@") line = conditional(line, st.host.configId);
    if (!line || line.text.length === 0) return null;
    if (line.text[0] === "$") {
      const def = tryDefinition(line.text, st.defs);
      if (def) {
        if (def.multiline) st.capture = def;
        return null;
      }
    }
    if (line.text.startsWith("~SEQ") || line.text.startsWith("~LST")) {
      addGenerator(st, p, line, at, ls);
      return null;
    }
    if (line.text[0] === "~" || !line.text.includes("$")) return line;
    const res = substitute(line, substContext(st, p, at, ls));
    if (res.kind === "dropped") return null;
    if (res.kind === "same") return line;
    line = decomment(res.rich, (col) => reportQuote(st, ls, { ...at, col }));
    if (line.text.length === 0) return null;
    if (line.text[0] !== "@" && !line.text.includes("$")) return line;
  }
}

function substContext(st: State, p: Pending, at: Origin, ls: LineState): SubstContext {
  const current = st.files[st.files.length - 1]?.path ?? at.file;
  return {
    defs: st.defs,
    host: st.host,
    diags: st.diags,
    file: at.file,
    line: at.line,
    pwd: dirName(current),
    budget: ls,
    onMultiline: (lines, col) =>
      p.frames.push({ lines, next: 0, col, genDepth: p.gens.length, ...at }),
  };
}

/**
 * keepalived: `@ID rest` keeps `rest` only when ID is the config id, `@^ID rest` only when it
 * is not; a line with nothing after the id is dropped.
 */
function conditional(line: Rich, configId: string): Rich | null {
  const t = line.text;
  const neg = t[1] === "^";
  const from = neg ? 2 : 1;
  let ws = from;
  while (ws < t.length && t[ws] !== " " && t[ws] !== "\t") ws++;
  if (ws >= t.length) return null;
  const match = t.slice(from, ws) === configId;
  return match === neg ? null : sliceRich(line, skipBlanks(t, ws));
}

function addGenerator(st: State, p: Pending, line: Rich, at: Origin, ls: LineState): void {
  const seq = line.text[1] === "S";
  const expand = (s: Rich): string => {
    const res = substitute(s, { ...substContext(st, p, at, ls), onMultiline: null });
    return res.kind === "changed" ? res.rich.text : res.kind === "same" ? s.text : "";
  };
  const res = seq ? parseSeq(line, at, expand) : parseLst(line, at);
  if ("gen" in res) {
    p.gens.push(res.gen);
    return;
  }
  const kind = seq ? "~SEQ" : "~LST";
  const loc = { ...at, col: line.cols[0] ?? 1 };
  st.diags.error(loc, "seq-invalid", `invalid ${kind} specification: ${res.error}; line ignored`);
}

function finishLine(st: State, line: Rich, at: Origin): void {
  const inc = parseInclude(line);
  if (inc) {
    include(st, inc, at);
    return;
  }
  const level = parseIncludeCheck(line, st.includeCheck, (col, message) =>
    st.diags.error({ ...at, col }, "include-check-invalid", message),
  );
  if (level !== null) st.includeCheck = level;
  st.out.push({ text: line.text, file: at.file, line: at.line, cols: line.cols });
}

function include(st: State, inc: IncludeLine, at: Origin): void {
  const flags = st.includeCheck | inc.flags;
  const current = st.files[st.files.length - 1]?.path ?? at.file;
  const plan = planInclude(st.host, current, inc.pattern, flags);
  const loc = { ...at, col: inc.col };
  for (const pr of plan.problems) st.diags.add(loc, pr.severity, pr.code, pr.message);
  for (const path of plan.files) {
    if (st.stopped) return;
    const key = normalizePath(path);
    if (st.files.some((f) => f.key === key)) {
      const chain = [...st.files.map((f) => f.path), path].join(" -> ");
      st.diags.error(loc, "include-loop", `include loop: ${chain}; not read again`);
      continue;
    }
    if (st.files.length >= MAX_INCLUDE_DEPTH) {
      const msg = `includes nested deeper than ${MAX_INCLUDE_DEPTH} (a loop through another name?); '${path}' not read`;
      st.diags.error(loc, "include-loop", msg);
      continue;
    }
    const text = st.host.readFile(path);
    if (text === undefined) {
      const severity = flags & INCLUDE_READABLE ? "error" : "warning";
      st.diags.add(loc, severity, "include-unreadable", `cannot read included file '${path}'`);
      continue;
    }
    readFile(st, path, text);
  }
}
