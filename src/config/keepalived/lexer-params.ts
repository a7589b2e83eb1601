/**
 * `$NAME=VALUE` definitions and `$NAME` / `${NAME}` substitution, as keepalived
 * lib/parser.c does them (check_definition, find_definition, replace_param).
 */
import type { Diags, Loc } from "../diag.ts";
import {
  type ChainNode,
  exceedsBytes,
  isBlankCode,
  MAX_EXPANDED_BYTES,
  type Rich,
  skipBlanks,
  spliceRich,
} from "./lexer-text.ts";
import type { SourceHost } from "./types.ts";

type Builtin = "pwd" | "instance" | "random" | "env" | "hash" | "bang";

export interface Def {
  value: string;
  /** The value holds several lines separated by "\n" (a definition continued with `\`). */
  multiline: boolean;
  /** A predefined parameter computed at use; cleared when the user redefines the name. */
  builtin: Builtin | null;
}

export type Defs = Map<string, Def>;

/** keepalived set_std_definitions(): the predefined `${_...}` parameters. */
export function builtinDefs(): Defs {
  const defs: Defs = new Map();
  const add = (name: string, builtin: Builtin) =>
    defs.set(name, { value: "", multiline: false, builtin });
  add("_PWD", "pwd");
  add("_INSTANCE", "instance");
  add("_RANDOM", "random");
  add("_ENV", "env");
  add("_HASH", "hash");
  add("_BANG", "bang");
  return defs;
}

/** keepalived's `${_RANDOM}` defaults when MIN / MAX are not given. */
const RANDOM_MIN_DEFAULT = 0;
const RANDOM_MAX_DEFAULT = 32767;
/** Substitutions allowed while processing one line before we call it runaway recursion. */
export const MAX_SUBSTITUTIONS_PER_LINE = 10_000;

const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isNameStart = (c: number) => isAlpha(c) || c === 95;
const isNameChar = (c: number) => isNameStart(c) || isDigit(c);

function nameEnd(t: string, i: number): number {
  while (i < t.length && isNameChar(t.charCodeAt(i))) i++;
  return i;
}

/**
 * keepalived check_definition(): `$NAME=VALUE` with NAME `[A-Za-z_][A-Za-z0-9_]*` directly
 * followed by `=`. A value ending in `\` starts a multi-line definition; its first line is
 * kept (blanks before the `\` dropped) followed by "\n". Returns the defined Def.
 */
export function tryDefinition(t: string, defs: Defs): Def | null {
  if (t.charCodeAt(0) !== 36 || !isNameStart(t.charCodeAt(1))) return null;
  const end = nameEnd(t, 2);
  if (t.charCodeAt(end) !== 61) return null;
  let value = t.slice(skipBlanks(t, end + 1));
  const multiline = value.endsWith("\\");
  if (multiline) {
    let e = value.length - 1;
    while (e > 0 && isBlankCode(value.charCodeAt(e - 1))) e--;
    value = e === 0 ? "" : `${value.slice(0, e)}\n`;
  }
  const def: Def = { value, multiline, builtin: null };
  defs.set(t.slice(1, end), def);
  return def;
}

/**
 * One line of a multi-line definition being captured (keepalived read_line with
 * multiline_param_def set). Returns false when this line ended the definition.
 */
export function captureLine(def: Def, t: string): boolean {
  const more = t.endsWith("\\");
  let text = t;
  if (more) {
    let e = t.length - 1;
    while (e > 0 && isBlankCode(t.charCodeAt(e - 1))) e--;
    text = t.slice(0, e);
  }
  // keepalived skips lines that are empty once the `\` is gone
  if (text.length > 0) def.value += more ? `${text}\n` : text;
  if (!more) endCapture(def);
  return more;
}

export function endCapture(def: Def): void {
  if (def.value === "") def.multiline = false;
}

interface Ref {
  readonly name: string;
  /** Index just past the reference (`$NAME` or `${NAME params}`). */
  readonly end: number;
  readonly params: readonly string[];
}

/**
 * keepalived find_definition() for a use at `$` index `i`: `$NAME` must be followed by a
 * blank, `,`, `)` or the end of the line; `${NAME}` may end anywhere and may carry
 * blank-separated parameters (`${_RANDOM 1 10}`) but no trailing blank after them.
 */
function matchRef(t: string, i: number): Ref | null {
  const braces = t.charCodeAt(i + 1) === 123;
  const start = i + (braces ? 2 : 1);
  if (!isNameStart(t.charCodeAt(start))) return null;
  const end = nameEnd(t, start + 1);
  const name = t.slice(start, end);
  if (!braces) {
    const c = t.charCodeAt(end);
    if (end < t.length && c !== 32 && c !== 9 && c !== 44 && c !== 41) return null;
    return { name, end, params: [] };
  }
  let p = end;
  while (p < t.length && (isBlankCode(t.charCodeAt(p)) || isNameChar(t.charCodeAt(p)))) p++;
  if (t.charCodeAt(p) !== 125) return null;
  const inner = t.slice(end, p);
  const params = inner.split(/[ \t]+/).filter((w) => w !== "");
  if (params.length > 0 && isBlankCode(inner.charCodeAt(inner.length - 1))) return null;
  return { name, end: p + 1, params };
}

export interface SubstContext {
  readonly defs: Defs;
  readonly host: SourceHost;
  readonly diags: Diags;
  readonly file: string;
  readonly line: number;
  /** Directory of the file being read, for `${_PWD}`. */
  readonly pwd: string;
  /** Called with the remaining lines of a multi-line value and the `$`'s column. */
  readonly onMultiline: ((lines: string[], col: number) => void) | null;
  /** Shared by all passes over one line; guards against runaway expansion. */
  readonly budget: { left: number; reported: boolean };
}

export type SubstResult =
  | { readonly kind: "same" }
  | { readonly kind: "changed"; readonly rich: Rich }
  | { readonly kind: "dropped" };

function inChain(node: ChainNode | null, name: string): boolean {
  for (let n = node; n; n = n.parent) if (n.name === name) return true;
  return false;
}

/**
 * One keepalived replace_param() pass: every `$` is tried left to right; after a
 * replacement the scan restarts at the same place, so values are expanded recursively.
 * A value beginning with `~` (a ~SEQ/~LST line) stops the pass so the caller can see it.
 */
export function substitute(r0: Rich, ctx: SubstContext): SubstResult {
  let r = r0;
  let changed = false;
  let i = r.text.indexOf("$");
  while (i >= 0 && i + 1 < r.text.length) {
    const ref = matchRef(r.text, i);
    const def = ref ? ctx.defs.get(ref.name) : undefined;
    if (!ref || !def || (def.multiline && ref.end !== r.text.length)) {
      i = r.text.indexOf("$", i + 1);
      continue;
    }
    const col = r.cols[i] ?? 1;
    const here = r.chain ? (r.chain[i] ?? null) : null;
    if (inChain(here, ref.name) || --ctx.budget.left < 0) {
      reportRecursion(ctx, col, ref.name);
      i = r.text.indexOf("$", i + 1);
      continue;
    }
    const value = replacementFor(def, ref, ctx, col);
    if (value === null) {
      i = r.text.indexOf("$", i + 1);
      continue;
    }
    let first = value;
    if (def.multiline) {
      const lines = value.split("\n");
      first = lines[0] ?? "";
      if (lines.length > 1) ctx.onMultiline?.(lines.slice(1), col);
    }
    r = spliceRich(r, i, ref.end, first, col, { name: ref.name, parent: here });
    changed = true;
    if (exceedsBytes(r.text, MAX_EXPANDED_BYTES)) {
      const loc = { file: ctx.file, line: ctx.line, col };
      const msg = `parameter substitution makes the line longer than ${MAX_EXPANDED_BYTES} bytes; line ignored`;
      ctx.diags.error(loc, "line-too-long", msg);
      return { kind: "dropped" };
    }
    if (first.length > 0 && value.charCodeAt(skipBlanks(value, 0)) === 126) break;
    i = r.text.indexOf("$", i);
  }
  return changed ? { kind: "changed", rich: r } : { kind: "same" };
}

function reportRecursion(ctx: SubstContext, col: number, name: string): void {
  if (ctx.budget.reported) return;
  ctx.budget.reported = true;
  const loc = { file: ctx.file, line: ctx.line, col };
  const why = ctx.budget.left < 0 ? "too many substitutions on one line" : "refers to itself";
  ctx.diags.error(loc, "param-recursion", `parameter '$${name}' ${why}; left unexpanded`);
}

/** The replacement text, or null to leave the reference untouched (as keepalived does). */
function replacementFor(def: Def, ref: Ref, ctx: SubstContext, col: number): string | null {
  if (def.builtin === null || (def.builtin !== "random" && def.builtin !== "env")) {
    // keepalived: parameters given to a name that takes none → not a reference at all
    if (ref.params.length > 0) return null;
  }
  const loc = { file: ctx.file, line: ctx.line, col };
  switch (def.builtin) {
    case null:
      return def.value;
    case "pwd":
      return ctx.pwd;
    case "instance":
      return ctx.host.configId;
    case "hash":
      return "#";
    case "bang":
      return "!";
    case "random":
      return randomValue(ref.params, ctx, loc);
    case "env":
      if (ref.params.length !== 1) {
        const msg = `\${_ENV} takes exactly one environment variable name, got ${ref.params.length}`;
        ctx.diags.error(loc, "param-args", msg);
        return null;
      }
      return ctx.host.env(ref.params[0] ?? "") ?? "";
  }
}

/** keepalived get_random(): `${_RANDOM [MIN [MAX]]}`, decimal digits only. */
function randomValue(params: readonly string[], ctx: SubstContext, loc: Loc): string | null {
  if (params.some((p) => !/^[0-9]+$/.test(p))) {
    ctx.diags.error(loc, "param-args", `\${_RANDOM} takes numeric parameters only`);
    return null;
  }
  if (params.length > 2) {
    const msg = `\${_RANDOM} takes at most 2 parameters (MIN MAX), got ${params.length}`;
    ctx.diags.error(loc, "param-args", msg);
    return null;
  }
  const min = params[0] === undefined ? RANDOM_MIN_DEFAULT : Number(params[0]);
  let max = params[1] === undefined ? RANDOM_MAX_DEFAULT : Number(params[1]);
  if (min > max) {
    const msg = `\${_RANDOM}: min ${min} exceeds max ${max}, using ${min}`;
    ctx.diags.error(loc, "param-args", msg);
    max = min;
  }
  return String(ctx.host.random(min, max));
}
