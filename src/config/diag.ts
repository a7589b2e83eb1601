/**
 * Diagnostics: every problem found in a configuration, with the place it was found.
 * Front ends and the validator only collect; the CLI decides how to print and exit.
 */

export type Severity = "error" | "warning";

/** A place in a source file; line and col are 1-based, col counts characters. */
export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Diagnostic extends Loc {
  readonly severity: Severity;
  /** Stable, kebab-case; documented in docs/config.md. Tools may match on it. */
  readonly code: string;
  readonly message: string;
}

/** A problem found by a pure codec, located relative to its input (see Issue.at). */
export interface Issue {
  readonly code: string;
  readonly message: string;
  readonly severity?: Severity;
  /**
   * Where, relative to the codec's input: a token index (keepalived tokens) or a
   * path below the value (TOML). Absent: the whole value.
   */
  readonly at?: number | readonly (string | number)[];
}

export class Diags {
  readonly list: Diagnostic[] = [];

  add(loc: Loc, severity: Severity, code: string, message: string): void {
    this.list.push({ file: loc.file, line: loc.line, col: loc.col, severity, code, message });
  }
  error(loc: Loc, code: string, message: string): void {
    this.add(loc, "error", code, message);
  }
  warn(loc: Loc, code: string, message: string): void {
    this.add(loc, "warning", code, message);
  }
  get errorCount(): number {
    return this.list.filter((d) => d.severity === "error").length;
  }
  get warningCount(): number {
    return this.list.filter((d) => d.severity === "warning").length;
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message} [${d.code}]`;
}

/** Stable order for output: by file, line, column, then as found. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return list
    .map((d, i) => ({ d, i }))
    .sort(
      (a, b) =>
        (a.d.file < b.d.file ? -1 : a.d.file > b.d.file ? 1 : 0) ||
        a.d.line - b.d.line ||
        a.d.col - b.d.col ||
        a.i - b.i,
    )
    .map((x) => x.d);
}
