/**
 * Shared pieces of the line codecs: the Result shape, issue helpers, and value parsers that
 * follow keepalived's readers (lib/parser.c read_unsigned: decimal; lib/rttables.c
 * find_entry: strtoul base 0, i.e. decimal, 0x hex or 0 octal, else a name).
 */
import { formatIp, type IpAddr, type IpFamily, parseIp, parsePrefix } from "../../core/net/ip.ts";
import type { Issue } from "../diag.ts";

export interface Result<T> {
  value?: T;
  issues: Issue[];
}

export type At = number | readonly (string | number)[];

export type Parsed<V> =
  | { readonly ok: true; readonly value: V }
  | { readonly ok: false; readonly code: string; readonly message: string };

export function ok<V>(value: V): Parsed<V> {
  return { ok: true, value };
}

export function bad<V>(code: string, message: string): Parsed<V> {
  return { ok: false, code, message };
}

export function error(issues: Issue[], at: At, code: string, message: string): void {
  issues.push({ code, message, at });
}

export function warn(issues: Issue[], at: At, code: string, message: string): void {
  issues.push({ code, message, severity: "warning", at });
}

export function hasError(issues: readonly Issue[]): boolean {
  return issues.some((i) => (i.severity ?? "error") === "error");
}

/** The value only if no error was found: a line with an error yields nothing. */
export function finish<T>(value: T, issues: Issue[]): Result<T> {
  return hasError(issues) ? { issues } : { value, issues };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** A path one level further below a TOML value (token indices stay as they are). */
export function sub(at: At, ...more: (string | number)[]): At {
  return typeof at === "number" ? at : [...at, ...more];
}

const DEC = /^[0-9]+$/;

/** Decimal, as keepalived's read_unsigned; no sign, no spaces. */
export function parseDec(text: string, min: number, max: number): Parsed<number> {
  if (!DEC.test(text)) return bad("bad-number", `'${text}' is not a decimal number`);
  const n = Number(text);
  if (n < min || n > max || !Number.isSafeInteger(n)) {
    return bad("out-of-range", `${text} is outside [${min}, ${max}]`);
  }
  return ok(n);
}

/** strtoul base 0 on the whole word: undefined if the word is not entirely a number. */
export function cNumber(text: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^0[0-7]*$/.test(text)) return Number.parseInt(text, 8);
  if (/^[1-9][0-9]*$/.test(text)) return Number(text);
  return undefined;
}

export function parseCNum(text: string, max: number): Parsed<number> {
  const n = cNumber(text);
  if (n === undefined) return bad("bad-number", `'${text}' is not a number`);
  if (n > max) return bad("out-of-range", `${text} is above ${max}`);
  return ok(n);
}

// Names that iproute2's files (rt_tables, rt_protos, ...) may define; resolved by the
// address manager at run time, so the codec only checks their shape.
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A number (strtoul base 0) up to `max`, or a name; `known` limits names if `closed`. */
export function parseNameOrNum(
  text: string,
  max: number,
  what: string,
  known: readonly string[] = [],
  closed = false,
): Parsed<number | string> {
  const n = cNumber(text);
  if (n !== undefined)
    return n > max ? bad("out-of-range", `${what} ${text} is above ${max}`) : ok(n);
  if (closed ? known.includes(text) : NAME.test(text)) return ok(text);
  const list = closed ? ` (one of ${known.join(", ")} or a number)` : "";
  return bad(`bad-${what}`, `'${text}' is not a valid ${what}${list}`);
}

/**
 * A plain word: safe to write unquoted on a keepalived line (no whitespace, quotes, comment
 * or brace characters, no '$' that parameter expansion could take).
 */
export function isPlainWord(s: string): boolean {
  return s.length > 0 && !/[\s"'#!{}$\\]/.test(s);
}

/** Linux dev_valid_name plus the plain-word rule: 1-15 bytes, not "." or "..", no '/' ':'. */
export function parseIfName(text: string): Parsed<string> {
  const bytes = new TextEncoder().encode(text).length;
  if (!isPlainWord(text) || bytes > 15 || text === "." || text === ".." || /[/:]/.test(text)) {
    return bad(
      "bad-interface",
      `'${text}' is not a valid interface name (1-15 chars, no / : or spaces)`,
    );
  }
  return ok(text);
}

export function parseWord(text: string, what: string): Parsed<string> {
  return isPlainWord(text) ? ok(text) : bad(`bad-${what}`, `'${text}' is not a valid ${what}`);
}

/** A bare address (no prefix), canonical text plus family. */
export function parseAddr(text: string): Parsed<{ text: string; addr: IpAddr }> {
  const a = parseIp(text);
  if (!a) return bad("bad-address", `'${text}' is not an IPv4 or IPv6 address`);
  return ok({ text: formatIp(a), addr: a });
}

export function familyOf(text: string): IpFamily {
  return text.includes(":") ? 6 : 4;
}

export function familyWord(f: IpFamily): "inet" | "inet6" {
  return f === 4 ? "inet" : "inet6";
}

/** Canonical prefix text, bare address allowed (full length). */
export function parsePrefixText(text: string): Parsed<{ text: string; family: IpFamily }> {
  const r = parsePrefix(text);
  if (!r.ok) return bad(r.code, r.message);
  return ok({ text: `${formatIp(r.prefix)}/${r.prefix.len}`, family: r.prefix.family });
}

/** realms FROM/TO or TO: each a number 0-255 or a name from rt_realms (get_realms). */
export function parseRealms(text: string): Parsed<string> {
  const parts = text.split("/");
  if (parts.length > 2) return bad("bad-realms", `'${text}' is not REALM or REALM/REALM`);
  for (const p of parts) {
    const r = parseNameOrNum(p, 255, "realms");
    if (!r.ok) return bad("bad-realms", `'${text}': ${r.message}`);
  }
  return ok(text);
}

/** A TOML flag: true sets it, false leaves it out (the canonical form has no false flags). */
export function tomlFlag(v: unknown, issues: Issue[], at: At, field: string): boolean {
  if (typeof v === "boolean") return v;
  error(issues, at, "bad-type", `${field} must be true or false`);
  return false;
}

/** A TOML integer (number or bigint) as decimal text, for the token parsers. */
export function tomlIntText(v: unknown): string | undefined {
  if (typeof v === "bigint") return v >= 0n ? v.toString() : `-${(-v).toString()}`;
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  return undefined;
}
