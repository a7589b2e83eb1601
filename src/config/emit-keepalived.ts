/** Write a document in keepalived.conf syntax, walking the schema so every block is in order. */
import { quoteIfNeeded } from "./schema/atoms.ts";
import type { AnySpec, BlockSpec, Fields } from "./schema/dsl.ts";
import { rootSpec } from "./schema/root.ts";

type Obj = Record<string, unknown>;
const INDENT = "    ";

export function emitKeepalived(doc: Obj, header?: string): string {
  const out: string[] = [];
  if (header) for (const l of header.split("\n")) out.push(`! ${l}`);
  writeBlock(rootSpec as unknown as BlockSpec<Fields>, doc, 0, out);
  return `${out.join("\n")}\n`;
}

function put(out: string[], depth: number, text: string): void {
  out.push(INDENT.repeat(depth) + text);
}

function writeBlock(spec: BlockSpec<Fields>, obj: Obj, depth: number, out: string[]): void {
  for (const [key, child] of Object.entries(spec.fields)) {
    const v = obj[key];
    if (v === undefined) continue;
    // Separate top-level blocks with a blank line, as keepalived's own samples do.
    if (depth === 0 && out.length && child.kind !== "arg") out.push("");
    writeField(key, child, v, depth, out);
  }
}

function writeField(key: string, spec: AnySpec, v: unknown, depth: number, out: string[]): void {
  switch (spec.kind) {
    case "arg": {
      const a = spec.codec.toArgs(v);
      if (a !== undefined) put(out, depth, a === "" ? key : `${key} ${a}`);
      return;
    }
    case "multi":
      for (const item of v as unknown[]) {
        const a = spec.codec.toArgs(item);
        if (a !== undefined) put(out, depth, a === "" ? key : `${key} ${a}`);
      }
      return;
    case "block":
      put(out, depth, `${key} {`);
      writeBlock(spec, v as Obj, depth + 1, out);
      put(out, depth, "}");
      return;
    case "named":
      for (const [name, body] of Object.entries(v as Record<string, Obj>)) {
        put(out, depth, `${key} ${quoteIfNeeded(name)} {`);
        writeBlock(spec.block, body, depth + 1, out);
        put(out, depth, "}");
      }
      return;
    case "namedLines":
      for (const [name, items] of Object.entries(v as Record<string, unknown[]>)) {
        put(out, depth, `${key} ${quoteIfNeeded(name)} {`);
        for (const item of items) put(out, depth + 1, spec.lines.codec.toArgs(item) ?? "");
        put(out, depth, "}");
      }
      return;
    case "repeat":
      for (const item of v as Obj[]) {
        const head = spec.head.toArgs(item);
        put(out, depth, head ? `${key} ${head} {` : `${key} {`);
        const rest: Obj = {};
        for (const [k, x] of Object.entries(item)) if (!spec.head.keys.includes(k)) rest[k] = x;
        writeBlock(spec.block, rest, depth + 1, out);
        put(out, depth, "}");
      }
      return;
    case "lines":
      put(out, depth, `${key} {`);
      for (const item of v as unknown[]) put(out, depth + 1, spec.codec.toArgs(item) ?? "");
      put(out, depth, "}");
      return;
  }
}
