/**
 * Parts of a route line (keepalived/vrrp/vrrp_iproute.c, vrrp_ip_rule_route_parser.c):
 * lightweight-tunnel encapsulation, multipath nexthops, and the rtt-style time values.
 */
import type { IpFamily } from "../../core/net/ip.ts";
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import {
  type At,
  bad,
  cNumber,
  error,
  isPlainObject,
  ok,
  type Parsed,
  parseAddr,
  parseDec,
  parseIfName,
  parseNameOrNum,
  parseRealms,
  sub,
  tomlIntText,
} from "./common.ts";
import { formatOptions, type Model, optTable, readOption, readTomlField, val } from "./opts.ts";

/** `encap TYPE ...` (ip-route(8) ENCAP): MPLS labels, IP/IPv6 tunnel metadata, or ILA. */
export type Encap =
  | { readonly type: "mpls"; readonly labels: readonly number[] }
  | {
      readonly type: "ip";
      readonly id?: number;
      readonly dst?: string;
      readonly src?: string;
      readonly tos?: number | string;
      readonly ttl?: number;
      readonly flags?: number;
    }
  | {
      readonly type: "ip6";
      readonly id?: number;
      readonly dst?: string;
      readonly src?: string;
      readonly tc?: number | string;
      readonly hoplimit?: number;
      readonly flags?: number;
    }
  | { readonly type: "ila"; readonly locator: string };

/** One `nexthop` of a multipath route. */
export interface Nexthop {
  /** Gateway, a bare address of the route's family. */
  readonly via?: string;
  readonly dev?: string;
  /** 1-256, as written (the kernel stores weight - 1). */
  readonly weight?: number;
  /** RTNH_F_ONLINK: the gateway is on-link even if no prefix says so. */
  readonly onlink?: true;
  /** IPv4 only: FROM/TO routing realms. */
  readonly realms?: string;
  readonly encap?: Encap;
}

/** Linux keeps TCP RTO between 200 ms and 120 s (include/net/tcp.h); keepalived clamps. */
const RTT_MIN_MS = 200;
const RTT_MAX_MS = 120000;

/**
 * rtt / rttvar / rto_min (get_time_rtt): a raw number in kernel units (1/`mult` ms), or a
 * decimal with unit s|sec|secs (up to 3 places) or ms|msec|msecs; result in kernel units.
 */
export function parseRtt(text: string, mult: number): Parsed<number> {
  const s = text.search(/[sS]/);
  let num = text;
  let scale = 1; // multiplier to ms for a value with units; raw values are kernel units
  let places = 0;
  if (s >= 0) {
    if (!/^(s|sec|secs)$/i.test(text.slice(s)))
      return bad("bad-time", `'${text}' has an unknown unit`);
    const ms = s > 0 && /[mM]/.test(text[s - 1]!);
    num = text.slice(0, ms ? s - 1 : s);
    places = ms ? 0 : 3;
    scale = ms ? 1 : 1000;
  }
  const m = /^([0-9]*)(?:\.([0-9]*))?$/.exec(num);
  if (!m || num === "" || num === ".") return bad("bad-time", `'${text}' is not a time`);
  const frac = m[2] ?? "";
  if (frac.length > places) return bad("bad-time", `'${text}' has too many decimal places`);
  const whole = Number(m[1] || "0");
  const value =
    s >= 0 ? (whole * scale + Number(frac.padEnd(3, "0").slice(0, 3) || "0")) * mult : whole;
  if (value < RTT_MIN_MS * mult || value > RTT_MAX_MS * mult) {
    return bad("out-of-range", `'${text}' is outside ${RTT_MIN_MS} ms to ${RTT_MAX_MS / 1000} s`);
  }
  return ok(value);
}

const SAFE_U64 = Number.MAX_SAFE_INTEGER; // ids above 2^53 cannot be held exactly

function addrOf(family: IpFamily, kind: string) {
  return (t: string): Parsed<unknown> => {
    const a = parseAddr(t);
    if (!a.ok) return a;
    if (a.value.addr.family !== family)
      return bad(`ipv${family}-only`, `${kind} needs an IPv${family} address`);
    return ok(a.value.text);
  };
}

const ENCAP_IP = optTable([
  { key: "id", words: ["id"], value: val((t) => parseDec(t, 0, SAFE_U64), "int") },
  { key: "dst", words: ["dst"], value: val(addrOf(4, "encap ip"), "string") },
  { key: "src", words: ["src"], value: val(addrOf(4, "encap ip"), "string") },
  { key: "tos", words: ["tos"], value: val((t) => parseNameOrNum(t, 255, "dsfield"), "both") },
  { key: "ttl", words: ["ttl"], value: val((t) => parseDec(t, 0, 255), "int") },
  { key: "flags", words: ["flags"], value: val((t) => parseDec(t, 0, 65535), "int") },
]);

const ENCAP_IP6 = optTable([
  { key: "id", words: ["id"], value: val((t) => parseDec(t, 0, SAFE_U64), "int") },
  { key: "dst", words: ["dst"], value: val(addrOf(6, "encap ip6"), "string") },
  { key: "src", words: ["src"], value: val(addrOf(6, "encap ip6"), "string") },
  { key: "tc", words: ["tc"], value: val((t) => parseNameOrNum(t, 255, "dsfield"), "both") },
  { key: "hoplimit", words: ["hoplimit"], value: val((t) => parseDec(t, 0, 255), "int") },
  { key: "flags", words: ["flags"], value: val((t) => parseDec(t, 0, 65535), "int") },
]);

/** MPLS label stack L[/L] (parse_mpls_address): at most 2 labels of 20 bits, strtoul base 0. */
function parseMpls(text: string): Parsed<number[]> {
  const parts = text.split("/");
  if (parts.length > 2) return bad("bad-encap", `'${text}': at most 2 MPLS labels`);
  const labels: number[] = [];
  for (const p of parts) {
    const n = cNumber(p);
    if (n === undefined || n > 0xfffff)
      return bad("bad-encap", `'${p}' is not an MPLS label (0-1048575)`);
    labels.push(n);
  }
  return ok(labels);
}

/** ILA locator: four 16-bit hex groups (get_addr64). */
function parseLocator(text: string): Parsed<string> {
  const g = text.split(":");
  if (g.length !== 4 || !g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x))) {
    return bad("bad-encap", `'${text}' is not an ILA locator (xxxx:xxxx:xxxx:xxxx)`);
  }
  return ok(g.map((x) => Number.parseInt(x, 16).toString(16)).join(":"));
}

/** `encap` at toks[i]; returns [encap?, next index]. */
export function readEncap(
  toks: readonly Tok[],
  i: number,
  issues: Issue[],
): [Encap | undefined, number] {
  const type = toks[i + 1]?.text;
  if (type === undefined) {
    error(issues, i, "missing-argument", "encap needs a type (mpls, ip, ip6, ila)");
    return [undefined, i + 1];
  }
  if (type === "mpls" || type === "ila") {
    const t = toks[i + 2];
    if (!t) {
      error(issues, i + 1, "missing-argument", `encap ${type} needs a value`);
      return [undefined, i + 2];
    }
    const p = type === "mpls" ? parseMpls(t.text) : parseLocator(t.text);
    if (!p.ok) error(issues, i + 2, p.code, p.message);
    const e: Encap | undefined = !p.ok
      ? undefined
      : type === "mpls"
        ? { type, labels: p.value as number[] }
        : { type, locator: p.value as string };
    return [e, i + 3];
  }
  if (type !== "ip" && type !== "ip6") {
    error(issues, i + 1, "bad-encap", `unknown encap type '${type}'`);
    return [undefined, i + 2];
  }
  const table = type === "ip" ? ENCAP_IP : ENCAP_IP6;
  const out: Model = { type };
  let j = i + 2;
  // keepalived reads KEY VALUE pairs while it knows the key (parse_encap_ip).
  while (j + 1 < toks.length && table.byWord.has(toks[j]!.text)) {
    j = readOption(table.byWord.get(toks[j]!.text)!, toks, j, out, issues);
  }
  if (!("dst" in out) && !("id" in out))
    error(issues, i, "incomplete-encap", `encap ${type} needs dst or id`);
  return [out as unknown as Encap, j];
}

export function encapFromToml(v: unknown, issues: Issue[], at: At): Encap | undefined {
  if (!isPlainObject(v)) {
    error(issues, at, "bad-type", "encap must be a table");
    return undefined;
  }
  const type = v.type;
  const rest = Object.entries(v).filter(([k]) => k !== "type");
  if (type === "mpls" || type === "ila") {
    const key = type === "mpls" ? "labels" : "locator";
    for (const [k] of rest)
      if (k !== key) error(issues, sub(at, k), "unknown-field", `unknown encap field '${k}'`);
    const raw = v[key];
    const ints = Array.isArray(raw) ? raw.map(tomlIntText) : [];
    const text =
      type === "mpls"
        ? ints.length > 0 && ints.every((x) => x !== undefined)
          ? ints.join("/")
          : undefined
        : typeof raw === "string"
          ? raw
          : undefined;
    if (text === undefined) {
      error(
        issues,
        sub(at, key),
        "bad-type",
        type === "mpls" ? "labels must be an array of integers" : "locator must be a string",
      );
      return undefined;
    }
    const p = type === "mpls" ? parseMpls(text) : parseLocator(text);
    if (!p.ok) error(issues, sub(at, key), p.code, p.message);
    else
      return type === "mpls"
        ? { type, labels: p.value as number[] }
        : { type, locator: p.value as string };
    return undefined;
  }
  if (type !== "ip" && type !== "ip6") {
    error(issues, sub(at, "type"), "bad-encap", "encap type must be mpls, ip, ip6 or ila");
    return undefined;
  }
  const table = type === "ip" ? ENCAP_IP : ENCAP_IP6;
  const out: Model = { type };
  for (const [k, x] of rest) {
    if (!readTomlField(table, k, x, out, issues, at))
      error(issues, sub(at, k), "unknown-field", `unknown encap field '${k}'`);
  }
  if (!("dst" in out) && !("id" in out))
    error(issues, at, "incomplete-encap", `encap ${type} needs dst or id`);
  return out as unknown as Encap;
}

export function formatEncap(e: Encap): string[] {
  if (e.type === "mpls") return ["encap", "mpls", e.labels.join("/")];
  if (e.type === "ila") return ["encap", "ila", e.locator];
  return [
    "encap",
    e.type,
    ...formatOptions(e.type === "ip" ? ENCAP_IP : ENCAP_IP6, e as unknown as Model),
  ];
}

const NEXTHOP = optTable([
  { key: "dev", words: ["dev"], value: val(parseIfName, "string") },
  { key: "weight", words: ["weight"], value: val((t) => parseDec(t, 1, 256), "int") },
  { key: "onlink", words: ["onlink"] },
  { key: "realms", words: ["realms"], value: val(parseRealms, "string") },
]);

/**
 * A `via [inet|inet6] ADDR` at toks[i]; returns [address?, next index]. The family word only
 * has to agree with the address, which then carries the family.
 */
export function readVia(
  toks: readonly Tok[],
  i: number,
  issues: Issue[],
): [string | undefined, number] {
  let j = i + 1;
  const fw = toks[j]?.text;
  const explicit: IpFamily | undefined = fw === "inet" ? 4 : fw === "inet6" ? 6 : undefined;
  if (explicit) j++;
  const t = toks[j];
  if (!t) {
    error(issues, i, "missing-argument", `'${toks[i]!.text}' needs an address`);
    return [undefined, j];
  }
  const a = parseAddr(t.text);
  if (!a.ok) {
    error(issues, j, a.code, a.message);
    return [undefined, j + 1];
  }
  if (explicit && a.value.addr.family !== explicit) {
    error(issues, j, "family-mismatch", `'${t.text}' is not ${fw}`);
  }
  return [a.value.text, j + 1];
}

/** The `nexthop ...` list from toks[i] (parse_nexthops); returns [nexthops, next index]. */
export function readNexthops(
  toks: readonly Tok[],
  i: number,
  issues: Issue[],
): [Nexthop[], number] {
  const list: Nexthop[] = [];
  while (toks[i]?.text === "nexthop") {
    const nh: Model = {};
    i++;
    for (let w = toks[i]?.text; w !== undefined; w = toks[i]?.text) {
      if (w === "via") {
        if ("via" in nh) error(issues, i, "duplicate-option", "'via' given twice");
        const [via, j] = readVia(toks, i, issues);
        if (via !== undefined) nh.via = via;
        i = j;
      } else if (w === "encap") {
        if ("encap" in nh) error(issues, i, "duplicate-option", "'encap' given twice");
        const [e, j] = readEncap(toks, i, issues);
        if (e) nh.encap = e;
        i = j;
      } else if (w === "as") {
        i = readAs(toks, i, issues);
      } else if (NEXTHOP.byWord.has(w)) {
        i = readOption(NEXTHOP.byWord.get(w)!, toks, i, nh, issues);
      } else break;
    }
    list.push(nh as Nexthop);
  }
  return [list, i];
}

/** `as [to] ADDR` (MPLS NAT) is not supported; keepalived refuses it too. Skips it. */
export function readAs(toks: readonly Tok[], i: number, issues: Issue[]): number {
  error(issues, i, "unsupported-option", "'as [to]' (MPLS new destination) is not supported");
  return toks[i + 1]?.text === "to" ? i + 3 : i + 2;
}

export function nexthopFromToml(v: unknown, issues: Issue[], at: At): Nexthop | undefined {
  if (!isPlainObject(v)) {
    error(issues, at, "bad-type", "a nexthop must be a table");
    return undefined;
  }
  const nh: Model = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "via") {
      const a = typeof x === "string" ? parseAddr(x) : undefined;
      if (!a) error(issues, sub(at, k), "bad-type", "via must be a string");
      else if (!a.ok) error(issues, sub(at, k), a.code, a.message);
      else nh.via = a.value.text;
    } else if (k === "encap") {
      const e = encapFromToml(x, issues, sub(at, k));
      if (e) nh.encap = e;
    } else if (!readTomlField(NEXTHOP, k, x, nh, issues, at)) {
      error(issues, sub(at, k), "unknown-field", `unknown nexthop field '${k}'`);
    }
  }
  return nh as Nexthop;
}

export function formatNexthop(nh: Nexthop): string[] {
  const out = ["nexthop"];
  if (nh.via !== undefined) out.push("via", nh.via);
  out.push(...formatOptions(NEXTHOP, nh as unknown as Model));
  if (nh.encap) out.push(...formatEncap(nh.encap));
  return out;
}
