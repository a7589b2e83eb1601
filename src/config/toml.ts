/**
 * The TOML front end: smol-toml parses, the schema checks every key and value and converts
 * the accepted shorthands (address lines as strings, a single word for a list) into the same
 * raw document the keepalived front end builds.
 */
import { parse, TomlError } from "smol-toml";
import type { Diags, Issue } from "./diag.ts";
import { LocTable, type Path } from "./path.ts";
import { isTable } from "./schema/args.ts";
import { describe } from "./schema/atoms.ts";
import type {
  AnySpec,
  BlockSpec,
  Fields,
  LinesSpec,
  NamedLinesSpec,
  NamedSpec,
  ReadCx,
  RepeatSpec,
} from "./schema/dsl.ts";
import { didYouMean } from "./suggest.ts";
import { locateToml } from "./toml-locate.ts";

type Obj = Record<string, unknown>;

export function readToml(
  text: string,
  file: string,
  root: BlockSpec<Fields>,
  diags: Diags,
): { raw: Obj; locs: LocTable } {
  const located = locateToml(text);
  const locs = new LocTable({ file, line: 1, col: 1 }, (p) => {
    const l = located.get(p);
    return l ? { file, line: l.line, col: l.col } : undefined;
  });
  let doc: Obj;
  try {
    // TOML integers are 64-bit; beyond 2^53 smol-toml gives a bigint (instead of refusing
    // the document), which every codec reports at its key as out of range.
    doc = parse(text, { integersAsBigInt: "asNeeded" }) as Obj;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split("\n")[0] ?? "invalid TOML";
      const line = e.line || 1;
      diags.error(
        { file, line, col: charColumn(text, line, e.column || 1) },
        "toml-syntax",
        first.replace(/^Invalid TOML document: /, ""),
      );
    } else diags.error({ file, line: 1, col: 1 }, "toml-syntax", `cannot parse: ${String(e)}`);
    return { raw: {}, locs };
  }
  const cx: ReadCx = { diags, locs };
  return { raw: readBlock(doc, root, [], cx), locs };
}

/**
 * smol-toml counts a column in UTF-16 code units; a Loc counts characters. Re-reads line
 * `line` (smol-toml splits at "\n", dropping a "\r" before it) to convert.
 */
function charColumn(text: string, line: number, unitCol: number): number {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) return unitCol;
    start = nl + 1;
  }
  const before = text.slice(start, start + unitCol - 1);
  let pairs = 0;
  for (let i = 0; i + 1 < before.length; i++) {
    const c = before.charCodeAt(i);
    const d = before.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
      pairs++;
      i++;
    }
  }
  return unitCol - pairs;
}

function report(cx: ReadCx, path: Path, issues: readonly Issue[]): void {
  for (const i of issues) {
    const at = Array.isArray(i.at) ? [...path, ...(i.at as Path)] : path;
    cx.diags.add(
      cx.locs.nearest(at),
      i.severity ?? "error",
      i.code,
      `${showKey(path)}: ${i.message}`,
    );
  }
}

function showKey(path: Path): string {
  return path
    .map((s) => (typeof s === "number" ? `[${s}]` : s))
    .join(".")
    .replace(/\.\[/g, "[");
}

function readBlock(v: unknown, spec: BlockSpec<Fields>, path: Path, cx: ReadCx): Obj {
  const out: Obj = {};
  if (!isTable(v)) {
    report(cx, path, [{ code: "bad-type", message: `expected a table, got ${describe(v)}` }]);
    return out;
  }
  for (const [k, x] of Object.entries(v)) {
    const child = spec.fields[k];
    const p = [...path, k];
    if (!child) {
      const known = Object.keys(spec.fields);
      const alias = spec.aliases[k];
      const hint = alias ? ` (keepalived's '${k}' is '${alias.to}' here)` : didYouMean(k, known);
      cx.diags.warn(
        cx.locs.nearest(p),
        "unknown-keyword",
        `unknown key '${k}'${path.length ? ` in ${showKey(path)}` : ""}${hint}`,
      );
      continue;
    }
    if (child.deprecated)
      cx.diags.warn(cx.locs.nearest(p), "deprecated", `'${k}' is deprecated: ${child.deprecated}`);
    const val = readValue(x, child, p, cx);
    if (val !== undefined) out[k] = val;
  }
  for (const [k, child] of Object.entries(spec.fields)) {
    for (const c of child.clears ?? []) {
      if (k < c && out[k] !== undefined && out[c] !== undefined)
        cx.diags.error(
          cx.locs.nearest([...path, c]),
          "conflicting-keys",
          `${showKey([...path, k])} and ${c} cannot both be set`,
        );
    }
  }
  return out;
}

function readValue(x: unknown, spec: AnySpec, path: Path, cx: ReadCx): unknown {
  switch (spec.kind) {
    case "arg": {
      const r = spec.codec.fromToml(x);
      report(cx, path, r.issues);
      return r.value;
    }
    case "multi":
      return readLines(x, { kind: "lines", codec: spec.codec }, path, cx);
    case "block":
      return readBlock(x, spec, path, cx);
    case "named":
      return readNamed(x, spec, path, cx);
    case "namedLines":
      return readNamedLines(x, spec, path, cx);
    case "repeat":
      return readRepeat(x, spec, path, cx);
    case "lines":
      return readLines(x, spec, path, cx);
  }
}

function readNamed(x: unknown, spec: NamedSpec<Fields>, path: Path, cx: ReadCx): unknown {
  if (!isTable(x)) {
    report(cx, path, [
      { code: "bad-type", message: `expected a table of named blocks, got ${describe(x)}` },
    ]);
    return undefined;
  }
  const out: Record<string, Obj> = {};
  for (const [name, body] of Object.entries(x))
    out[name] = readBlock(body, spec.block, [...path, name], cx);
  return out;
}

function readNamedLines(
  x: unknown,
  spec: NamedLinesSpec<unknown>,
  path: Path,
  cx: ReadCx,
): unknown {
  if (!isTable(x)) {
    report(cx, path, [
      { code: "bad-type", message: `expected a table of named lists, got ${describe(x)}` },
    ]);
    return undefined;
  }
  const out: Record<string, unknown[]> = {};
  for (const [name, body] of Object.entries(x))
    out[name] = readLines(body, spec.lines, [...path, name], cx) as unknown[];
  return out;
}

function readRepeat(x: unknown, spec: RepeatSpec<Fields, object>, path: Path, cx: ReadCx): unknown {
  const items = Array.isArray(x) ? x : [x];
  const out: Obj[] = [];
  items.forEach((item, i) => {
    const p = [...path, i];
    if (!isTable(item)) {
      report(cx, p, [{ code: "bad-type", message: `expected a table, got ${describe(item)}` }]);
      return;
    }
    const head = spec.head.fromToml(item);
    report(cx, p, head.issues);
    const rest: Obj = {};
    for (const [k, v] of Object.entries(item)) if (!spec.head.keys.includes(k)) rest[k] = v;
    const body = readBlock(rest, spec.block, p, cx);
    if (head.value === undefined) return;
    if (out.length !== i) cx.locs.remap([...path, out.length], p);
    out.push({ ...head.value, ...body });
  });
  return out;
}

function readLines(x: unknown, spec: LinesSpec<unknown>, path: Path, cx: ReadCx): unknown {
  const items = Array.isArray(x) ? x : [x];
  const out: unknown[] = [];
  items.forEach((item, i) => {
    const p = Array.isArray(x) ? [...path, i] : path;
    const r = spec.codec.fromToml(item);
    report(cx, p, r.issues);
    if (r.value === undefined) return;
    // Later diagnostics name the model index; the file's element is at `i`.
    if (out.length !== i) cx.locs.remap([...path, out.length], p);
    out.push(r.value);
  });
  return out;
}
