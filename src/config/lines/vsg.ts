/**
 * virtual_server_group entries (keepalived.conf(5) "virtual_server_group";
 * keepalived/check/check_data.c alloc_vsg_entry):
 *   ADDR|RANGE [PORT]      RANGE = A.B.C.D-E | ADDR-ADDR | ADDR/LEN (and IPv6 forms, ae00::2-9)
 *   fwmark N [inet|inet6]
 */
import { formatRange, type IpRange, parseRange } from "../../core/net/ip.ts";
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import {
  type At,
  error,
  finish,
  isPlainObject,
  ok,
  type Parsed,
  parseDec,
  type Result,
  tomlIntText,
  warn,
} from "./common.ts";
import { splitWords } from "./words.ts";

export interface VsgEntry {
  /** An address or range, canonical, in the form written ("192.0.2.3-10", "2001:db8::/126"). */
  readonly address?: string;
  /** 1-65535; keepalived reads a port of 0 as no port, so the model leaves it out. */
  readonly port?: number;
  /** Firewall mark, 0 to 2^32-1 (instead of an address). */
  readonly fwmark?: number;
  /** With fwmark only: the family, for groups whose real servers are all tunnelled. */
  readonly family?: "inet" | "inet6";
}

/** The addresses an entry covers, or undefined for a fwmark entry. */
export function vsgRange(e: VsgEntry): IpRange | undefined {
  if (e.address === undefined) return undefined;
  const r = parseRange(e.address);
  return r.ok ? r.range : undefined;
}

function parseAddress(text: string): Parsed<string> {
  const r = parseRange(text);
  return r.ok ? ok(formatRange(r.range)) : r;
}

/** keepalived: a port of all zeros means no port (kept for pre-2.0.7 configurations). */
function parsePort(text: string): Parsed<number | undefined> {
  if (/^0+$/.test(text)) return ok(undefined);
  return parseDec(text, 1, 65535);
}

function parseFamily(text: string): Parsed<"inet" | "inet6"> {
  if (text === "inet" || text === "inet6") return ok(text);
  return { ok: false, code: "bad-family", message: `'${text}' is not inet or inet6` };
}

function extra(toks: readonly Tok[], from: number, issues: Issue[]): void {
  // keepalived reads no further than it needs and ignores the rest of the line.
  for (let i = from; i < toks.length; i++) {
    warn(issues, i, "extra-argument", `'${toks[i]!.text}' ignored`);
  }
}

export function fromTokens(toks: readonly Tok[]): Result<VsgEntry> {
  const issues: Issue[] = [];
  const first = toks[0];
  if (!first) {
    error(issues, 0, "missing-argument", "a group entry needs an address or fwmark");
    return { issues };
  }
  const out: { address?: string; port?: number; fwmark?: number; family?: "inet" | "inet6" } = {};
  if (first.text === "fwmark") {
    const t = toks[1];
    if (!t) error(issues, 0, "missing-argument", "fwmark needs a number");
    else set(parseDec(t.text, 0, 0xffffffff), 1, issues, (v) => (out.fwmark = v));
    const f = toks[2];
    if (f) set(parseFamily(f.text), 2, issues, (v) => (out.family = v));
    extra(toks, 3, issues);
  } else {
    set(parseAddress(first.text), 0, issues, (v) => (out.address = v));
    const t = toks[1];
    if (t)
      set(parsePort(t.text), 1, issues, (v) => {
        if (v !== undefined) out.port = v;
      });
    extra(toks, 2, issues);
  }
  return finish(out, issues);
}

function set<V>(p: Parsed<V>, at: At, issues: Issue[], apply: (v: V) => unknown): void {
  if (p.ok) apply(p.value);
  else error(issues, at, p.code, p.message);
}

/** A string as keepalived writes the entry, or a table {address, port} / {fwmark, family}. */
export function fromToml(v: unknown): Result<VsgEntry> {
  if (typeof v === "string") {
    const w = splitWords(v);
    return w.issues.length > 0 ? { issues: w.issues } : fromTokens(w.toks);
  }
  if (!isPlainObject(v)) {
    return { issues: [{ code: "bad-type", message: "a group entry must be a string or a table" }] };
  }
  const issues: Issue[] = [];
  const out: { address?: string; port?: number; fwmark?: number; family?: "inet" | "inet6" } = {};
  for (const [key, val] of Object.entries(v)) {
    const at = [key];
    const str = typeof val === "string" ? val : undefined;
    const int = tomlIntText(val);
    if (key === "address") {
      if (str === undefined) error(issues, at, "bad-type", "address must be a string");
      else set(parseAddress(str), at, issues, (x) => (out.address = x));
    } else if (key === "port" || key === "fwmark") {
      if (int === undefined) error(issues, at, "bad-type", `${key} must be an integer`);
      else if (key === "port")
        set(parsePort(int), at, issues, (x) => {
          if (x !== undefined) out.port = x;
        });
      else set(parseDec(int, 0, 0xffffffff), at, issues, (x) => (out.fwmark = x));
    } else if (key === "family") {
      if (str === undefined) error(issues, at, "bad-type", "family must be a string");
      else set(parseFamily(str), at, issues, (x) => (out.family = x));
    } else {
      error(issues, at, "unknown-field", `unknown group entry field '${key}'`);
    }
  }
  const has = (k: string): boolean => k in v;
  if (has("address") && has("fwmark")) {
    error(issues, ["fwmark"], "conflicting-fields", "give either address or fwmark, not both");
  } else if (!has("address") && !has("fwmark")) {
    error(issues, [], "missing-field", "a group entry needs address or fwmark");
  } else if (has("address") && has("family")) {
    error(issues, ["family"], "conflicting-fields", "family goes with fwmark only");
  } else if (has("fwmark") && has("port")) {
    error(issues, ["port"], "conflicting-fields", "port goes with address only");
  }
  return finish(out, issues);
}

export function toLine(e: VsgEntry): string {
  if (e.fwmark !== undefined)
    return e.family ? `fwmark ${e.fwmark} ${e.family}` : `fwmark ${e.fwmark}`;
  return e.port !== undefined ? `${e.address} ${e.port}` : `${e.address ?? ""}`;
}
