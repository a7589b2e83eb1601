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

/**
 * Diagnostics one load keeps: a 450-byte file can expand to hundreds of thousands of bad
 * lines, and a reader gains nothing from the thousand-and-first report of the same mistake.
 */
export const MAX_DIAGNOSTICS = 1000;

export class Diags {
  readonly list: Diagnostic[] = [];
  /** Reports past `limit`: counted, and the first one's place kept for the summary. */
  private dropped = 0;
  private droppedErrors = 0;
  private firstDropped: Loc | null = null;

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  add(loc: Loc, severity: Severity, code: string, message: string): void {
    if (this.list.length >= this.limit) {
      this.dropped++;
      if (severity === "error") this.droppedErrors++;
      this.firstDropped ??= { file: loc.file, line: loc.line, col: loc.col };
      return;
    }
    this.list.push({ file: loc.file, line: loc.line, col: loc.col, severity, code, message });
  }

  /** No further report will be kept: callers may skip building costly messages. */
  get full(): boolean {
    return this.list.length >= this.limit;
  }

  /**
   * Appends one `too-many-diagnostics` summary if reports were dropped, at the first dropped
   * one's place. It is an error when a dropped report was, so a file is never accepted
   * because its errors did not fit.
   */
  finish(): void {
    if (!this.firstDropped) return;
    const severity = this.droppedErrors > 0 ? "error" : "warning";
    const what = this.droppedErrors > 0 ? ` (${this.droppedErrors} of them errors)` : "";
    const msg = `${this.dropped} more diagnostics${what} not shown: only the first ${this.limit} are kept`;
    const loc = this.firstDropped;
    this.firstDropped = null;
    this.list.push({ ...loc, severity, code: "too-many-diagnostics", message: msg });
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
