/**
 * A small JSON Schema (draft 2020-12) validator for the keywords our schemas use, and no
 * more: a schema using any other keyword is refused, so a keyword can never be silently
 * ignored. Supported: type, properties, required, additionalProperties (false or a schema),
 * items, minItems, maxItems, const, enum, minimum, maximum, minLength, pattern,
 * format "date-time", oneOf, $ref to "#/$defs/…" (siblings apply too, as in 2020-12), and
 * the annotations $schema, $id, $defs, title, description.
 */

export type Schema = boolean | { readonly [k: string]: unknown };

const ANNOTATIONS = new Set(["$schema", "$id", "$defs", "title", "description"]);
const ASSERTIONS = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "const",
  "enum",
  "minimum",
  "maximum",
  "minLength",
  "pattern",
  "format",
  "oneOf",
  "$ref",
]);

/** RFC 3339 date-time (JSON Schema's "date-time" format), and a real calendar instant. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export class SchemaError extends Error {}

/** Deep equality of JSON values (const, enum). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as never)[k], (b as never)[k]));
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

const hasType = (v: unknown, t: string): boolean =>
  t === "number" ? typeof v === "number" && Number.isFinite(v) : typeOf(v) === t;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Every way `value` breaks `schema`, as "/json/pointer: what" lines; [] when it conforms.
 * Throws SchemaError when the schema itself uses an unsupported keyword or a bad $ref.
 */
export function validate(schema: Schema, value: unknown): string[] {
  const errors: string[] = [];
  check(schema, value, "", schema, errors);
  return errors;
}

function resolve(root: Schema, ref: string): Schema {
  const m = /^#\/\$defs\/([A-Za-z0-9_]+)$/.exec(ref);
  const defs = isObject(root) ? root.$defs : undefined;
  const target = m && isObject(defs) ? defs[m[1] as string] : undefined;
  if (target === undefined) throw new SchemaError(`unresolvable $ref ${ref}`);
  return target as Schema;
}

function check(s: Schema, v: unknown, at: string, root: Schema, errors: string[]): void {
  if (s === true) return;
  if (s === false) {
    errors.push(`${at || "/"}: not allowed here`);
    return;
  }
  for (const k of Object.keys(s))
    if (!ANNOTATIONS.has(k) && !ASSERTIONS.has(k))
      throw new SchemaError(`unsupported keyword ${k} at schema for ${at || "/"}`);
  const e = (msg: string) => errors.push(`${at || "/"}: ${msg}`);
  if (typeof s.$ref === "string") check(resolve(root, s.$ref), v, at, root, errors);
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => hasType(v, t))) {
      e(`expected ${types.join(" or ")}, got ${typeOf(v)}`);
      return;
    }
  }
  if ("const" in s && !jsonEqual(v, s.const)) e(`must be ${JSON.stringify(s.const)}`);
  if (Array.isArray(s.enum) && !s.enum.some((x) => jsonEqual(v, x)))
    e(`must be one of ${JSON.stringify(s.enum)}, got ${JSON.stringify(v)}`);
  if (typeof v === "number") checkNumber(s, v, e);
  if (typeof v === "string") checkString(s, v, e);
  if (Array.isArray(v)) checkArray(s, v, at, root, errors, e);
  if (isObject(v)) checkObject(s, v, at, root, errors, e);
  if (Array.isArray(s.oneOf)) {
    const passing = (s.oneOf as Schema[]).filter((b) => {
      const sub: string[] = [];
      check(b, v, at, root, sub);
      return sub.length === 0;
    });
    if (passing.length !== 1) e(`must match exactly one of oneOf, matches ${passing.length}`);
  }
}

function checkNumber(s: Record<string, unknown>, v: number, e: (m: string) => void): void {
  if (typeof s.minimum === "number" && v < s.minimum) e(`${v} < minimum ${s.minimum}`);
  if (typeof s.maximum === "number" && v > s.maximum) e(`${v} > maximum ${s.maximum}`);
}

function checkString(s: Record<string, unknown>, v: string, e: (m: string) => void): void {
  if (typeof s.minLength === "number" && [...v].length < s.minLength)
    e(`shorter than ${s.minLength}`);
  if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(v))
    e(`${JSON.stringify(v)} does not match ${s.pattern}`);
  if (s.format === "date-time" && !(DATE_TIME.test(v) && Number.isFinite(Date.parse(v))))
    e(`${JSON.stringify(v)} is not an RFC 3339 date-time`);
  else if (s.format !== undefined && s.format !== "date-time")
    throw new SchemaError(`unsupported format ${String(s.format)}`);
}

function checkArray(
  s: Record<string, unknown>,
  v: readonly unknown[],
  at: string,
  root: Schema,
  errors: string[],
  e: (m: string) => void,
): void {
  if (typeof s.minItems === "number" && v.length < s.minItems) e(`fewer than ${s.minItems} items`);
  if (typeof s.maxItems === "number" && v.length > s.maxItems) e(`more than ${s.maxItems} items`);
  if (s.items !== undefined)
    for (const [i, x] of v.entries()) check(s.items as Schema, x, `${at}/${i}`, root, errors);
}

function checkObject(
  s: Record<string, unknown>,
  v: Record<string, unknown>,
  at: string,
  root: Schema,
  errors: string[],
  e: (m: string) => void,
): void {
  const props = isObject(s.properties) ? (s.properties as Record<string, Schema>) : {};
  if (Array.isArray(s.required))
    for (const k of s.required as string[]) if (!(k in v)) e(`missing required ${k}`);
  for (const [k, x] of Object.entries(v)) {
    const sub = props[k] ?? (s.additionalProperties as Schema | undefined);
    if (sub === undefined) continue;
    if (sub === false && !(k in props))
      errors.push(`${at}/${k}: not allowed (additionalProperties)`);
    else check(sub, x, `${at}/${k}`, root, errors);
  }
}
