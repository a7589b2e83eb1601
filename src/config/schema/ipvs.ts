/**
 * IPVS blocks: virtual_server_group, virtual_server, real_server (reference §1.11–§1.13).
 * A virtual server's head (`IP PORT`, `fwmark N`, `group NAME`) and a real server's
 * (`IP [PORT]`) become the fields ip/port/fwmark/group of each array entry.
 */
import { formatIp, parseIp } from "../../core/net/ip.ts";
import type { Issue } from "../diag.ts";
import type { Tok } from "../keepalived/types.ts";
import { describe, int, ip, oneOf, port } from "./atoms.ts";
import { checkers, checkTiming } from "./checkers.ts";
import { Bool, Enum, FLAG, Flag, Int, OptValue, Script, Str, tuple } from "./common.ts";
import { arg, block, type HeadCodec, lines, namedLines, repeat } from "./dsl.ts";
import { vsgLine } from "./lines.ts";

export const SCHEDULERS = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "sh",
  "mh",
  "dh",
  "fo",
  "ovf",
  "lblcr",
  "sed",
  "nq",
  "twos",
] as const;

const lvsMethod = () =>
  arg(
    tuple(
      {
        method: { atom: oneOfCi(["NAT", "DR", "TUN"] as const), pos: 0, required: true },
        type: { atom: oneOfCi(["ipip", "gue", "gre"] as const) },
        port: { atom: port },
        nocsum: FLAG,
        csum: FLAG,
        remcsum: FLAG,
      },
      { short: "method" },
    ),
  );

function oneOfCi<const T extends string>(v: readonly T[]) {
  return oneOf(v, { caseInsensitive: true });
}

export interface RsHead {
  ip: string;
  port?: number;
}
/** Exactly one of ip (with optional port), fwmark or group is set. */
export interface VsHead {
  ip?: string;
  port?: number;
  fwmark?: number;
  group?: string;
}

const headIssue = (code: string, message: string, at?: number): Issue =>
  at === undefined ? { code, message } : { code, message, at };

/**
 * Canonical form of each address spelling read: a large LVS configuration names the same
 * real servers under every virtual server, and parsing one allocates. Bounded; null marks
 * a spelling that is not an address.
 */
const canonicalIps = new Map<string, string | null>();
const MAX_CANONICAL_IPS = 4096;
/** Shared empty list for the common case; callers only read issues. */
const NO_ISSUES: Issue[] = [];

function canonicalIp(text: string): string | undefined {
  let c = canonicalIps.get(text);
  if (c === undefined) {
    const parsed = parseIp(text);
    c = parsed ? formatIp(parsed) : null;
    if (canonicalIps.size >= MAX_CANONICAL_IPS) canonicalIps.clear();
    canonicalIps.set(text, c);
  }
  return c ?? undefined;
}

function readIpPort(toks: readonly Tok[], from: number): { value?: RsHead; issues: Issue[] } {
  const a = toks[from];
  if (!a) return { issues: [headIssue("missing-argument", "expected an IP address")] };
  const ip = canonicalIp(a.text);
  if (ip === undefined)
    return { issues: [headIssue("bad-address", `'${a.text}' is not an IP address`, from)] };
  const out: RsHead = { ip };
  const p = toks[from + 1];
  if (p) {
    const n = port.parse(p.text);
    if (typeof n !== "number")
      return { issues: [headIssue(n.code, `port: ${n.message}`, from + 1)] };
    out.port = n;
  }
  const extra = toks[from + 2];
  const issues = extra
    ? [
        {
          ...headIssue("extra-argument", `unexpected '${extra.text}'`, from + 2),
          severity: "warning" as const,
        },
      ]
    : NO_ISSUES;
  return { value: out, issues };
}

function ipPortToml(v: Record<string, unknown>): { value?: RsHead; issues: Issue[] } {
  const a = ip().check(v.ip);
  if (typeof a !== "string")
    return { issues: [{ code: a.code, message: `ip: ${a.message}`, at: ["ip"] }] };
  if (v.port === undefined) return { value: { ip: a }, issues: [] };
  const p = port.check(v.port);
  if (typeof p !== "number")
    return { issues: [{ code: p.code, message: `port: ${p.message}`, at: ["port"] }] };
  return { value: { ip: a, port: p }, issues: [] };
}

const rsHead: HeadCodec<RsHead> = {
  fromTokens: (toks) => readIpPort(toks, 0),
  fromToml: ipPortToml,
  keys: ["ip", "port"],
  toArgs: (h) => (h.port === undefined ? h.ip : `${h.ip} ${h.port}`),
  example: { ip: "192.0.2.11", port: 8080 },
};

const vsHead: HeadCodec<VsHead> = {
  fromTokens(toks) {
    const w = toks[0]?.text;
    if (w === "fwmark" || w === "group") {
      const a = toks[1];
      if (!a) return { issues: [headIssue("missing-argument", `'${w}' needs a value`, 0)] };
      if (w === "group") return { value: { group: a.text }, issues: [] };
      const n = int(1, 4294967295).parse(a.text);
      return typeof n === "number"
        ? { value: { fwmark: n }, issues: [] }
        : { issues: [headIssue(n.code, `fwmark: ${n.message}`, 1)] };
    }
    return readIpPort(toks, 0);
  },
  fromToml(v) {
    const set = ["ip", "fwmark", "group"].filter((k) => v[k] !== undefined);
    if (set.length !== 1)
      return {
        issues: [
          {
            code: "bad-virtual-server",
            message: "a virtual_server needs exactly one of ip (with port), fwmark or group",
          },
        ],
      };
    if (v.fwmark !== undefined) {
      const n = int(1, 4294967295).check(v.fwmark);
      return typeof n === "number"
        ? { value: { fwmark: n }, issues: [] }
        : { issues: [{ code: n.code, message: `fwmark: ${n.message}`, at: ["fwmark"] }] };
    }
    if (v.group !== undefined)
      return typeof v.group === "string"
        ? { value: { group: v.group }, issues: [] }
        : {
            issues: [
              {
                code: "bad-type",
                message: `group: expected a name, got ${describe(v.group)}`,
                at: ["group"],
              },
            ],
          };
    return ipPortToml(v);
  },
  keys: ["ip", "port", "fwmark", "group"],
  example: { ip: "192.0.2.100", port: 80 },
  toArgs: (h) =>
    h.fwmark !== undefined
      ? `fwmark ${h.fwmark}`
      : h.group !== undefined
        ? `group ${h.group}`
        : rsHead.toArgs(h as RsHead),
};

export const realServer = repeat(
  block(
    {
      weight: Int(0, 2147483647),
      lvs_method: lvsMethod(),
      inhibit_on_failure: Bool(),
      notify_up: Script(),
      notify_down: Script(),
      uthreshold: Int(0, 2147483647),
      lthreshold: Int(0, 2147483647),
      ...checkTiming,
      smtp_alert: Bool(),
      virtualhost: Str("a host name"),
      snmp_name: Str(),
      ...checkers,
    },
    { lb_kind: "lvs_method" },
  ),
  rsHead,
);

const flags = {
  "flag-1": Flag(),
  "flag-2": Flag(),
  "flag-3": Flag(),
  "sh-port": Flag(),
  "sh-fallback": Flag(),
  "mh-port": Flag(),
  "mh-fallback": Flag(),
  ops: Flag(),
  hashed: Flag(),
} as const;

export const virtualServer = repeat(
  block(
    {
      lvs_sched: Enum(SCHEDULERS),
      lvs_method: lvsMethod(),
      protocol: Enum(["TCP", "UDP", "SCTP"] as const, true),
      persistence_timeout: OptValue("timeout", int(1, 2678400)),
      persistence_granularity: Str("a netmask or prefix length"),
      persistence_engine: Str("a persistence engine"),
      ...flags,
      ip_family: Enum(["inet", "inet6"] as const),
      ha_suspend: Flag(),
      virtualhost: Str("a host name"),
      snmp_name: Str(),
      omega: Bool(),
      quorum: Int(1, 2147483647),
      hysteresis: Int(0, 2147483647),
      quorum_up: Script(),
      quorum_down: Script(),
      weight: Int(0, 2147483647),
      sorry_server: arg(
        tuple(
          { ip: { atom: ip(), pos: 0, required: true }, port: { atom: port, pos: 1 } },
          { short: "ip" },
        ),
      ),
      sorry_server_inhibit: Flag(),
      sorry_server_lvs_method: lvsMethod(),
      smtp_alert: Bool(),
      ...checkTiming,
      inhibit_on_failure: Bool(),
      real_server: realServer,
    },
    { lb_algo: "lvs_sched", lb_kind: "lvs_method" },
  ),
  vsHead,
);

export const virtualServerGroup = namedLines(lines(vsgLine));
