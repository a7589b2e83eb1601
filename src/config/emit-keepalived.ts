/** Write a document in keepalived.conf syntax, walking the schema so every block is in order. */
import type { Path, PathSeg } from "./path.ts";
import type { ArgCodec } from "./schema/args.ts";
import { quoteIfNeeded } from "./schema/atoms.ts";
import type { AnySpec, BlockSpec, Fields } from "./schema/dsl.ts";
import { rootSpec } from "./schema/root.ts";

type Obj = Record<string, unknown>;
const INDENT = "    ";

/**
 * Keywords keepalived 2.2.7 does not know (edge-agent extensions), as schema paths where
 * `*` is any block name. keepalived warns about each line of them and ignores them, but a
 * `}` it does not expect ends the block around it: inside a vrrp_instance, an unknown
 * `track_http { … }` closes the instance early (observed with `keepalived -t`). So inside a
 * block they are written last, where that early end cuts nothing else (at the top level a
 * stray `}` is only warned about). Each comes after a comment line starting with
 * EXTENSION_NOTE, which convert.ts turns into a warning.
 */
export const KEEPALIVED_LACKS: readonly (readonly string[])[] = [
  ["global_defs", "metrics_listen"],
  ["track_http"],
  ["vrrp_sync_group", "*", "track_http"],
  ["vrrp_instance", "*", "track_http"],
];

export const EXTENSION_NOTE = "! edge-agent extension:";

/** Whether the keyword at `path` is one keepalived lacks. */
export function keepalivedLacks(path: readonly PathSeg[]): boolean {
  return KEEPALIVED_LACKS.some(
    (pat) => pat.length === path.length && pat.every((s, i) => s === "*" || s === path[i]),
  );
}

const note = (key: string) =>
  `${EXTENSION_NOTE} keepalived does not know '${key}'; it warns and ignores it`;

/** The lines written so far and, when asked for, the document path each one writes. */
class Out {
  readonly lines: string[] = [];
  constructor(readonly paths: Path[] | undefined) {}

  put(depth: number, text: string, path: Path): void {
    this.lines.push(INDENT.repeat(depth) + text);
    this.paths?.push(path);
  }
  blank(path: Path): void {
    this.lines.push("");
    this.paths?.push(path);
  }
}

/**
 * `paths`, if given, receives for each line of the result (0-based) the path of what it
 * writes, so a line keepalived cannot read can be traced to its value (see convert.ts).
 */
export function emitKeepalived(doc: Obj, header?: string, paths?: Path[]): string {
  const out = new Out(paths);
  if (header) for (const l of header.split("\n")) out.put(0, `! ${l}`, []);
  writeBlock(rootSpec as unknown as BlockSpec<Fields>, doc, [], 0, out);
  return `${out.lines.join("\n")}\n`;
}

function writeBlock(spec: BlockSpec<Fields>, obj: Obj, path: Path, depth: number, out: Out): void {
  const fields = Object.entries(spec.fields);
  const lacks = (key: string) => keepalivedLacks([...path, key]);
  const ordered =
    path.length === 0
      ? fields
      : [...fields.filter(([k]) => !lacks(k)), ...fields.filter(([k]) => lacks(k))];
  for (const [key, child] of ordered) {
    const v = obj[key];
    if (v === undefined) continue;
    // Separate top-level blocks with a blank line, as keepalived's own samples do.
    if (depth === 0 && out.lines.length && child.kind !== "arg") out.blank([key]);
    writeField(key, child, v, [...path, key], depth, out, lacks(key) ? note(key) : undefined);
  }
}

/** `why`, if given, is written as a comment line before each block or line the field writes. */
function writeField(
  key: string,
  spec: AnySpec,
  v: unknown,
  p: Path,
  depth: number,
  out: Out,
  why?: string,
) {
  const comment = (at: Path) => {
    if (why !== undefined) out.put(depth, why, at);
  };
  switch (spec.kind) {
    case "arg": {
      const a = spec.codec.toArgs(v);
      if (a === undefined) return;
      comment(p);
      out.put(depth, a === "" ? key : `${key} ${a}`, p);
      return;
    }
    case "multi":
      (v as unknown[]).forEach((item, i) => {
        const a = spec.codec.toArgs(item);
        if (a === undefined) return;
        comment([...p, i]);
        out.put(depth, a === "" ? key : `${key} ${a}`, [...p, i]);
      });
      return;
    case "block":
      comment(p);
      out.put(depth, `${key} {`, p);
      writeBlock(spec, v as Obj, p, depth + 1, out);
      out.put(depth, "}", p);
      return;
    case "named":
      for (const [name, body] of Object.entries(v as Record<string, Obj>)) {
        comment([...p, name]);
        out.put(depth, `${key} ${quoteIfNeeded(name)} {`, [...p, name]);
        writeBlock(spec.block, body, [...p, name], depth + 1, out);
        out.put(depth, "}", [...p, name]);
      }
      return;
    case "namedLines":
      for (const [name, items] of Object.entries(v as Record<string, unknown[]>)) {
        comment([...p, name]);
        out.put(depth, `${key} ${quoteIfNeeded(name)} {`, [...p, name]);
        writeItems(spec.lines.codec, items, [...p, name], depth + 1, out);
        out.put(depth, "}", [...p, name]);
      }
      return;
    case "repeat":
      (v as Obj[]).forEach((item, i) => {
        const head = spec.head.toArgs(item);
        comment([...p, i]);
        out.put(depth, head ? `${key} ${head} {` : `${key} {`, [...p, i]);
        const rest: Obj = {};
        for (const [k, x] of Object.entries(item)) if (!spec.head.keys.includes(k)) rest[k] = x;
        writeBlock(spec.block, rest, [...p, i], depth + 1, out);
        out.put(depth, "}", [...p, i]);
      });
      return;
    case "lines":
      comment(p);
      out.put(depth, `${key} {`, p);
      writeItems(spec.codec, v as unknown[], p, depth + 1, out);
      out.put(depth, "}", p);
      return;
  }
}

function writeItems(
  codec: ArgCodec<unknown>,
  items: readonly unknown[],
  p: Path,
  depth: number,
  out: Out,
): void {
  items.forEach((item, i) => {
    out.put(depth, codec.toArgs(item) ?? "", [...p, i]);
  });
}
