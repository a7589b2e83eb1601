/**
 * virtual_ipaddress / virtual_ipaddress_excluded / static_ipaddress lines
 * (keepalived.conf(5); keepalived/vrrp/vrrp_ipaddress.c alloc_ipaddress):
 *   ADDR[/LEN] [brd ADDR|+|-] [dev IF] [use_vmac] [scope S] [label L] [peer ADDR] [home]
 *   [-nodad] [mngtmpaddr] [noprefixroute] [autojoin] [no_track] [preferred_lft N|forever]
 *   [track_group G]
 * Severity follows keepalived: what makes it drop the address, or report a config error, is
 * an error here; an unknown word, which keepalived skips with a message, is a warning.
 */
import { formatIp, maxPrefixLen, parsePrefix } from "../../core/net/ip.ts";
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import {
  bad,
  error,
  familyOf,
  finish,
  isPlainObject,
  isPlainWord,
  ok,
  type Parsed,
  parseAddr,
  parseDec,
  parseIfName,
  parseNameOrNum,
  parseWord,
  type Result,
  warn,
} from "./common.ts";
import {
  FAILED,
  formatOptions,
  type Model,
  optTable,
  readOption,
  readTomlField,
  val,
} from "./opts.ts";
import { splitWords } from "./words.ts";

export const SCOPES = ["global", "site", "link", "host", "nowhere"] as const;
export type ScopeName = (typeof SCOPES)[number];

export interface AddressLine {
  /** ADDR/LEN, canonical (RFC 5952 for IPv6); a bare ADDR is /32 or /128, as in keepalived. */
  readonly address: string;
  /** IPv4 only: the broadcast address, or "+" / "-" to set / clear the host bits. */
  readonly brd?: string;
  /** Interface; absent = the instance's interface (or default_interface for static). */
  readonly dev?: string;
  /** virtual_ipaddress only: put the address on the instance's VMAC interface. */
  readonly use_vmac?: true;
  /** IPv4 only: a scope name from rt_scopes' defaults, or a number 0-255. */
  readonly scope?: ScopeName | number;
  /** IPv4 only: address label, at most 15 characters (conventionally DEV:anything). */
  readonly label?: string;
  /** Point-to-point peer (bare address, same family; the address then has no prefix). */
  readonly peer?: string;
  /** IFA_F_HOMEADDRESS (Mobile IPv6). */
  readonly home?: true;
  /**
   * keepalived's `-nodad` (its exact word, so TOML writes `"-nodad" = true`): keepalived adds
   * IPv6 VIPs with IFA_F_NODAD; this asks it NOT to, so the kernel runs DAD
   * (keepalived vrrp_ipaddress.c).
   */
  readonly "-nodad"?: true;
  /** IFA_F_MANAGETEMPADDR: make temporary addresses from this prefix (IPv6). */
  readonly mngtmpaddr?: true;
  /** IFA_F_NOPREFIXROUTE: no prefix route for the address. */
  readonly noprefixroute?: true;
  /** IFA_F_MCAUTOJOIN: join the multicast group. */
  readonly autojoin?: true;
  /** Deleting the address externally does not take the instance out of MASTER. */
  readonly no_track?: true;
  /** Preferred lifetime in seconds, or "forever" (keepalived: /128 IPv6 defaults to 0). */
  readonly preferred_lft?: number | "forever";
  /** static_ipaddress only: the track_group whose instances go FAULT if it is lost. */
  readonly track_group?: string;
}

/** Which keyword the line belongs to; undefined accepts both use_vmac and track_group. */
export type AddressKind = "virtual" | "static" | undefined;

const parseBrd = (text: string): Parsed<unknown> => {
  if (text === "+" || text === "-") return ok(text);
  const a = parseAddr(text);
  if (!a.ok) return bad("bad-broadcast", `'${text}' is not an IPv4 address, '+' or '-'`);
  if (a.value.addr.family !== 4) return bad("ipv4-only", "a broadcast address is IPv4 only");
  return ok(a.value.text);
};

const parseLabel = (text: string): Parsed<unknown> => {
  // IFNAMSIZ - 1: keepalived drops an address with a longer label.
  if (!isPlainWord(text) || new TextEncoder().encode(text).length > 15) {
    return bad("bad-label", `label '${text}' must be 1-15 characters without spaces`);
  }
  return ok(text);
};

const parseLft = (text: string): Parsed<unknown> =>
  text === "forever" ? ok("forever") : parseDec(text, 0, 0xffffffff);

const TABLE = optTable([
  { key: "brd", words: ["brd", "broadcast"], value: val(parseBrd, "string") },
  { key: "dev", words: ["dev"], value: val(parseIfName, "string") },
  { key: "use_vmac", words: ["use_vmac"] },
  {
    key: "scope",
    words: ["scope"],
    value: val((t) => parseNameOrNum(t, 255, "scope", SCOPES, true), "both"),
  },
  { key: "label", words: ["label"], value: val(parseLabel, "string") },
  { key: "peer", words: ["peer"], value: val((t) => mapText(parseAddr(t)), "string") },
  { key: "home", words: ["home"] },
  { key: "-nodad", words: ["-nodad"] },
  { key: "mngtmpaddr", words: ["mngtmpaddr"] },
  { key: "noprefixroute", words: ["noprefixroute"] },
  { key: "autojoin", words: ["autojoin"] },
  { key: "no_track", words: ["no_track"] },
  { key: "preferred_lft", words: ["preferred_lft"], value: val(parseLft, "both") },
  {
    key: "track_group",
    words: ["track_group"],
    value: val((t) => parseWord(t, "track-group"), "string"),
  },
]);

function mapText(p: Parsed<{ text: string }>): Parsed<unknown> {
  return p.ok ? ok(p.value.text) : p;
}

/** Keys that the other kind of keyword does not know (vrrp_ipaddress.c). */
function excluded(kind: AddressKind): string | undefined {
  return kind === "static" ? "use_vmac" : kind === "virtual" ? "track_group" : undefined;
}

export function fromTokens(toks: readonly Tok[], kind?: AddressKind): Result<AddressLine> {
  const issues: Issue[] = [];
  const first = toks[0];
  if (!first) {
    error(issues, 0, "missing-argument", "an address line needs an address");
    return { issues };
  }
  const out: Model = {};
  const p = parsePrefix(first.text);
  if (!p.ok) error(issues, 0, p.code, p.message);
  else out.address = `${formatIp(p.prefix)}/${p.prefix.len}`;
  let i = 1;
  while (i < toks.length) {
    const word = toks[i]!.text;
    const spec = TABLE.byWord.get(word);
    if (!spec || spec.key === excluded(kind)) {
      // keepalived logs and ignores the word, then reads on from the next one.
      warn(issues, i, "unknown-option", `unknown address option '${word}' ignored`);
      i++;
      continue;
    }
    i = readOption(spec, toks, i, out, issues);
  }
  if (p.ok) check(out, p.explicitLen, issues, (key) => optionIndex(toks, key));
  return finish(out as unknown as AddressLine, issues);
}

function optionIndex(toks: readonly Tok[], key: string): number {
  const words = TABLE.byKey.get(key)?.words ?? [];
  const i = toks.findIndex((t, n) => n > 0 && words.includes(t.text));
  return Math.max(i, 0);
}

/** Cross-option checks, in keepalived's order; `where` locates an option. */
function check(
  out: Model,
  explicitLen: boolean,
  issues: Issue[],
  where: (key: string) => number | readonly string[],
): void {
  const address = out.address as string;
  const family = familyOf(address);
  const len = Number(address.slice(address.lastIndexOf("/") + 1));
  if (typeof out.peer === "string") {
    if (familyOf(out.peer) !== family) {
      error(
        issues,
        where("peer"),
        "family-mismatch",
        "peer address family differs from the address",
      );
    } else if (explicitLen && len !== maxPrefixLen(family)) {
      error(issues, 0, "prefix-with-peer", "an address with a peer cannot have a prefix length");
    }
  }
  for (const key of ["brd", "scope", "label"]) {
    if (family === 6 && key in out && out[key] !== FAILED)
      error(issues, where(key), "ipv4-only", `${key} is for IPv4 addresses only`);
  }
  if (family === 4 && "brd" in out && "peer" in out) {
    error(issues, where("brd"), "conflicting-options", "brd and peer cannot both be given");
  } else if (family === 4 && (out.brd === "+" || out.brd === "-") && len > 30) {
    error(
      issues,
      where("brd"),
      "bad-broadcast",
      `brd ${out.brd} needs a prefix length of 30 or less`,
    );
  }
  const { dev, label } = out;
  if (
    typeof dev === "string" &&
    typeof label === "string" &&
    label !== dev &&
    !label.startsWith(`${dev}:`)
  ) {
    // keepalived passes any label; iproute2 and ifconfig expect DEV or DEV:anything.
    warn(
      issues,
      where("label"),
      "label-mismatch",
      `label '${label}' does not start with '${dev}:'`,
    );
  }
}

/** A string as keepalived writes the line, or a table with AddressLine's fields. */
export function fromToml(v: unknown, kind?: AddressKind): Result<AddressLine> {
  if (typeof v === "string") {
    const w = splitWords(v);
    if (w.issues.length > 0) return { issues: w.issues };
    return fromTokens(w.toks, kind);
  }
  if (!isPlainObject(v)) {
    return { issues: [{ code: "bad-type", message: "an address must be a string or a table" }] };
  }
  const issues: Issue[] = [];
  const out: Model = {};
  let explicitLen = false;
  for (const [key, val] of Object.entries(v)) {
    if (key === "address") {
      if (typeof val !== "string")
        error(issues, ["address"], "bad-type", "address must be a string");
      else {
        const p = parsePrefix(val);
        if (!p.ok) error(issues, ["address"], p.code, p.message);
        else {
          out.address = `${formatIp(p.prefix)}/${p.prefix.len}`;
          explicitLen = p.explicitLen;
        }
      }
    } else if (key === excluded(kind) || !readTomlField(TABLE, key, val, out, issues, [])) {
      error(issues, [key], "unknown-field", `unknown address field '${key}'`);
    }
  }
  if (!("address" in v)) error(issues, ["address"], "missing-field", "address is required");
  if (typeof out.address === "string") check(out, explicitLen, issues, (key) => [key]);
  return finish(out as unknown as AddressLine, issues);
}

/** The keepalived line; fromTokens(splitWords(toLine(x)).toks) deep-equals x. */
export function toLine(value: AddressLine): string {
  return [value.address, ...formatOptions(TABLE, value as unknown as Model)].join(" ");
}
