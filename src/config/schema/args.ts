/**
 * Argument codecs: how the words after a keyword (`priority 100`, `smtp_server A 25`,
 * `weight -20 reverse`) map to a model value, and back. The same codec checks the
 * structured TOML value for that key.
 */
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import { type Atom, bool, describe, Fail, isFail } from "./atoms.ts";

export interface Result<T> {
  value?: T;
  issues: Issue[];
}

/** A TOML value as the emitter writes it inline. */
export type TomlValue = string | number | boolean | TomlValue[] | { [k: string]: TomlValue };

export interface ArgCodec<T> {
  /** `toks` are the arguments after the keyword; `rest` is their raw text (script keywords). */
  fromTokens(toks: readonly Tok[], rest: string): Result<T>;
  fromToml(v: unknown): Result<T>;
  /** Text after the keyword; undefined means "write no line at all" (a false pure flag). */
  toArgs(v: T): string | undefined;
  toToml(v: T): TomlValue;
  /** A valid value (see Atom.example). */
  readonly example: T;
  /** What it takes, for the generated reference: "an integer in 1..255", "ADDR [PORT]". */
  readonly what: string;
}

const issue = (f: Fail, at?: Issue["at"]): Issue =>
  at === undefined
    ? { code: f.code, message: f.message }
    : { code: f.code, message: f.message, at };

/** Shared empty list: most values have no issue, and callers only read it. */
const NO_ISSUES: Issue[] = [];
const extra = (toks: readonly Tok[], from: number): Issue[] =>
  toks.length > from
    ? [
        {
          code: "extra-argument",
          message: `unexpected '${toks[from]?.text}'`,
          severity: "warning",
          at: from,
        },
      ]
    : NO_ISSUES;

/** `keyword VALUE` */
export function scalar<T>(atom: Atom<T>): ArgCodec<T> {
  return {
    fromTokens(toks) {
      const t = toks[0];
      if (!t) return { issues: [{ code: "missing-argument", message: `expected ${atom.what}` }] };
      const r = atom.parse(t.text);
      if (isFail(r)) return { issues: [issue(r, 0)] };
      return { value: r, issues: extra(toks, 1) };
    },
    fromToml(v) {
      const r = atom.check(v);
      return isFail(r) ? { issues: [issue(r)] } : { value: r, issues: [] };
    },
    toArgs: (v) => atom.show(v),
    toToml: (v) => v as TomlValue,
    example: atom.example,
    what: atom.what,
  };
}

/**
 * `keyword` alone means true; `keyword on|off|...` sets it. A pure flag (keepalived takes no
 * argument, e.g. `nopreempt`) writes nothing when false.
 */
export function flag(pure = false): ArgCodec<boolean> {
  return {
    fromTokens(toks) {
      const t = toks[0];
      if (!t) return { value: true, issues: [] };
      const r = bool.parse(t.text);
      if (isFail(r)) return { issues: [issue(r, 0)] };
      return { value: r, issues: extra(toks, 1) };
    },
    fromToml(v) {
      const r = bool.check(v);
      return isFail(r) ? { issues: [issue(r)] } : { value: r, issues: [] };
    },
    toArgs: (v) => (v ? "" : pure ? undefined : "false"),
    toToml: (v) => v,
    example: true,
    what: pure ? "flag (the keyword alone)" : "flag, or on|off|true|false|yes|no",
  };
}

/** `keyword A B C ...` → array (at least `min` words). */
export function words<T>(atom: Atom<T>, min = 1): ArgCodec<T[]> {
  return {
    fromTokens(toks) {
      const issues: Issue[] = [];
      const out: T[] = [];
      toks.forEach((t, i) => {
        const r = atom.parse(t.text);
        if (isFail(r)) issues.push(issue(r, i));
        else out.push(r);
      });
      if (toks.length < min)
        issues.push({
          code: "missing-argument",
          message: `expected at least ${min} value(s): ${atom.what}`,
        });
      return issues.some((x) => x.severity !== "warning") ? { issues } : { value: out, issues };
    },
    fromToml(v) {
      const list = Array.isArray(v) ? v : [v];
      const issues: Issue[] = [];
      const out: T[] = [];
      list.forEach((x, i) => {
        const r = atom.check(x);
        if (isFail(r)) issues.push(issue(r, Array.isArray(v) ? [i] : undefined));
        else out.push(r);
      });
      if (list.length < min)
        issues.push({ code: "missing-argument", message: `expected at least ${min} value(s)` });
      return issues.length ? { issues } : { value: out, issues };
    },
    toArgs: (v) => v.map((x) => atom.show(x)).join(" "),
    toToml: (v) => v as TomlValue[],
    example: [atom.example],
    what: `${min > 0 ? "one or more" : "zero or more"} of: ${atom.what}`,
  };
}

export function tomlTableIssue(v: unknown, what: string): Issue | undefined {
  if (typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date))
    return undefined;
  return { code: "bad-type", message: `expected ${what}, got ${describe(v)}` };
}

export function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export { Fail };
