/**
 * From one configured virtual_server to the kernel services it stands for (without dests):
 * one for `IP PORT`, one for `fwmark N`, and for `group NAME` one per address of every
 * range entry and one per fwmark entry (reference §1.11, §6.2; check/ipvswrapper.c
 * ipvs_set_srule, ipvs_group_cmd, ipvs_group_range_cmd).
 *
 * The input types are the structural subset of the config model this needs; the model
 * (src/config/model.ts) is assignable to IpvsInput, which a test checks.
 */
import { bigIntToIp, formatIp, ipToBigInt, parseIp, parseRange } from "../net/ip.ts";
import { type Protocol, type Service, SVC_F } from "./table.ts";

export interface LvsMethodInput {
  readonly method: string;
  readonly type?: "ipip" | "gue" | "gre";
  readonly port?: number;
  readonly nocsum?: boolean;
  readonly csum?: boolean;
  readonly remcsum?: boolean;
}

export interface RsInput {
  readonly ip: string;
  readonly port?: number;
  readonly weight: number;
  readonly lvs_method: LvsMethodInput;
  readonly inhibit_on_failure?: boolean;
  readonly alpha?: boolean;
  readonly uthreshold?: number;
  readonly lthreshold?: number;
}

export interface VsInput {
  readonly ip?: string;
  readonly port?: number;
  readonly fwmark?: number;
  readonly group?: string;
  readonly protocol?: Protocol;
  readonly lvs_sched: string;
  readonly lvs_method: LvsMethodInput;
  readonly persistence_timeout?: { readonly timeout?: number };
  readonly persistence_granularity?: string;
  readonly persistence_engine?: string;
  readonly "flag-1"?: boolean;
  readonly "flag-2"?: boolean;
  readonly "flag-3"?: boolean;
  readonly "sh-port"?: boolean;
  readonly "sh-fallback"?: boolean;
  readonly "mh-port"?: boolean;
  readonly "mh-fallback"?: boolean;
  readonly ops?: boolean;
  readonly ip_family?: "inet" | "inet6";
  readonly ha_suspend?: boolean;
  readonly alpha?: boolean;
  readonly omega?: boolean;
  readonly quorum: number;
  readonly hysteresis: number;
  readonly sorry_server?: { readonly ip: string; readonly port?: number };
  readonly sorry_server_inhibit?: boolean;
  readonly sorry_server_lvs_method?: LvsMethodInput;
  readonly real_server: readonly RsInput[];
}

export interface VsgEntryInput {
  readonly address?: string;
  readonly port?: number;
  readonly fwmark?: number;
  readonly family?: "inet" | "inet6";
}

export interface IpvsInput {
  readonly virtual_server: readonly VsInput[];
  readonly virtual_server_group?: Readonly<Record<string, readonly VsgEntryInput[]>>;
  readonly vrrp_instance?: Readonly<
    Record<
      string,
      {
        readonly virtual_ipaddress?: readonly { readonly address: string }[];
        readonly virtual_ipaddress_excluded?: readonly { readonly address: string }[];
      }
    >
  >;
}

/** A bound on one range's expansion: an IPv6 /64 would otherwise never end. */
export const MAX_RANGE_ADDRESSES = 65536;

/** A stable name for a VS, unique in a valid model (validate-ipvs.ts duplicate key). */
export function vsId(vs: VsInput): string {
  if (vs.fwmark !== undefined) return `fwmark ${vs.fwmark}`;
  if (vs.group !== undefined) return `group ${vs.group}`;
  const host = vs.ip?.includes(":") ? `[${vs.ip}]` : (vs.ip ?? "");
  return `${host}:${vs.port ?? 0}/${vs.protocol ?? "UDP"}`;
}

type Head = Pick<Service, "af" | "protocol" | "addr" | "port" | "fwmark">;

export function expandVs(model: IpvsInput, vs: VsInput, notes: string[]): Service[] {
  const attrs = serviceAttrs(vs);
  const heads: Head[] = [];
  const protocol = vs.protocol ?? "UDP";
  if (vs.fwmark !== undefined) heads.push({ ...fwm(vs.fwmark), af: fwmarkFamily(vs) });
  else if (vs.ip !== undefined) {
    const a = parseIp(vs.ip);
    if (a) heads.push({ af: a.family, protocol, addr: formatIp(a), port: vs.port ?? 0, fwmark: 0 });
  } else if (vs.group !== undefined) {
    const entries = model.virtual_server_group?.[vs.group];
    if (!entries) notes.push(`${vsId(vs)}: no virtual_server_group '${vs.group}'`);
    for (const e of entries ?? []) heads.push(...groupEntry(vs, e, protocol, notes));
  }
  return heads.map((h) => ({
    ...h,
    ...attrs,
    // A group entry always uses a full netmask (ipvs_group_range_cmd, ipvs_group_cmd), so
    // persistence_granularity has no effect on groups.
    netmask: vs.group !== undefined ? fullMask(h.af) : granularity(vs, h.af),
    dests: [],
  }));
}

const fwm = (fwmark: number) => ({ protocol: null, addr: null, port: 0, fwmark });

/** ip_family, else the family of the real servers (vs->af), else IPv4 as keepalived. */
function fwmarkFamily(vs: VsInput): 4 | 6 {
  if (vs.ip_family) return vs.ip_family === "inet6" ? 6 : 4;
  const first = vs.real_server[0]?.ip ?? vs.sorry_server?.ip;
  return first?.includes(":") ? 6 : 4;
}

function groupEntry(vs: VsInput, e: VsgEntryInput, protocol: Protocol, notes: string[]): Head[] {
  if (e.fwmark !== undefined) {
    const af = e.family ? (e.family === "inet6" ? 6 : 4) : fwmarkFamily(vs);
    return [{ ...fwm(e.fwmark), af }];
  }
  const r = e.address === undefined ? undefined : parseRange(e.address);
  if (!r?.ok) return [];
  const { first, count } = r.range;
  if (count > BigInt(MAX_RANGE_ADDRESSES))
    notes.push(`${vsId(vs)}: range ${e.address} truncated to ${MAX_RANGE_ADDRESSES} addresses`);
  const n = count > BigInt(MAX_RANGE_ADDRESSES) ? MAX_RANGE_ADDRESSES : Number(count);
  const base = ipToBigInt(first);
  const out: Head[] = [];
  for (let i = 0; i < n; i++) {
    const addr = formatIp(bigIntToIp(first.family, base + BigInt(i)));
    out.push({ af: first.family, protocol, addr, port: e.port ?? 0, fwmark: 0 });
  }
  return out;
}

function serviceAttrs(vs: VsInput): Pick<Service, "sched" | "flags" | "timeoutS" | "peName"> {
  const timeoutS = vs.persistence_timeout?.timeout ?? 0;
  let flags = 0;
  // check_parser.c lbflags_handler: flag-N always; sh-*/mh-* only with their scheduler;
  // ops is sent as configured (the kernel applies it to UDP only); `hashed` sets nothing.
  if (vs["flag-1"]) flags |= SVC_F.sched1;
  if (vs["flag-2"]) flags |= SVC_F.sched2;
  if (vs["flag-3"]) flags |= SVC_F.sched3;
  for (const s of ["sh", "mh"] as const) {
    if (vs.lvs_sched !== s) continue;
    if (vs[`${s}-fallback`]) flags |= SVC_F.sched1;
    if (vs[`${s}-port`]) flags |= SVC_F.sched2;
  }
  if (vs.ops) flags |= SVC_F.onePacket;
  if (vs.persistence_timeout) flags |= SVC_F.persistent;
  return { sched: vs.lvs_sched, flags, timeoutS, peName: vs.persistence_engine ?? null };
}

function fullMask(af: 4 | 6): number {
  return af === 6 ? 128 : 0xffffffff;
}

/**
 * persistence_granularity (check_parser.c pgr_handler): an IPv4 netmask in dotted form, or
 * an IPv6 prefix length; used only for a persistent service (ipvs_set_srule).
 */
function granularity(vs: VsInput, af: 4 | 6): number {
  const g = vs.persistence_granularity;
  if (!vs.persistence_timeout || g === undefined) return fullMask(af);
  if (af === 6) {
    const n = Number(g.startsWith("/") ? g.slice(1) : g);
    return Number.isInteger(n) && n >= 1 && n <= 128 ? n : 128;
  }
  const a = parseIp(g);
  if (a?.family !== 4) return fullMask(af);
  return (
    (((a.bytes[0] ?? 0) << 24) |
      ((a.bytes[1] ?? 0) << 16) |
      ((a.bytes[2] ?? 0) << 8) |
      (a.bytes[3] ?? 0)) >>>
    0
  );
}
