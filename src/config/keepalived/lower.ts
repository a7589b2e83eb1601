/**
 * Lowering: walk keepalived's generic statement tree with the schema and build the raw
 * document (only what was written, typed, no defaults), recording where each path was
 * written. Unknown keywords are warnings, as in keepalived.
 */
import type { Loc } from "../diag.ts";
import type { Path, PathSeg } from "../path.ts";
import {
  type AnySpec,
  type ArgSpec,
  type BlockSpec,
  type Fields,
  type LinesSpec,
  type NamedLinesSpec,
  type NamedSpec,
  type ReadCx,
  type RepeatSpec,
  reportIssues,
  tokLoc,
} from "../schema/dsl.ts";
import { didYouMean } from "../suggest.ts";
import type { Stmt } from "./types.ts";

type Obj = Record<string, unknown>;

export function lowerBlock(
  stmts: readonly Stmt[],
  spec: BlockSpec<Fields>,
  path: Path,
  into: Obj,
  cx: ReadCx,
): Obj {
  for (const st of stmts) {
    const word = st.kw.text;
    let key = word;
    if (!(key in spec.fields)) {
      const alias = spec.aliases[word];
      if (!alias) {
        // The suggestion costs an edit distance per known keyword: skip it once the
        // message would be dropped anyway (a runaway expansion repeats one bad line).
        const known = [...Object.keys(spec.fields), ...Object.keys(spec.aliases)];
        const hint = cx.diags.full ? "" : didYouMean(word, known);
        const where = path.length ? ` in ${blockName(path)}` : "";
        cx.diags.warn(st.kw, "unknown-keyword", `unknown keyword '${word}'${where}${hint}`);
        continue;
      }
      if (alias.deprecated)
        cx.diags.warn(st.kw, "deprecated", `'${word}' is deprecated: ${alias.deprecated}`);
      key = alias.to;
    }
    const sub = spec.fields[key] as AnySpec;
    if (sub.deprecated)
      cx.diags.warn(st.kw, "deprecated", `'${word}' is deprecated: ${sub.deprecated}`);
    const v = lowerStmt(st, sub, child(path, key), into[key], cx);
    if (v !== undefined) {
      into[key] = v;
      if (sub.clears) for (const c of sub.clears) delete into[c];
    }
  }
  return into;
}

/**
 * `[...path, seg]`, without the iterator protocol a spread runs on every statement (two
 * native calls instead, cheap even before the JIT has compiled this).
 */
function child(path: Path, seg: PathSeg): Path {
  const out = path.slice();
  out.push(seg);
  return out;
}

function blockName(path: Path): string {
  const last = path[path.length - 1];
  const prev = path[path.length - 2];
  return typeof prev === "string" &&
    path.length >= 2 &&
    typeof last === "string" &&
    isNamedParent(prev)
    ? `${prev} ${last}`
    : String(typeof last === "number" ? prev : last);
}

const NAMED_PARENTS = new Set([
  "vrrp_instance",
  "vrrp_script",
  "track_http",
  "vrrp_sync_group",
  "vrrp_track_process",
  "track_file",
  "bfd_instance",
  "virtual_server_group",
  "track_group",
]);
const isNamedParent = (k: string) => NAMED_PARENTS.has(k);

function lowerStmt(st: Stmt, spec: AnySpec, path: Path, prev: unknown, cx: ReadCx): unknown {
  switch (spec.kind) {
    case "arg":
      return lowerArg(st, spec, path, cx);
    case "block":
      return lowerSub(st, spec, path, (prev as Obj | undefined) ?? {}, cx);
    case "multi": {
      const v = lowerArg(
        st,
        { kind: "arg", codec: spec.codec },
        child(path, ((prev as unknown[]) ?? []).length),
        cx,
      );
      return v === undefined ? prev : [...((prev as unknown[]) ?? []), v];
    }
    case "named":
      return lowerNamed(st, spec, path, (prev as Record<string, Obj> | undefined) ?? {}, cx);
    case "namedLines":
      return lowerNamedLines(
        st,
        spec,
        path,
        (prev as Record<string, unknown[]> | undefined) ?? {},
        cx,
      );
    case "repeat":
      return lowerRepeat(st, spec, path, (prev as Obj[] | undefined) ?? [], cx);
    case "lines":
      return lowerLines(st, spec, path, (prev as unknown[] | undefined) ?? [], cx);
  }
}

function unexpectedBlock(st: Stmt, cx: ReadCx): void {
  if (st.block)
    cx.diags.warn(st.openLoc ?? st.kw, "unexpected-brace", `'${st.kw.text}' does not take a block`);
}

function lowerArg(st: Stmt, spec: ArgSpec<unknown>, path: Path, cx: ReadCx): unknown {
  unexpectedBlock(st, cx);
  const r = spec.codec.fromTokens(st.args, st.rest);
  const at = (i: { at?: unknown }): Loc =>
    spec.raw ? st.restLoc : tokLoc(i as never, st.args, st.kw);
  reportIssues(cx, r.issues, at, st.kw.text);
  if (r.value === undefined) return undefined;
  cx.locs.set(path, st.kw);
  return r.value;
}

function needBlock(st: Stmt, cx: ReadCx): readonly Stmt[] | undefined {
  if (!st.block) {
    cx.diags.warn(st.kw, "missing-brace", `'${st.kw.text}' needs a block: expected '{'`);
    return undefined;
  }
  return st.block;
}

function lowerSub(
  st: Stmt,
  spec: BlockSpec<Fields>,
  path: Path,
  prev: Obj,
  cx: ReadCx,
): Obj | undefined {
  const body = needBlock(st, cx);
  if (st.args.length && st.args[0])
    cx.diags.warn(
      st.args[0],
      "extra-argument",
      `'${st.kw.text}' takes no argument: unexpected '${st.args[0].text}'`,
    );
  cx.locs.setIfAbsent(path, st.kw);
  return body ? lowerBlock(body, spec, path, prev, cx) : prev;
}

/** The NAME of `keyword NAME {`, if it is present and new. */
function newName(st: Stmt, path: Path, prev: object, cx: ReadCx): string | undefined {
  const name = st.args[0];
  if (!name) {
    cx.diags.error(st.kw, "missing-name", `'${st.kw.text}' needs a name`);
    return undefined;
  }
  if (st.args[1])
    cx.diags.warn(st.args[1], "extra-argument", `unexpected '${st.args[1].text}' after the name`);
  if (Object.hasOwn(prev, name.text)) {
    const first = cx.locs.get(child(path, name.text));
    const at = first ? ` (first defined at ${first.file}:${first.line})` : "";
    cx.diags.error(name, "duplicate-name", `${st.kw.text} ${name.text} is already defined${at}`);
    return undefined;
  }
  cx.locs.set(child(path, name.text), name);
  return name.text;
}

function lowerNamed(
  st: Stmt,
  spec: NamedSpec<Fields>,
  path: Path,
  prev: Record<string, Obj>,
  cx: ReadCx,
): unknown {
  const body = needBlock(st, cx);
  const name = newName(st, path, prev, cx);
  if (name !== undefined)
    prev[name] = body ? lowerBlock(body, spec.block, child(path, name), {}, cx) : {};
  return prev;
}

function lowerNamedLines(
  st: Stmt,
  spec: NamedLinesSpec<unknown>,
  path: Path,
  prev: Record<string, unknown[]>,
  cx: ReadCx,
): unknown {
  const name = newName(st, path, prev, cx);
  if (name === undefined) return prev;
  const items: unknown[] = [];
  const body = needBlock(st, cx);
  if (body) readLineItems(body, spec.lines, child(path, name), items, cx);
  prev[name] = items;
  return prev;
}

function lowerRepeat(
  st: Stmt,
  spec: RepeatSpec<Fields, object>,
  path: Path,
  prev: Obj[],
  cx: ReadCx,
): unknown {
  const head = spec.head.fromTokens(st.args);
  reportIssues(cx, head.issues, (i) => tokLoc(i, st.args, st.kw), st.kw.text);
  const body = needBlock(st, cx);
  const p = child(path, prev.length);
  const obj: Obj = { ...(head.value ?? {}) };
  if (body) lowerBlock(body, spec.block, p, obj, cx);
  if (head.value === undefined) return prev;
  cx.locs.set(p, st.kw);
  prev.push(obj);
  return prev;
}

function lowerLines(
  st: Stmt,
  spec: LinesSpec<unknown>,
  path: Path,
  prev: unknown[],
  cx: ReadCx,
): unknown {
  if (st.args[0])
    cx.diags.warn(st.args[0], "extra-argument", `unexpected '${st.args[0].text}' before '{'`);
  const body = needBlock(st, cx);
  cx.locs.setIfAbsent(path, st.kw);
  if (body) readLineItems(body, spec, path, prev, cx);
  return prev;
}

function readLineItems(
  body: readonly Stmt[],
  spec: LinesSpec<unknown>,
  path: Path,
  prev: unknown[],
  cx: ReadCx,
): void {
  for (const line of body) {
    unexpectedBlock(line, cx);
    const toks = [line.kw, ...line.args];
    const groups = spec.perWord ? toks.map((t) => [t]) : [toks];
    for (const g of groups) {
      const r = spec.codec.fromTokens(g, "");
      reportIssues(cx, r.issues, (i) => tokLoc(i, g, line.kw));
      if (r.value === undefined) continue;
      cx.locs.set(child(path, prev.length), g[0] ?? line.kw);
      prev.push(r.value);
    }
  }
}
