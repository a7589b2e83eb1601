/**
 * Write a document as TOML: blocks become tables, named blocks tables keyed by name,
 * repeatable blocks arrays of tables, and everything else an inline value.
 */
import type { TomlValue } from "./schema/args.ts";
import type { AnySpec, BlockSpec, Fields } from "./schema/dsl.ts";
import { rootSpec } from "./schema/root.ts";

type Obj = Record<string, unknown>;

export function emitToml(doc: Obj, header?: string): string {
  const out: string[] = [];
  if (header) for (const l of header.split("\n")) out.push(`# ${l}`);
  writeTable(rootSpec as unknown as BlockSpec<Fields>, doc, [], out);
  return `${out.join("\n").replace(/^\n+/, "")}\n`;
}

const INLINE = new Set(["arg", "multi", "lines"]);

function writeTable(spec: BlockSpec<Fields>, obj: Obj, path: string[], out: string[]): void {
  for (const [key, child] of Object.entries(spec.fields)) {
    const v = obj[key];
    if (v === undefined || !INLINE.has(child.kind)) continue;
    const tv = inlineOf(child, v);
    if (tv !== undefined) out.push(`${tomlKey(key)} = ${formatValue(tv, 0)}`);
  }
  for (const [key, child] of Object.entries(spec.fields)) {
    const v = obj[key];
    if (v === undefined || INLINE.has(child.kind)) continue;
    writeSection(key, child, v, path, out);
  }
}

function inlineOf(spec: AnySpec, v: unknown): TomlValue | undefined {
  switch (spec.kind) {
    case "arg":
      return spec.codec.toArgs(v) === undefined && v === false ? undefined : spec.codec.toToml(v);
    case "multi":
    case "lines":
      return (v as unknown[]).map((x) => spec.codec.toToml(x));
    default:
      return undefined;
  }
}

function header(out: string[], path: string[], array = false): void {
  const name = path.map(tomlKey).join(".");
  out.push("", array ? `[[${name}]]` : `[${name}]`);
}

function writeSection(key: string, spec: AnySpec, v: unknown, path: string[], out: string[]): void {
  const p = [...path, key];
  switch (spec.kind) {
    case "block":
      header(out, p);
      writeTable(spec, v as Obj, p, out);
      return;
    case "named":
      for (const [name, body] of Object.entries(v as Record<string, Obj>)) {
        header(out, [...p, name]);
        writeTable(spec.block, body, [...p, name], out);
      }
      return;
    case "namedLines":
      header(out, p);
      for (const [name, items] of Object.entries(v as Record<string, unknown[]>)) {
        const tv = items.map((x) => spec.lines.codec.toToml(x));
        out.push(`${tomlKey(name)} = ${formatValue(tv, 0)}`);
      }
      return;
    case "repeat":
      for (const item of v as Obj[]) {
        header(out, p, true);
        for (const k of spec.head.keys) {
          const x = item[k];
          if (x !== undefined) out.push(`${tomlKey(k)} = ${formatValue(x as TomlValue, 0)}`);
        }
        const rest: Obj = {};
        for (const [k, x] of Object.entries(item)) if (!spec.head.keys.includes(k)) rest[k] = x;
        writeTable(spec.block, rest, p, out);
      }
      return;
    default:
      return;
  }
}

export function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k);
}

/** A TOML basic string: JSON's escapes are TOML's, except that DEL must be escaped too. */
export function tomlString(s: string): string {
  return JSON.stringify(s).replace(/\u007f/g, "\\u007F");
}

/** Inline tables must stay on one line (TOML 1.0 §Inline Table), so nothing inside one wraps. */
export function formatValue(v: TomlValue, depth: number, inInline = false): string {
  if (typeof v === "string") return tomlString(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "nan";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    const items = v.map((x) => formatValue(x, depth + 1, inInline));
    const flat = `[${items.join(", ")}]`;
    if (inInline || (flat.length <= 80 && !items.some((x) => x.startsWith("{")))) return flat;
    const pad = "  ".repeat(depth + 1);
    return `[\n${items.map((x) => `${pad}${x},`).join("\n")}\n${"  ".repeat(depth)}]`;
  }
  const parts = Object.entries(v).map(
    ([k, x]) => `${tomlKey(k)} = ${formatValue(x, depth + 1, true)}`,
  );
  return parts.length ? `{ ${parts.join(", ")} }` : "{}";
}
