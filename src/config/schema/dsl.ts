/**
 * The schema DSL. Every block and keyword of the configuration is described once, as a
 * Spec; the same description reads keepalived statements, reads TOML values, and writes
 * both formats. The model's TypeScript types are inferred from the specs.
 */
import type { Diags, Issue, Loc } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import type { LocTable, Path } from "../path.ts";
import type { ArgCodec, TomlValue } from "./args.ts";

/** What reading needs: where to report, and where each path was written. */
export interface ReadCx {
  readonly diags: Diags;
  readonly locs: LocTable;
}

/** Output sink for the keepalived writer. */
export interface KaOut {
  line(depth: number, text: string): void;
}

interface SpecBase<T> {
  /** Phantom: the model type this spec produces. */
  readonly _t?: T;
  readonly doc?: string;
  /** Reading it warns with this advice (keepalived warns for these too). */
  readonly deprecated?: string;
  /**
   * Keys this one switches off (`preempt` clears `nopreempt`): in keepalived syntax the later
   * line wins; TOML, which has no order, reports both together as a conflict.
   */
  readonly clears?: readonly string[];
}

/** `keyword args...` on one line. */
export interface ArgSpec<T> extends SpecBase<T> {
  readonly kind: "arg";
  readonly codec: ArgCodec<T>;
  /** Script keywords re-split the raw text shell-style instead of using the tokens. */
  readonly raw?: boolean;
}

/** `keyword args...` that may repeat; each occurrence adds an item (`auth_hmac { key … }`). */
export interface MultiSpec<T> extends SpecBase<T[]> {
  readonly kind: "multi";
  readonly codec: ArgCodec<T>;
}

/** `keyword { sub-keywords }` → object. */
export interface BlockSpec<F extends Fields> extends SpecBase<FieldsOf<F>> {
  readonly kind: "block";
  readonly fields: F;
  /** keepalived spellings that mean a field (`lb_algo` → `lvs_sched`). */
  readonly aliases: Readonly<Record<string, Alias>>;
}

export interface Alias {
  readonly to: string;
  /** Warn when used, with this advice (keepalived warns for some deprecated words). */
  readonly deprecated?: string;
}

/** `keyword NAME { ... }` → record keyed by NAME. */
export interface NamedSpec<F extends Fields> extends SpecBase<Record<string, FieldsOf<F>>> {
  readonly kind: "named";
  readonly block: BlockSpec<F>;
}

/** `keyword NAME { line \n line }` → record of arrays (`virtual_server_group`). */
export interface NamedLinesSpec<T> extends SpecBase<Record<string, T[]>> {
  readonly kind: "namedLines";
  readonly lines: LinesSpec<T>;
}

/**
 * `keyword HEAD... { ... }`, repeatable → array of objects; the head words (e.g. a virtual
 * server's address and port) become fields of each object.
 */
export interface RepeatSpec<F extends Fields, H extends object>
  extends SpecBase<(FieldsOf<F> & H)[]> {
  readonly kind: "repeat";
  readonly block: BlockSpec<F>;
  readonly head: HeadCodec<H>;
}

export interface HeadCodec<H> {
  /** keepalived words after the keyword. */
  fromTokens(toks: readonly Tok[]): { value?: H; issues: Issue[] };
  /** Pick and check the head fields out of a TOML table; the rest goes to the block. */
  fromToml(v: Record<string, unknown>): { value?: H; issues: Issue[] };
  readonly keys: readonly string[];
  toArgs(h: H): string;
  readonly example: H;
}

/** `keyword { line \n line }` → array, one item per line, or per word for word lists. */
export interface LinesSpec<T> extends SpecBase<T[]> {
  readonly kind: "lines";
  readonly codec: ArgCodec<T>;
  /** Each word of each line is an item (`notification_email`, sync group `group`). */
  readonly perWord?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: heterogeneous spec tables need a top type
type Top = any;
export type AnySpec =
  | ArgSpec<Top>
  | MultiSpec<Top>
  | BlockSpec<Top>
  | NamedSpec<Top>
  | NamedLinesSpec<Top>
  | RepeatSpec<Top, Top>
  | LinesSpec<Top>;
export type Fields = Record<string, AnySpec>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ModelOf<S> = S extends SpecBase<infer T> ? T : never;
export type FieldsOf<F extends Fields> = Simplify<{ -readonly [K in keyof F]?: ModelOf<F[K]> }>;

export function arg<T>(codec: ArgCodec<T>, doc?: string): ArgSpec<T> {
  return doc === undefined ? { kind: "arg", codec } : { kind: "arg", codec, doc };
}

/** A script keyword: the raw text is split shell-style (reference §1.0). */
export function rawArg<T>(codec: ArgCodec<T>): ArgSpec<T> {
  return { kind: "arg", codec, raw: true };
}

export function block<const F extends Fields>(
  fields: F,
  aliases: Readonly<Record<string, Alias | string>> = {},
): BlockSpec<F> {
  const norm: Record<string, Alias> = {};
  for (const [k, a] of Object.entries(aliases)) norm[k] = typeof a === "string" ? { to: a } : a;
  return { kind: "block", fields, aliases: norm };
}

export function named<F extends Fields>(b: BlockSpec<F>): NamedSpec<F> {
  return { kind: "named", block: b };
}

export function namedLines<T>(l: LinesSpec<T>): NamedLinesSpec<T> {
  return { kind: "namedLines", lines: l };
}

export function multi<T>(codec: ArgCodec<T>): MultiSpec<T> {
  return { kind: "multi", codec };
}

/** The same spec, switching off the given keys when it is read. */
export function clearing<S extends AnySpec>(spec: S, keys: readonly string[]): S {
  return { ...spec, clears: keys };
}

/** The same spec, flagged deprecated with advice. */
export function deprecated<S extends AnySpec>(spec: S, advice: string): S {
  return { ...spec, deprecated: advice };
}

export function repeat<F extends Fields, H extends object = Record<never, never>>(
  b: BlockSpec<F>,
  head: HeadCodec<H> = NO_HEAD as unknown as HeadCodec<H>,
): RepeatSpec<F, H> {
  return { kind: "repeat", block: b, head };
}

export function lines<T>(codec: ArgCodec<T>, perWord = false): LinesSpec<T> {
  return { kind: "lines", codec, perWord };
}

const NO_HEAD: HeadCodec<Record<never, never>> = {
  fromTokens: (toks) =>
    toks.length
      ? {
          value: {},
          issues: [
            {
              code: "extra-argument",
              message: `unexpected '${toks[0]?.text}'`,
              severity: "warning",
              at: 0,
            },
          ],
        }
      : { value: {}, issues: [] },
  fromToml: () => ({ value: {}, issues: [] }),
  keys: [],
  toArgs: () => "",
  example: {},
};

/** Locate an Issue from a codec that read keepalived tokens. */
export function tokLoc(issue: Issue, toks: readonly Tok[], fallback: Loc): Loc {
  return typeof issue.at === "number" ? (toks[issue.at] ?? fallback) : fallback;
}

/** Report codec issues: errors and warnings land in diags at the best location. */
export function reportIssues(
  cx: ReadCx,
  issues: readonly Issue[],
  where: (i: Issue) => Loc,
  prefix = "",
): void {
  for (const i of issues) {
    cx.diags.add(
      where(i),
      i.severity ?? "error",
      i.code,
      prefix ? `${prefix}: ${i.message}` : i.message,
    );
  }
}

export type { Path, TomlValue };
