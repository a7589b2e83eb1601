/**
 * The rule line model (RuleLine), its value parsers and the table of its options
 * (keepalived/vrrp/vrrp_iprule.c alloc_rule; ip-rule(8)).
 */
import {
  bad,
  cNumber,
  ok,
  type Parsed,
  parseCNum,
  parseDec,
  parseIfName,
  parseNameOrNum,
  parsePrefixText,
  parseRealms,
  parseWord,
} from "./common.ts";
import { optTable, val } from "./opts.ts";

export const RULE_TYPES = ["blackhole", "unreachable", "prohibit"] as const;
export type RuleType = (typeof RULE_TYPES)[number];

export interface RuleLine {
  /** Source prefix, canonical; all/any/default become 0.0.0.0/0 or ::/0. */
  readonly from?: string;
  /** Destination prefix, canonical. */
  readonly to?: string;
  /** Invert the selector. */
  readonly not?: true;
  /** Action: look up this table (`lookup` is read as table); number or rt_tables name, not 0. */
  readonly table?: number | string;
  /** `preference`, also written `priority` or `order`. */
  readonly preference?: number;
  /** `tos` or `dsfield`: number or rt_dsfield name. */
  readonly tos?: number | string;
  /** Firewall mark, and the mask written after a '/'. */
  readonly fwmark?: number;
  readonly fwmask?: number;
  /** IPv4 only, table action only: FROM/TO realms. */
  readonly realms?: string;
  /** Table action only (`sup_pl`): ignore routes with a prefix this long or shorter. */
  readonly suppress_prefixlength?: number;
  /** Table action only (`sup_group`): ignore routes via this interface group. */
  readonly suppress_ifgroup?: number | string;
  /** Input interface (`dev` is read as iif). */
  readonly iif?: string;
  readonly oif?: string;
  readonly "tunnel-id"?: number;
  /** [first, last] uid. */
  readonly uidrange?: readonly [number, number];
  /** Action: look up the table of the l3mdev (VRF) device. */
  readonly l3mdev?: true;
  /** 0-255; keepalived forces 18 (keepalived) unless no_track. */
  readonly protocol?: number;
  /** IP protocol number or /etc/protocols name. */
  readonly ipproto?: number | string;
  /** [first, last] port. */
  readonly sport?: readonly [number, number];
  readonly dport?: readonly [number, number];
  /** Action: jump to the rule with this preference (must be after this rule's). */
  readonly goto?: number;
  /** Action: do nothing. */
  readonly nop?: true;
  /** Action: blackhole, unreachable or prohibit (written with or without `type`). */
  readonly type?: RuleType;
  /** `inet` / `inet6` as written. */
  readonly family?: "inet" | "inet6";
  readonly no_track?: true;
  /** static_rules only. */
  readonly track_group?: string;
}

export type RuleKind = "virtual" | "static" | undefined;

export const RTPROT_KEEPALIVED = 18;
export const ACTIONS = ["table", "goto", "nop", "type", "l3mdev"] as const;
export const TABLE_ONLY = ["realms", "suppress_prefixlength", "suppress_ifgroup"] as const;

/** A 'A-B' pair (uidrange, sport, dport); `single` also takes a lone A as A-A. */
function parsePair(max: number, single: boolean) {
  return (t: string): Parsed<unknown> => {
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(t);
    if (!m || (!single && m[2] === undefined))
      return bad("bad-range", `'${t}' is not ${single ? "N or " : ""}N-M`);
    const a = Number(m[1]);
    const b = Number(m[2] ?? m[1]);
    if (a > max || b > max) return bad("out-of-range", `'${t}' is above ${max}`);
    if (a > b) return bad("bad-range", `'${t}' ends before it starts`);
    return ok([a, b]);
  };
}

const fmtPair =
  (single: boolean) =>
  (v: unknown): string => {
    const [a, b] = v as [number, number];
    return single && a === b ? String(a) : `${a}-${b}`;
  };

/** inet_proto_a2n: a number or a protocol name. keepalived rejects numbers above 127. */
function parseIpproto(t: string): Parsed<unknown> {
  if (/^[0-9]+$/.test(t)) return parseDec(t, 0, 255);
  return /^[A-Za-z][A-Za-z0-9_.+-]*$/.test(t)
    ? ok(t)
    : bad("bad-ipproto", `'${t}' is not a protocol`);
}

export const RULE_OPTS = optTable([
  { key: "from", words: ["from"], value: val((t) => parseSel(t), "string") },
  { key: "to", words: ["to"], value: val((t) => parseSel(t), "string") },
  { key: "not", words: ["not"] },
  {
    key: "preference",
    words: ["preference", "priority", "order"],
    value: val((t) => parseCNum(t, 0xffffffff), "int"),
  },
  { key: "table", words: ["table", "lookup"], value: val(parseTable, "both") },
  { key: "goto", words: ["goto"], value: val((t) => parseDec(t, 0, 0xffffffff), "int") },
  { key: "nop", words: ["nop"] },
  { key: "l3mdev", words: ["l3mdev"] },
  {
    key: "tos",
    words: ["tos", "dsfield"],
    value: val((t) => parseNameOrNum(t, 255, "dsfield"), "both"),
  },
  { key: "realms", words: ["realms"], value: val(parseRealms, "string") },
  {
    key: "suppress_prefixlength",
    words: ["suppress_prefixlength", "sup_pl"],
    value: val((t) => parseDec(t, 0, 0x7fffffff), "int"),
  },
  {
    key: "suppress_ifgroup",
    words: ["suppress_ifgroup", "sup_group"],
    value: val((t) => parseNameOrNum(t, 0x7fffffff, "group"), "both"),
  },
  { key: "iif", words: ["iif", "dev"], value: val(parseIfName, "string") },
  { key: "oif", words: ["oif"], value: val(parseIfName, "string") },
  {
    key: "tunnel-id",
    words: ["tunnel-id"],
    value: val((t) => parseDec(t, 0, Number.MAX_SAFE_INTEGER), "int"),
  },
  {
    key: "uidrange",
    words: ["uidrange"],
    value: { parse: parsePair(0xffffffff, false), toml: "string", format: fmtPair(false) },
  },
  { key: "protocol", words: ["protocol"], value: val((t) => parseDec(t, 0, 255), "int") },
  { key: "ipproto", words: ["ipproto"], value: val(parseIpproto, "both") },
  {
    key: "sport",
    words: ["sport"],
    value: { parse: parsePair(65535, true), toml: "string", format: fmtPair(true) },
  },
  {
    key: "dport",
    words: ["dport"],
    value: { parse: parsePair(65535, true), toml: "string", format: fmtPair(true) },
  },
  { key: "no_track", words: ["no_track"] },
  {
    key: "track_group",
    words: ["track_group"],
    value: val((t) => parseWord(t, "track-group"), "string"),
  },
]);

/** A selector: a prefix, or all/any/default; the latter is resolved with the family. */
function parseSel(t: string): Parsed<unknown> {
  if (t === "all" || t === "any" || t === "default") return ok(t);
  const p = parsePrefixText(t);
  return p.ok ? ok(p.value.text) : p;
}

function parseTable(t: string): Parsed<unknown> {
  const p = parseNameOrNum(t, 0xffffffff, "table", ["main", "local", "default"]);
  // Table 0 (unspec) means "no table" to the kernel; keepalived refuses it.
  return p.ok && p.value === 0 ? bad("out-of-range", "table 0 is not valid") : p;
}

/** `fwmark M[/MASK]`, each strtoul base 0 up to 2^32-1. */
export function parseFwmark(t: string): Parsed<{ fwmark: number; fwmask?: number }> {
  const [m, k, ...more] = t.split("/");
  const mark = cNumber(m ?? "");
  const mask = k === undefined ? undefined : cNumber(k);
  if (more.length > 0 || mark === undefined || (k !== undefined && mask === undefined)) {
    return bad("bad-fwmark", `'${t}' is not MARK or MARK/MASK`);
  }
  if (mark > 0xffffffff || (mask ?? 0) > 0xffffffff)
    return bad("out-of-range", `'${t}' is above 2^32-1`);
  return ok(mask === undefined ? { fwmark: mark } : { fwmark: mark, fwmask: mask });
}

/** rtntype word after `type` or alone: only blackhole, unreachable, prohibit are actions. */
export function ruleType(w: string): RuleType | "other" | undefined {
  if ((RULE_TYPES as readonly string[]).includes(w)) return w as RuleType;
  const n = cNumber(w);
  if (n !== undefined && n <= 255)
    return n === 6 ? "blackhole" : n === 7 ? "unreachable" : n === 8 ? "prohibit" : "other";
  const other = [
    "unicast",
    "local",
    "broadcast",
    "brd",
    "anycast",
    "multicast",
    "throw",
    "nat",
    "xresolve",
  ];
  return other.includes(w) ? "other" : undefined;
}
