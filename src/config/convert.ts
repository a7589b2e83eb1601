/**
 * Lossless conversion or none: a document is written in the other syntax, read back (offline,
 * with no file system, environment or randomness), and compared with what was written.
 * keepalived syntax cannot carry everything TOML can (a `"`, a line break or NUL inside a
 * value, text its preprocessor rewrites, lines over 1022 bytes), and neither file can carry
 * a lone surrogate; such a document is refused, naming the first value that cannot go.
 *
 * edge-agent's extensions (`track_http`, `metrics_listen`) are written in keepalived syntax
 * as they are: the agent reads them back, so nothing is lost for it. keepalived itself
 * would warn and ignore them, so the conversion says so: a comment above each in the text,
 * and a warning, located in the written text, for each.
 */
import { type Diagnostic, formatDiagnostic } from "./diag.ts";
import { EXTENSION_NOTE, emitKeepalived } from "./emit-keepalived.ts";
import { emitToml } from "./emit-toml.ts";
import { exceedsBytes, MAX_LINE_BYTES, utf8Length } from "./keepalived/lexer-text.ts";
import type { SourceHost } from "./keepalived/types.ts";
import { type ConfigFormat, loadText } from "./load.ts";
import { type Path, showPath } from "./path.ts";
import { quoteIfNeeded } from "./schema/atoms.ts";

type Obj = Record<string, unknown>;

/** A value the written text carries that keepalived itself would not act on. */
export interface ConversionWarning extends Diagnostic {
  /** The value, as a document path (`vrrp_instance.VI_1.track_http`). */
  readonly path: Path;
}

export type Conversion =
  | {
      readonly ok: true;
      readonly text: string;
      /** Located in `text` (file: the name given to convertDoc), in line order. */
      readonly warnings: readonly ConversionWarning[];
    }
  | {
      readonly ok: false;
      /** The first value that cannot be written (empty: the document as a whole). */
      readonly path: Path;
      readonly why: string;
      /** "path: why", for the user. */
      readonly message: string;
    };

/** Where the read-back pretends the text is; relative includes and ${_PWD} resolve here. */
const READ_BACK_FILE: Readonly<Record<ConfigFormat, string>> = {
  keepalived: "/nonexistent/edge-agent-convert/keepalived.conf",
  toml: "/nonexistent/edge-agent-convert/agent.toml",
};

/** Nothing outside the text: an include, ${_ENV …} or ${_RANDOM} can only change a value. */
const ISOLATED: SourceHost = {
  readFile: () => undefined,
  glob: () => [],
  env: () => undefined,
  configId: "edge-agent-convert",
  random: (min) => min,
};

/**
 * Writes `raw` in format `to`, or refuses if the text would not read back the same.
 * `raw` is the document of a load without errors (`agent convert` converts nothing else):
 * any error reading the text back is taken as the conversion's fault.
 */
export function convertDoc(
  raw: Obj,
  to: ConfigFormat,
  header?: string,
  /** Names the written text in warnings (e.g. the output file). */
  file = "(converted)",
): Conversion {
  const lone = findLoneSurrogate(raw, []);
  if (lone) {
    const code = lone.unit.toString(16).toUpperCase();
    return refuse(
      lone.path,
      `the value contains a lone surrogate (U+${code}), which no UTF-8 file can carry`,
    );
  }
  const paths: Path[] = [];
  const text = to === "toml" ? emitToml(raw, header) : emitKeepalived(raw, header, paths);
  if (to === "keepalived") {
    const long = longLine(text, paths);
    if (long) return long;
  }
  const back = loadText(text, READ_BACK_FILE[to], to, { offline: true, sourceHost: ISOLATED });
  const why = (path: Path) =>
    to === "keepalived" && path.length > 0 ? keepalivedCannot(at(raw, path)) : undefined;
  const diff = firstDifference(raw, back.raw as Obj, []);
  if (diff) return refuse(diff, why(diff) ?? `it would read back as ${show(at(back.raw, diff))}`);
  const error = back.diagnostics.find((d) => d.severity === "error");
  if (error) {
    // Only keepalived text is traced line by line; a TOML error names the document.
    const path = paths[error.line - 1] ?? [];
    return refuse(path, why(path) ?? readBackError(error));
  }
  return {
    ok: true,
    text,
    warnings: to === "keepalived" ? extensionWarnings(text, paths, file) : [],
  };
}

/** One warning per EXTENSION_NOTE comment, at the keyword on the line after it. */
function extensionWarnings(
  text: string,
  paths: readonly Path[],
  file: string,
): ConversionWarning[] {
  const lines = text.split("\n");
  const out: ConversionWarning[] = [];
  lines.forEach((line, i) => {
    if (!line.trimStart().startsWith(EXTENSION_NOTE)) return;
    const next = lines[i + 1] ?? "";
    const keyword = next.trim().split(/\s+/)[0] ?? "";
    const path = paths[i] ?? [];
    out.push({
      file,
      line: i + 2,
      col: next.length - next.trimStart().length + 1,
      severity: "warning",
      code: "keepalived-lacks",
      message: `${showPath(path)}: keepalived has no '${keyword}' (an edge-agent extension); it would warn and run without it`,
      path,
    });
  });
  return out;
}

function refuse(path: Path, why: string): Conversion {
  const where = path.length ? showPath(path) : "the document";
  return { ok: false, path, why, message: `${where}: ${why}` };
}

function readBackError(d: Diagnostic): string {
  return `the converted text would not load: ${formatDiagnostic({ ...d, file: "(converted)" })}`;
}

/** keepalived lib/parser.c reads at most MAXBUF bytes a line; a longer one is dropped. */
function longLine(text: string, paths: readonly Path[]): Conversion | undefined {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (!exceedsBytes(line, MAX_LINE_BYTES)) continue;
    const why = `its line would be ${utf8Length(line)} bytes, over keepalived's limit of ${MAX_LINE_BYTES}`;
    return refuse(paths[i] ?? [], why);
  }
  return undefined;
}

/** Why keepalived syntax cannot say `v`, if a reason is known. */
function keepalivedCannot(v: unknown): string | undefined {
  const texts = strings(v);
  const has = (re: RegExp | ((s: string) => boolean)) =>
    texts.some((s) => (typeof re === "function" ? re(s) : re.test(s)));
  const cannot = (what: string) =>
    `the value contains ${what}, which keepalived syntax cannot carry`;
  if (has(/"/)) return cannot("a double quote");
  if (has(/[\n\r]/)) return cannot("a line break");
  if (has(/\0/)) return cannot("a NUL character");
  if (has(/\$/)) return "the value contains '$', which keepalived's preprocessor expands";
  if (has(/^[@~]/))
    return "the value starts a line with '@' or '~', which keepalived's preprocessor rewrites";
  // Inside the quotes a space needs, a final `\` escapes the closing quote.
  if (has((s) => s.endsWith("\\") && quoteIfNeeded(s) !== s))
    return "the value needs double quotes and ends in a backslash, which would escape the closing one";
  return undefined;
}

/** Every string in `v`, table keys included. */
function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (isObj(v)) return Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]);
  return [];
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function at(v: unknown, path: Path): unknown {
  let cur = v;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === "number") cur = cur[seg];
    else if (isObj(cur) && typeof seg === "string") cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/**
 * What is written as nothing and reads back absent without changing the model: a pure flag
 * set to false (`nopreempt = false`) and an empty table or list.
 */
function writtenAsNothing(v: unknown): boolean {
  if (v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObj(v) && Object.keys(v).length === 0;
}

/** The first path where `a` and `b` differ, in `a`'s order; numbers as text sees them (−0 = 0). */
function firstDifference(a: unknown, b: unknown, path: Path): Path | undefined {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return path;
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return [...path, i];
      const d = firstDifference(a[i], b[i], [...path, i]);
      if (d) return d;
    }
    return undefined;
  }
  if (isObj(a) && isObj(b)) {
    for (const [k, x] of Object.entries(a)) {
      if (!Object.hasOwn(b, k)) {
        if (writtenAsNothing(x)) continue;
        return [...path, k];
      }
      const d = firstDifference(x, b[k], [...path, k]);
      if (d) return d;
    }
    for (const [k, y] of Object.entries(b))
      if (!Object.hasOwn(a, k) && !writtenAsNothing(y)) return [...path, k];
    return undefined;
  }
  if (typeof a === "number" && typeof b === "number")
    return a === b || (Number.isNaN(a) && Number.isNaN(b)) ? undefined : path;
  return a === b ? undefined : path;
}

/** A string with an unpaired UTF-16 surrogate: valid in memory, never in a UTF-8 file. */
function findLoneSurrogate(v: unknown, path: Path): { path: Path; unit: number } | undefined {
  if (typeof v === "string") {
    const i = loneSurrogateAt(v);
    return i < 0 ? undefined : { path, unit: v.charCodeAt(i) };
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = findLoneSurrogate(v[i], [...path, i]);
      if (r) return r;
    }
    return undefined;
  }
  if (!isObj(v)) return undefined;
  for (const [k, x] of Object.entries(v)) {
    const r = findLoneSurrogate(k, [...path, k]) ?? findLoneSurrogate(x, [...path, k]);
    if (r) return r;
  }
  return undefined;
}

function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const d = s.charCodeAt(i + 1);
    if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) i++;
    else return i;
  }
  return -1;
}
