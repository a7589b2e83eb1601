/**
 * Tuples: keywords whose arguments are a few positional words followed by options in any
 * order, as keepalived writes them (`lvs_sync_daemon eth0 VI_1 id 5 port 8848`,
 * `track_script { chk weight -20 reverse }`). The model and TOML hold an object keyed by the
 * option words; `short` lets TOML write just the first positional value.
 */
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import { type ArgCodec, isTable, type Result, type TomlValue } from "./args.ts";
import { type Atom, describe, isFail } from "./atoms.ts";

export const FLAG = { flag: true } as const;
/** A flag keepalived expects before the positional words (`garp_extra_if all 10`). */
export const LEAD_FLAG = { flag: true, lead: true } as const;
type FlagDef = { readonly flag: true; readonly lead?: true };
interface ValueDef {
  // biome-ignore lint/suspicious/noExplicitAny: variance hole for heterogeneous atom tables
  readonly atom: Atom<any>;
  /** Position among positional arguments (0-based); absent for options. */
  readonly pos?: number;
  readonly required?: true;
  /** Extra option words accepted for this field (keepalived aliases such as `gw` for `via`). */
  readonly aliases?: readonly string[];
}
type FieldDef = FlagDef | ValueDef;
type Fields = Record<string, FieldDef>;

type ValueOf<D> = D extends FlagDef ? boolean : D extends { atom: Atom<infer T> } ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type TupleOf<F extends Fields> = Simplify<
  { [K in keyof F as F[K] extends { required: true } ? K : never]: ValueOf<F[K]> } & {
    [K in keyof F as F[K] extends { required: true } ? never : K]?: ValueOf<F[K]>;
  }
>;

export interface TupleOpts<F extends Fields> {
  /** TOML may give this field's value alone instead of a table. */
  readonly short?: keyof F & string;
  /** TOML `true` means the keyword alone (an empty tuple), e.g. `dynamic_interfaces`. */
  readonly flagShort?: boolean;
}

function readOption(
  toks: readonly Tok[],
  i: number,
  key: string,
  def: FieldDef,
  out: Record<string, unknown>,
  issues: Issue[],
): number {
  const t = toks[i] as Tok;
  if ("flag" in def) {
    out[key] = true;
    return i + 1;
  }
  const v = toks[i + 1];
  if (!v) {
    issues.push({ code: "missing-argument", message: `'${t.text}' needs ${def.atom.what}`, at: i });
    return i + 1;
  }
  const r = def.atom.parse(v.text);
  if (isFail(r)) issues.push({ code: r.code, message: `${t.text}: ${r.message}`, at: i + 1 });
  else out[key] = r;
  return i + 2;
}

function optionIndex(fields: Fields): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, d] of Object.entries(fields)) {
    // A positional field may also be introduced by a word (`use_vmac name vrrp.1`).
    if (!("pos" in d && d.pos !== undefined)) m.set(k, k);
    if ("aliases" in d) for (const a of d.aliases ?? []) m.set(a, k);
  }
  return m;
}

export function tuple<const F extends Fields>(
  fields: F,
  opts: TupleOpts<F> = {},
): ArgCodec<TupleOf<F>> {
  const positional = Object.entries(fields)
    .filter((e): e is [string, ValueDef] => "atom" in e[1] && e[1].pos !== undefined)
    .sort((a, b) => (a[1].pos ?? 0) - (b[1].pos ?? 0));
  const options = optionIndex(fields);
  const required = Object.entries(fields).filter(([, d]) => "required" in d && d.required);

  const fromTokens = (toks: readonly Tok[]): Result<TupleOf<F>> => {
    const out: Record<string, unknown> = {};
    const issues: Issue[] = [];
    let next = 0; // next positional slot
    let i = 0;
    while (i < toks.length) {
      const t = toks[i] as Tok;
      const key = options.get(t.text);
      // An option word is an option unless that option is already set; anything else fills
      // the next positional slot (keepalived allows `garp_extra_if all 10`).
      if (key !== undefined && !(key in out)) {
        i = readOption(toks, i, key, fields[key] as FieldDef, out, issues);
        continue;
      }
      while (positional[next] && (positional[next] as [string, ValueDef])[0] in out) next++;
      const slot = positional[next];
      if (!slot) {
        issues.push({
          code: key ? "duplicate-option" : "unknown-option",
          message: `unexpected '${t.text}'`,
          at: i,
        });
        i++;
        continue;
      }
      const r = slot[1].atom.parse(t.text);
      if (isFail(r)) issues.push({ code: r.code, message: `${slot[0]}: ${r.message}`, at: i });
      else out[slot[0]] = r;
      next++;
      i++;
    }
    for (const [key, def] of required) {
      if (!(key in out) && !issues.length)
        issues.push({
          code: "missing-argument",
          message: `missing ${key} (${"atom" in def ? def.atom.what : "flag"})`,
        });
    }
    const failed = issues.some((x) => x.severity !== "warning");
    return failed ? { issues } : { value: out as TupleOf<F>, issues };
  };

  const fromToml = (v: unknown): Result<TupleOf<F>> => {
    if (opts.flagShort && v === true) return { value: {} as TupleOf<F>, issues: [] };
    if (opts.flagShort && v === false) return { issues: [] };
    if (opts.short !== undefined && !isTable(v)) return fromToml({ [opts.short]: v });
    if (!isTable(v))
      return { issues: [{ code: "bad-type", message: `expected a table, got ${describe(v)}` }] };
    const out: Record<string, unknown> = {};
    const issues: Issue[] = [];
    for (const [k, x] of Object.entries(v)) {
      const def = fields[k];
      if (!def) {
        issues.push({
          code: "unknown-field",
          message: `unknown field '${k}' (expected one of ${Object.keys(fields).join(", ")})`,
          at: [k],
        });
        continue;
      }
      const r = "flag" in def ? (typeof x === "boolean" ? x : undefined) : def.atom.check(x);
      if (r === undefined)
        issues.push({
          code: "bad-type",
          message: `${k}: expected a boolean, got ${describe(x)}`,
          at: [k],
        });
      else if (isFail(r)) issues.push({ code: r.code, message: `${k}: ${r.message}`, at: [k] });
      // A false flag says the same as no flag; keep the document canonical.
      else if (r !== false) out[k] = r;
    }
    for (const [key] of required) {
      if (!(key in out) && !(key in v))
        issues.push({ code: "missing-field", message: `missing field '${key}'` });
    }
    return issues.length ? { issues } : { value: out as TupleOf<F>, issues };
  };

  const toArgs = (value: TupleOf<F>): string => {
    const rec = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const [key, def] of Object.entries(fields))
      if ("lead" in def && rec[key] === true) parts.push(key);
    for (const [key, def] of positional) if (key in rec) parts.push(def.atom.show(rec[key]));
    for (const [key, def] of Object.entries(fields)) {
      if (("pos" in def && def.pos !== undefined) || "lead" in def) continue;
      const x = rec[key];
      if (x === undefined) continue;
      if ("flag" in def) {
        if (x === true) parts.push(key);
      } else parts.push(key, def.atom.show(x));
    }
    return parts.join(" ");
  };

  const toToml = (value: TupleOf<F>): TomlValue => {
    const rec = value as Record<string, TomlValue>;
    const keys = Object.keys(rec).filter((k) => rec[k] !== undefined && rec[k] !== false);
    if (opts.flagShort && keys.length === 0) return true;
    if (opts.short !== undefined && keys.length === 1 && keys[0] === opts.short)
      return rec[opts.short] as TomlValue;
    const out: Record<string, TomlValue> = {};
    for (const k of Object.keys(fields)) if (rec[k] !== undefined) out[k] = rec[k] as TomlValue;
    return out;
  };

  const example: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(fields)) example[k] = "flag" in d ? true : d.atom.example;
  const what = Object.entries(fields)
    .map(([k, d]) => {
      const word =
        "flag" in d
          ? k
          : "pos" in d && d.pos !== undefined
            ? k.toUpperCase()
            : `${k} ${k.toUpperCase()}`;
      return "required" in d && d.required ? word : `[${word}]`;
    })
    .join(" ");
  return { fromTokens, fromToml, toArgs, toToml, example: example as TupleOf<F>, what };
}
