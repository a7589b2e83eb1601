/**
 * `include` / `includer|m|w|b|a` lines and `include_check` levels (keepalived lib/parser.c
 * check_include, open_and_check_glob, include_check_set).
 */
import type { Severity } from "../diag.ts";
import { colAt, dirName, isSpaceCode, normalizePath, type Rich } from "./lexer-text.ts";
import type { SourceHost } from "./types.ts";

/** keepalived include_t bits: what makes an include problem an error rather than a note. */
export const INCLUDE_READABLE = 0x01;
export const INCLUDE_MATCH = 0x02;
export const INCLUDE_WILDCARD_MATCH = 0x04;
export const INCLUDE_BRACE_MATCH = 0x08;
export const INCLUDE_ALL = 0x0f;

/** The strictness each variant adds to the current include_check level. */
const VARIANTS: Readonly<Record<string, number>> = {
  r: INCLUDE_READABLE,
  m: INCLUDE_READABLE | INCLUDE_MATCH,
  w: INCLUDE_READABLE | INCLUDE_MATCH | INCLUDE_WILDCARD_MATCH,
  b: INCLUDE_READABLE | INCLUDE_BRACE_MATCH,
  a: INCLUDE_ALL,
};

/** include_check option names; keepalived's code says `read`, its man page `readable`. */
const CHECKS: Readonly<Record<string, number>> = {
  read: INCLUDE_READABLE,
  readable: INCLUDE_READABLE,
  match: INCLUDE_MATCH,
  wildcard_match: INCLUDE_WILDCARD_MATCH,
  brace_match: INCLUDE_BRACE_MATCH,
};

/** Brace alternatives one include may expand to; beyond this the pattern is refused. */
export const MAX_BRACE_ALTERNATIVES = 1024;

export interface IncludeLine {
  readonly flags: number;
  /** Everything after the keyword and its blanks: keepalived takes the rest verbatim. */
  readonly pattern: string;
  readonly col: number;
}

/** keepalived is_include(): `include` or `include[rmwba]`, then whitespace, at line start. */
export function parseInclude(r: Rich): IncludeLine | null {
  const t = r.text;
  if (!t.startsWith("include") || t.length < 9) return null;
  let p = 8;
  let flags = 0;
  if (!isSpaceCode(t.charCodeAt(7))) {
    const variant = VARIANTS[t[7] ?? ""];
    if (variant === undefined || !isSpaceCode(t.charCodeAt(8))) return null;
    flags = variant;
    p = 9;
  }
  while (p < t.length && (t[p] === " " || t[p] === "\t")) p++;
  return { flags, pattern: t.slice(p), col: colAt(r, p) };
}

/**
 * keepalived include_check_set(): no option → every check; a bare first option sets the
 * level (plus `read`), `+opt` / `-opt` add or remove. Returns the new level, or null if the
 * line is not an include_check line. `report` receives (column, message) for bad options.
 */
export function parseIncludeCheck(
  r: Rich,
  level: number,
  report: (col: number, message: string) => void,
): number | null {
  const t = r.text;
  if (!t.startsWith("include_check") || (t.length > 13 && !isSpaceCode(t.charCodeAt(13)))) {
    return null;
  }
  const words = [...t.slice(13).matchAll(/[^\s{}"]+/g)];
  const stop = t.slice(13).search(/[{}]/);
  const opts = words.filter((w) => stop < 0 || w.index < stop);
  if (opts.length === 0) return INCLUDE_ALL;
  let out = level;
  opts.forEach((w, i) => {
    const word = w[0];
    const col = colAt(r, 13 + w.index);
    const sign = word[0] === "+" || word[0] === "-" ? word[0] : "";
    if (sign === "" && i > 0) {
      report(col, `include_check '${word}' given after the first option; ignored`);
      return;
    }
    const bit = CHECKS[word.slice(sign.length)];
    if (bit === undefined) {
      report(col, `unknown include_check option '${word.slice(sign.length)}'; ignored`);
      return;
    }
    if (sign === "+") out |= bit;
    else if (sign === "-") out &= ~bit;
    else out = INCLUDE_READABLE | bit;
  });
  return out;
}

/** Index of the `}` matching the `{` at `open`, honouring `\` escapes; -1 if none. */
function matchingBrace(p: string, open: number): number {
  let depth = 0;
  for (let i = open; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") i++;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  return -1;
}

function firstBrace(p: string): number {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "{" && matchingBrace(p, i) >= 0) return i;
  }
  return -1;
}

function splitTopCommas(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") i++;
    else if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(s.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(s.slice(from));
  return parts;
}

/** csh-style `{a,b}` expansion as glob(GLOB_BRACE); an unmatched `{` stays literal. */
export function braceExpand(p: string, limit = MAX_BRACE_ALTERNATIVES): string[] | null {
  const open = firstBrace(p);
  if (open < 0) return [p];
  const close = matchingBrace(p, open);
  const head = p.slice(0, open);
  const tail = p.slice(close + 1);
  const out: string[] = [];
  for (const alt of splitTopCommas(p.slice(open + 1, close))) {
    const sub = braceExpand(head + alt + tail, limit - out.length);
    if (sub === null || out.length + sub.length > limit) return null;
    out.push(...sub);
  }
  return out;
}

/** keepalived have_brace(): an unescaped `{` anywhere makes misses "brace_match" misses. */
function hasBrace(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "{") return true;
  }
  return false;
}

const hasWildcard = (p: string) => /[*?[]/.test(p);

/** Relative paths are relative to the including file's directory (keepalived chdir()s). */
export function resolveInclude(currentFile: string, path: string): string {
  if (path.startsWith("/") || !currentFile.includes("/")) return normalizePath(path);
  return normalizePath(`${dirName(currentFile)}/${path}`);
}

export interface IncludeProblem {
  readonly severity: Severity;
  readonly code: "include-missing" | "include-pattern";
  readonly message: string;
}

export interface IncludePlan {
  readonly files: readonly string[];
  readonly problems: readonly IncludeProblem[];
}

/**
 * Which files an include line reads, in glob order (each brace alternative sorted on its
 * own), and what went wrong. Severity follows keepalived file_config_error(): an error when
 * the failed check is in `flags` (include_check | variant); otherwise a warning for a
 * named file that is missing (keepalived only logs it) and nothing for an empty wildcard.
 */
export function planInclude(
  host: SourceHost,
  currentFile: string,
  pattern: string,
  flags: number,
): IncludePlan {
  const alts = braceExpand(pattern);
  if (alts === null) {
    const message = `include '${pattern}' expands to more than ${MAX_BRACE_ALTERNATIVES} patterns; ignored`;
    return { files: [], problems: [{ severity: "error", code: "include-pattern", message }] };
  }
  const files: string[] = [];
  const missing: string[] = [];
  let wildcards = false;
  for (const alt of alts) {
    const full = resolveInclude(currentFile, alt);
    const found = host.glob(full);
    if (hasWildcard(alt)) wildcards = true;
    else if (found.length === 0) missing.push(full);
    files.push(...found);
  }
  const missingProblem = (bit: number, extra = ""): IncludeProblem => ({
    severity: flags & bit ? "error" : "warning",
    code: "include-missing",
    message: `included file not found: ${missing.map((m) => `'${m}'`).join(", ")}${extra}`,
  });
  if (files.length === 0) {
    if (missing.length > 0) {
      const bit = hasBrace(pattern) ? INCLUDE_BRACE_MATCH : INCLUDE_MATCH;
      return { files, problems: [missingProblem(bit)] };
    }
    if (!wildcards || !(flags & INCLUDE_WILDCARD_MATCH)) return { files, problems: [] };
    const message = `no file matches include '${pattern}'`;
    return { files, problems: [{ severity: "error", code: "include-missing", message }] };
  }
  if (missing.length === 0) return { files, problems: [] };
  // keepalived: with brace_match, one missing alternative cancels the whole include
  if (flags & INCLUDE_BRACE_MATCH) {
    return { files: [], problems: [missingProblem(INCLUDE_BRACE_MATCH, "; include skipped")] };
  }
  return { files, problems: [missingProblem(INCLUDE_BRACE_MATCH)] };
}
