/**
 * Atoms: single-token values. Each parses keepalived's token text and checks a TOML value,
 * returning the value or a reason; `show` writes the token back.
 */
import { formatIp, parseIp } from "../../core/net/ip.ts";

export interface Atom<T> {
  /** For messages: "an integer in 1..255". */
  readonly what: string;
  /** A valid value, for the generated reference and the every-keyword round-trip test. */
  readonly example: T;
  parse(text: string): T | Fail;
  check(v: unknown): T | Fail;
  show(v: T): string;
}

export class Fail {
  constructor(
    readonly code: string,
    readonly message: string,
  ) {}
}

const isFail = (x: unknown): x is Fail => x instanceof Fail;

export { isFail };

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const INTEGER = /^[+-]?\d+$/;

/**
 * A TOML integer beyond 2^53 (smol-toml gives those as bigint): out of range unless it is
 * within [min, max] and a number holds it exactly, so no bigint and no rounded value ever
 * reaches the model.
 */
export function bigInRange(v: bigint, min: number, max: number, what: string): number | Fail {
  const n = Number(v);
  if (n < min || n > max || !Number.isSafeInteger(n))
    return new Fail("out-of-range", `${v} is out of range: expected ${what}`);
  return n;
}

export function int(min: number, max: number): Atom<number> {
  const what = `an integer in ${min}..${max}`;
  const inRange = (n: number): number | Fail =>
    n < min || n > max ? new Fail("out-of-range", `${n} is out of range: expected ${what}`) : n;
  return {
    what,
    example: min <= 1 && 1 <= max ? 1 : min,
    parse(text) {
      if (!INTEGER.test(text)) return new Fail("bad-number", `'${text}' is not ${what}`);
      return inRange(Number(text));
    },
    check(v) {
      if (typeof v === "bigint") return bigInRange(v, min, max, what);
      if (typeof v !== "number" || !Number.isInteger(v))
        return new Fail("bad-type", `expected ${what}, got ${describe(v)}`);
      return inRange(v);
    },
    show: (v) => String(v),
  };
}

/** A decimal number (keepalived's TIMER and decimal values), e.g. seconds. */
export function num(min: number, max: number, unit = ""): Atom<number> {
  const what = `a number in ${min}..${max}${unit ? ` ${unit}` : ""}`;
  const inRange = (n: number): number | Fail =>
    n < min || n > max ? new Fail("out-of-range", `${n} is out of range: expected ${what}`) : n;
  return {
    what,
    example: min <= 1 && 1 <= max ? 1 : min,
    parse(text) {
      if (!DECIMAL.test(text)) return new Fail("bad-number", `'${text}' is not ${what}`);
      return inRange(Number(text));
    },
    check(v) {
      if (typeof v === "bigint") return bigInRange(v, min, max, what);
      if (typeof v !== "number" || !Number.isFinite(v))
        return new Fail("bad-type", `expected ${what}, got ${describe(v)}`);
      return inRange(v);
    },
    show: (v) => String(v),
  };
}

export function str(what = "a string", example = "example"): Atom<string> {
  return {
    what,
    example,
    parse: (text) => text,
    check: (v) =>
      typeof v === "string" ? v : new Fail("bad-type", `expected ${what}, got ${describe(v)}`),
    show: quoteIfNeeded,
  };
}

/** One of a fixed set of words; keepalived matches some case-insensitively. */
export function oneOf<const T extends string>(
  values: readonly T[],
  opts: { caseInsensitive?: boolean } = {},
): Atom<T> {
  const what = `one of ${values.join(", ")}`;
  const find = (text: string): T | Fail => {
    const hit = opts.caseInsensitive
      ? values.find((x) => x.toLowerCase() === text.toLowerCase())
      : values.find((x) => x === text);
    return hit ?? new Fail("bad-value", `'${text}' is not ${what}`);
  };
  return {
    what,
    example: values[0] as T,
    parse: find,
    check: (v) =>
      typeof v === "string"
        ? find(v)
        : new Fail("bad-type", `expected ${what}, got ${describe(v)}`),
    show: (v) => v,
  };
}

const TRUE_WORDS = ["on", "true", "yes"];
const FALSE_WORDS = ["off", "false", "no"];

export const bool: Atom<boolean> = {
  what: "on|off|true|false|yes|no",
  example: true,
  parse(text) {
    const t = text.toLowerCase();
    if (TRUE_WORDS.includes(t)) return true;
    if (FALSE_WORDS.includes(t)) return false;
    return new Fail("bad-value", `'${text}' is not a boolean (on|off|true|false|yes|no)`);
  },
  check: (v) =>
    typeof v === "boolean" ? v : new Fail("bad-type", `expected a boolean, got ${describe(v)}`),
  show: (v) => (v ? "true" : "false"),
};

/** An IPv4 or IPv6 address, canonicalised (RFC 5952 for IPv6). */
export function ip(family?: 4 | 6): Atom<string> {
  const what = family ? `an IPv${family} address` : "an IP address";
  const canon = (text: string): string | Fail => {
    const a = parseIp(text);
    if (!a || (family && a.family !== family))
      return new Fail("bad-address", `'${text}' is not ${what}`);
    return formatIp(a);
  };
  return {
    what,
    example: family === 6 ? "2001:db8::1" : "192.0.2.1",
    parse: canon,
    check: (v) =>
      typeof v === "string"
        ? canon(v)
        : new Fail("bad-type", `expected ${what}, got ${describe(v)}`),
    show: (v) => v,
  };
}

/** An IP address or a host name (smtp_server, connect_ip with names). */
export const host: Atom<string> = {
  what: "an IP address or host name",
  example: "192.0.2.25",
  parse(text) {
    const a = parseIp(text);
    if (a) return formatIp(a);
    if (/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(text)) return text;
    return new Fail("bad-address", `'${text}' is not an IP address or host name`);
  },
  check(v) {
    return typeof v === "string"
      ? this.parse(v)
      : new Fail("bad-type", `expected an address, got ${describe(v)}`);
  },
  show: (v) => v,
};

export const port: Atom<number> = { ...int(0, 65535), example: 80 };

/** A 48-bit MAC address, or its first five octets (keepalived appends the VRID). */
export const mac: Atom<string> = {
  what: "a MAC address",
  example: "02:00:5e:00:01:33",
  parse(text) {
    const parts = text.split(":");
    if (
      (parts.length === 6 || parts.length === 5) &&
      parts.every((p) => /^[0-9A-Fa-f]{1,2}$/.test(p))
    )
      return parts.map((p) => p.padStart(2, "0").toLowerCase()).join(":");
    return new Fail("bad-value", `'${text}' is not a MAC address`);
  },
  check(v) {
    return typeof v === "string"
      ? this.parse(v)
      : new Fail("bad-type", `expected a MAC address, got ${describe(v)}`);
  },
  show: (v) => v,
};

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date";
  switch (typeof v) {
    case "string":
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case "number":
    case "bigint":
      return `the number ${v}`;
    case "boolean":
      return `${v}`;
    case "object":
      return "a table";
    default:
      return typeof v;
  }
}

/**
 * keepalived tokens are whitespace-separated and only double quotes group; write a value
 * so that it reads back as one token: quote it when it is empty or contains a space, tab,
 * brace, comment character or quote. A value that starts with `@`, `~` or `$` is quoted
 * too: as the first word of a list line the preprocessor would take it for a conditional,
 * a ~SEQ/~LST generator or a parameter definition. What no quoting can save (a `"`, a line
 * break, a parameter reference) is caught by convert.ts reading the text back.
 */
export function quoteIfNeeded(v: string): string {
  if (v !== "" && !/[\s{}#!"]|^[@~$]/.test(v)) return v;
  return `"${v}"`;
}

export function atomCanon<T>(a: Atom<T>, text: string): T | undefined {
  const r = a.parse(text);
  return isFail(r) ? undefined : r;
}
