/**
 * The route line model (RouteLine) and the table of its plain options, in the order toLine
 * writes them (keepalived/vrrp/vrrp_iproute.c alloc_route; ip-route(8)).
 */
import { formatIp, parsePrefix } from "../../core/net/ip.ts";
import { SCOPES, type ScopeName } from "./address.ts";
import {
  cNumber,
  ok,
  type Parsed,
  parseAddr,
  parseDec,
  parseIfName,
  parseNameOrNum,
  parseRealms,
  parseWord,
} from "./common.ts";
import { optTable, val } from "./opts.ts";
import { type Encap, type Nexthop, parseRtt } from "./route-parts.ts";

export type { Encap, Nexthop } from "./route-parts.ts";

/** rtnetlink route types by name (lib/rttables.c); "brd" is read as "broadcast". */
export const ROUTE_TYPES = [
  "unicast",
  "local",
  "broadcast",
  "anycast",
  "multicast",
  "blackhole",
  "unreachable",
  "prohibit",
  "throw",
  "nat",
  "xresolve",
] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];

/** RTPROT_KEEPALIVED: a tracked route always gets this protocol. */
export const RTPROT_KEEPALIVED = 18;

export interface RouteLine {
  /** Type word written before the destination (blackhole, unreachable, ...) or its number. */
  readonly type?: RouteType | number;
  /** Destination prefix, canonical; default/any/all become 0.0.0.0/0 or ::/0. */
  readonly to: string;
  /** Preferred source address. */
  readonly src?: string;
  /** IPv6 only: source prefix (source-specific routing). */
  readonly from?: string;
  /** Gateway (`gw` is read as via). `via A or B` becomes two nexthops. */
  readonly via?: string;
  /** Output interface (`oif` is read as dev). */
  readonly dev?: string;
  /** Table number or rt_tables name (main, local, default, ...). */
  readonly table?: number | string;
  /** `metric`, also written `priority` or `preference`. */
  readonly metric?: number;
  readonly scope?: ScopeName | number;
  /** Number or rt_protos name; keepalived forces 18 (keepalived) unless no_track. */
  readonly protocol?: number | string;
  /** `tos` or `dsfield`: number or rt_dsfield name. */
  readonly tos?: number | string;
  readonly onlink?: true;
  /** IPv6 only: lifetime in seconds. */
  readonly expires?: number;
  readonly mtu?: number;
  readonly mtu_lock?: true;
  readonly hoplimit?: number;
  readonly advmss?: number;
  readonly advmss_lock?: true;
  /** Kernel units of 1/8 ms; written as a raw number or with s/ms units. */
  readonly rtt?: number;
  readonly rtt_lock?: true;
  /** Kernel units of 1/4 ms. */
  readonly rttvar?: number;
  readonly rttvar_lock?: true;
  readonly reordering?: number;
  readonly reordering_lock?: true;
  readonly window?: number;
  readonly cwnd?: number;
  readonly cwnd_lock?: true;
  readonly ssthresh?: number;
  readonly ssthresh_lock?: true;
  /** IPv4 only: FROM/TO realms. */
  readonly realms?: string;
  /** Milliseconds. */
  readonly rto_min?: number;
  readonly rto_min_lock?: true;
  readonly initcwnd?: number;
  readonly initrwnd?: number;
  readonly features?: "ecn";
  readonly quickack?: number;
  readonly congctl?: string;
  readonly congctl_lock?: true;
  /** IPv6 only: router preference. */
  readonly pref?: "low" | "medium" | "high" | number;
  readonly "ttl-propagate"?: "enabled" | "disabled";
  readonly fastopen_no_cookie?: number;
  /** VRF device whose table the route goes into. */
  readonly vrf?: string;
  /** `inet` / `inet6` as written (the family otherwise follows from the addresses). */
  readonly family?: "inet" | "inet6";
  /** add / append / prepend as written; keepalived's default is prepend. */
  readonly mode?: "add" | "append" | "prepend";
  readonly no_track?: true;
  /** static_routes only. */
  readonly track_group?: string;
  readonly encap?: Encap;
  readonly nexthop?: readonly Nexthop[];
}

export type RouteKind = "virtual" | "static" | undefined;

const u32 = val((t) => parseDec(t, 0, 0xffffffff), "int");
const oneOf = <W extends string>(words: readonly W[], num?: number) =>
  val(
    (t): Parsed<unknown> => {
      if ((words as readonly string[]).includes(t)) return ok(t);
      if (num !== undefined && /^[0-9]+$/.test(t)) return parseDec(t, 0, num);
      const or = num === undefined ? "" : ` or 0-${num}`;
      return {
        ok: false,
        code: "bad-value",
        message: `'${t}' is not one of ${words.join(", ")}${or}`,
      };
    },
    num === undefined ? "string" : "both",
  );

/** Route options in the order toLine writes them (after family, type, to, via, mode). */
export const ROUTE_OPTS = optTable([
  { key: "src", words: ["src"], value: val((t) => mapText(parseAddr(t)), "string") },
  { key: "from", words: ["from"], value: val(parseFrom, "string") },
  { key: "dev", words: ["dev", "oif"], value: val(parseIfName, "string") },
  {
    key: "table",
    words: ["table"],
    value: val((t) => parseNameOrNum(t, 0xffffffff, "table"), "both"),
  },
  { key: "metric", words: ["metric", "priority", "preference"], value: u32 },
  {
    key: "scope",
    words: ["scope"],
    value: val((t) => parseNameOrNum(t, 255, "scope", SCOPES, true), "both"),
  },
  {
    key: "protocol",
    words: ["protocol"],
    value: val((t) => parseNameOrNum(t, 255, "protocol"), "both"),
  },
  {
    key: "tos",
    words: ["tos", "dsfield"],
    value: val((t) => parseNameOrNum(t, 255, "dsfield"), "both"),
  },
  { key: "onlink", words: ["onlink"] },
  { key: "expires", words: ["expires"], value: u32 },
  { key: "mtu", words: ["mtu"], value: u32, lock: true },
  { key: "hoplimit", words: ["hoplimit"], value: val((t) => parseDec(t, 0, 255), "int") },
  { key: "advmss", words: ["advmss"], value: u32, lock: true },
  { key: "rtt", words: ["rtt"], value: val((t) => parseRtt(t, 8), "both"), lock: true },
  { key: "rttvar", words: ["rttvar"], value: val((t) => parseRtt(t, 4), "both"), lock: true },
  { key: "reordering", words: ["reordering"], value: u32, lock: true },
  { key: "window", words: ["window"], value: u32 },
  { key: "cwnd", words: ["cwnd"], value: u32, lock: true },
  { key: "ssthresh", words: ["ssthresh"], value: u32, lock: true },
  { key: "realms", words: ["realms"], value: val(parseRealms, "string") },
  { key: "rto_min", words: ["rto_min"], value: val((t) => parseRtt(t, 1), "both"), lock: true },
  { key: "initcwnd", words: ["initcwnd"], value: u32 },
  { key: "initrwnd", words: ["initrwnd"], value: u32 },
  { key: "features", words: ["features"], value: oneOf(["ecn"]) },
  { key: "quickack", words: ["quickack"], value: val((t) => parseDec(t, 0, 1), "int") },
  {
    key: "congctl",
    words: ["congctl"],
    value: val((t) => parseWord(t, "congctl"), "string"),
    lock: true,
  },
  { key: "pref", words: ["pref"], value: oneOf(["low", "medium", "high"], 255) },
  { key: "ttl-propagate", words: ["ttl-propagate"], value: oneOf(["enabled", "disabled"]) },
  {
    key: "fastopen_no_cookie",
    words: ["fastopen_no_cookie"],
    value: val((t) => parseDec(t, 0, 1), "int"),
  },
  { key: "vrf", words: ["vrf"], value: val(parseIfName, "string") },
  { key: "no_track", words: ["no_track"] },
  {
    key: "track_group",
    words: ["track_group"],
    value: val((t) => parseWord(t, "track-group"), "string"),
  },
]);

export function mapText(p: Parsed<{ text: string }>): Parsed<unknown> {
  return p.ok ? ok(p.value.text) : p;
}

/** `from` takes a prefix and keepalived allows it for IPv6 routes only. */
function parseFrom(t: string): Parsed<unknown> {
  const p = parsePrefix(t);
  if (!p.ok) return p;
  if (p.prefix.family !== 6)
    return { ok: false, code: "ipv6-only", message: "a route 'from' is IPv6 only" };
  return ok(`${formatIp(p.prefix)}/${p.prefix.len}`);
}

/** find_rttables_rtntype: a type name, "brd", or a number 0-255 (strtoul base 0). */
export function routeType(w: string): RouteType | number | undefined {
  if (w === "brd") return "broadcast";
  if ((ROUTE_TYPES as readonly string[]).includes(w)) return w as RouteType;
  const n = cNumber(w);
  return n !== undefined && n <= 255 ? n : undefined;
}
