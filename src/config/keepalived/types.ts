/**
 * The keepalived front end's intermediate forms: preprocessed lines, tokens, and the
 * generic statement tree that lowering walks with the schema.
 */
import type { Loc } from "../diag.ts";

/**
 * One logical line after preprocessing (comments removed, conditionals applied, parameters
 * and sequences expanded, includes inlined). `cols[i]` is the 1-based column, in the
 * original line `line` of `file`, of character `text[i]`; characters that came from a
 * parameter expansion map to the column of the `$` that produced them.
 */
export interface SrcLine {
  readonly text: string;
  readonly file: string;
  readonly line: number;
  readonly cols: readonly number[];
}

/** A whitespace-separated word. Double quotes are removed from `text` (`quoted` says so). */
export interface Tok extends Loc {
  readonly text: string;
  readonly quoted: boolean;
}

/**
 * `keyword args... [{ block }]`. `rest` is the raw text after the keyword on its line
 * (comment removed, before tokenising), which script-type keywords re-split shell-style.
 */
export interface Stmt {
  readonly kw: Tok;
  readonly args: readonly Tok[];
  readonly rest: string;
  readonly restLoc: Loc;
  /** Present when a `{` followed the keyword (same line, or alone on the next line). */
  readonly block?: readonly Stmt[];
  /** Where the block's `{` was. */
  readonly openLoc?: Loc;
}

/** What the preprocessor needs from the outside world; tests and fuzzing pass fakes. */
export interface SourceHost {
  /** Returns the file's text, or undefined if it cannot be read. */
  readFile(path: string): string | undefined;
  /** Absolute glob pattern (with `*`, `?`, `[...]`, no braces) → sorted matching file paths. */
  glob(pattern: string): string[];
  env(name: string): string | undefined;
  /** For `@ID` lines and `${_INSTANCE}`; keepalived defaults it to the short hostname. */
  readonly configId: string;
  /** Integer in [min, max] for `${_RANDOM}`. */
  random(min: number, max: number): number;
}
