/**
 * A small table-driven engine for "WORD [VALUE]" options, shared by the address, route and
 * rule codecs: one spec per option drives keepalived-token reading, TOML-table reading and
 * line writing, so the three cannot drift apart.
 */
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import { type At, error, type Parsed, sub, tomlFlag, tomlIntText, warn } from "./common.ts";

export interface ValueSpec {
  /** Token text → model value. */
  readonly parse: (text: string) => Parsed<unknown>;
  /** Which TOML types are accepted (then handed to `parse` as text). */
  readonly toml: "string" | "int" | "both";
  /** Model value → token text; default String(v). */
  readonly format?: (v: unknown) => string;
}

export interface OptSpec {
  /** The model field. */
  readonly key: string;
  /** keepalived words for the option; the first is what toLine writes. */
  readonly words: readonly string[];
  /** Absent: a flag (model value `true`). */
  readonly value?: ValueSpec;
  /** Accepts `WORD lock VALUE`, recorded as `<key>_lock: true` (ip-route(8) metrics). */
  readonly lock?: boolean;
  /** Words keepalived still reads but reports as deprecated. */
  readonly deprecated?: readonly string[];
}

export type Model = Record<string, unknown>;

/**
 * Stored for an option whose value failed to parse, so whole-line checks see it as given
 * (no "missing action" after a bad table). Never escapes: a line with an error has no value.
 */
export const FAILED: unique symbol = Symbol("failed");

export interface OptTable {
  readonly specs: readonly OptSpec[];
  readonly byWord: ReadonlyMap<string, OptSpec>;
  readonly byKey: ReadonlyMap<string, OptSpec>;
}

export function optTable(specs: readonly OptSpec[]): OptTable {
  const byWord = new Map<string, OptSpec>();
  const byKey = new Map<string, OptSpec>();
  for (const s of specs) {
    for (const w of s.words) byWord.set(w, s);
    byKey.set(s.key, s);
  }
  return { specs, byWord, byKey };
}

/**
 * Reads the option whose word is toks[i]; returns the index after it. A repeated flag is a
 * warning (harmless); a repeated value is an error, since the model holds only one and
 * keepalived silently keeps one of them.
 */
export function readOption(
  spec: OptSpec,
  toks: readonly Tok[],
  i: number,
  out: Model,
  issues: Issue[],
): number {
  const word = toks[i]!.text;
  if (spec.deprecated?.includes(word)) {
    warn(issues, i, "deprecated", `'${word}' is deprecated; write '${spec.words[0]}'`);
  }
  if (!spec.value) {
    if (out[spec.key] === true) warn(issues, i, "duplicate-option", `'${word}' given twice`);
    out[spec.key] = true;
    return i + 1;
  }
  let j = i + 1;
  const locked = spec.lock === true && toks[j]?.text === "lock";
  if (locked) j++;
  const t = toks[j];
  if (!t) {
    error(issues, i, "missing-argument", `'${word}' needs a value`);
    return j;
  }
  if (spec.key in out) error(issues, i, "duplicate-option", `'${word}' given twice`);
  const p = spec.value.parse(t.text);
  if (!p.ok) {
    error(issues, j, p.code, `${word}: ${p.message}`);
    if (!(spec.key in out)) out[spec.key] = FAILED;
  } else {
    out[spec.key] = p.value;
    if (locked) out[`${spec.key}_lock`] = true;
  }
  return j + 1;
}

/** Reads one TOML field by model key; false if the key is not in the table. */
export function readTomlField(
  table: OptTable,
  key: string,
  v: unknown,
  out: Model,
  issues: Issue[],
  at: At,
): boolean {
  const lockOf = key.endsWith("_lock") ? table.byKey.get(key.slice(0, -5)) : undefined;
  if (lockOf?.lock) {
    if (tomlFlag(v, issues, sub(at, key), key)) out[key] = true;
    return true;
  }
  const spec = table.byKey.get(key);
  if (!spec) return false;
  if (!spec.value) {
    if (tomlFlag(v, issues, sub(at, key), key)) out[key] = true;
    return true;
  }
  const vs = spec.value;
  const text =
    typeof v === "string" && vs.toml !== "int"
      ? v
      : vs.toml !== "string"
        ? tomlIntText(v)
        : undefined;
  if (text === undefined) {
    const want =
      vs.toml === "string"
        ? "a string"
        : vs.toml === "int"
          ? "an integer"
          : "an integer or a string";
    error(issues, sub(at, key), "bad-type", `${key} must be ${want}`);
    return true;
  }
  const p = vs.parse(text);
  if (!p.ok) {
    error(issues, sub(at, key), p.code, `${key}: ${p.message}`);
    out[key] = FAILED;
  } else out[key] = p.value;
  return true;
}

/** Checks that a `<key>_lock` flag has its value; call after reading a TOML table. */
export function checkLocks(table: OptTable, out: Model, issues: Issue[], at: At): void {
  for (const s of table.specs) {
    if (s.lock && out[`${s.key}_lock`] === true && !(s.key in out)) {
      error(issues, sub(at, `${s.key}_lock`), "missing-field", `${s.key}_lock needs ${s.key}`);
    }
  }
}

/** The option words for a model value, in table order. */
export function formatOptions(table: OptTable, value: Model): string[] {
  const out: string[] = [];
  for (const s of table.specs) {
    const v = value[s.key];
    if (v === undefined) continue;
    const word = s.words[0]!;
    if (!s.value) {
      if (v === true) out.push(word);
      continue;
    }
    out.push(word);
    if (s.lock && value[`${s.key}_lock`] === true) out.push("lock");
    out.push(s.value.format ? s.value.format(v) : String(v));
  }
  return out;
}

// Common value specs.
export const val = (
  parse: (text: string) => Parsed<unknown>,
  toml: ValueSpec["toml"],
): ValueSpec => ({
  parse,
  toml,
});
