/** Write a document in keepalived.conf syntax, walking the schema so every block is in order. */
import type { Path } from "./path.ts";
import type { ArgCodec } from "./schema/args.ts";
import { quoteIfNeeded } from "./schema/atoms.ts";
import type { AnySpec, BlockSpec, Fields } from "./schema/dsl.ts";
import { rootSpec } from "./schema/root.ts";

type Obj = Record<string, unknown>;
const INDENT = "    ";

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
  for (const [key, child] of Object.entries(spec.fields)) {
    const v = obj[key];
    if (v === undefined) continue;
    // Separate top-level blocks with a blank line, as keepalived's own samples do.
    if (depth === 0 && out.lines.length && child.kind !== "arg") out.blank([key]);
    writeField(key, child, v, [...path, key], depth, out);
  }
}

function writeField(key: string, spec: AnySpec, v: unknown, p: Path, depth: number, out: Out) {
  switch (spec.kind) {
    case "arg": {
      const a = spec.codec.toArgs(v);
      if (a !== undefined) out.put(depth, a === "" ? key : `${key} ${a}`, p);
      return;
    }
    case "multi":
      (v as unknown[]).forEach((item, i) => {
        const a = spec.codec.toArgs(item);
        if (a !== undefined) out.put(depth, a === "" ? key : `${key} ${a}`, [...p, i]);
      });
      return;
    case "block":
      out.put(depth, `${key} {`, p);
      writeBlock(spec, v as Obj, p, depth + 1, out);
      out.put(depth, "}", p);
      return;
    case "named":
      for (const [name, body] of Object.entries(v as Record<string, Obj>)) {
        out.put(depth, `${key} ${quoteIfNeeded(name)} {`, [...p, name]);
        writeBlock(spec.block, body, [...p, name], depth + 1, out);
        out.put(depth, "}", [...p, name]);
      }
      return;
    case "namedLines":
      for (const [name, items] of Object.entries(v as Record<string, unknown[]>)) {
        out.put(depth, `${key} ${quoteIfNeeded(name)} {`, [...p, name]);
        writeItems(spec.lines.codec, items, [...p, name], depth + 1, out);
        out.put(depth, "}", [...p, name]);
      }
      return;
    case "repeat":
      (v as Obj[]).forEach((item, i) => {
        const head = spec.head.toArgs(item);
        out.put(depth, head ? `${key} ${head} {` : `${key} {`, [...p, i]);
        const rest: Obj = {};
        for (const [k, x] of Object.entries(item)) if (!spec.head.keys.includes(k)) rest[k] = x;
        writeBlock(spec.block, rest, [...p, i], depth + 1, out);
        out.put(depth, "}", [...p, i]);
      });
      return;
    case "lines":
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
