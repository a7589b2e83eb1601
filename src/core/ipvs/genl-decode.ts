/**
 * Decoders for IPVS generic-netlink replies: GET_SERVICE and GET_DEST dump entries,
 * GET_INFO and GET_CONFIG. Attribute meaning: Linux include/uapi/linux/ip_vs.h; which ones
 * the kernel fills: net/netfilter/ipvs/ip_vs_ctl.c (ip_vs_genl_fill_service/_dest/_info).
 * keepalived reads the same ones in keepalived/check/libipvs.c (ipvs_services_parse_cb,
 * ipvs_dests_parse_cb, ipvs_getinfo_parse_cb, ipvs_timeout_parse_cb).
 *
 * Every failure is an NlDecodeError naming the attribute (e.g. "SERVICE.ADDR"); nothing else
 * is thrown (the fuzz test holds this).
 *
 * The traffic counters (STATS64, else STATS) are decoded only by the *WithStats variants: the
 * reconciler reads the table often and has no use for them.
 */

import { bitsToFlags } from "./flags.ts";
import {
  CA,
  DA,
  DA_AF,
  DA_INACT,
  DA_PERSIST,
  DA_STATS,
  DA_STATS64,
  DA_TUN,
  INFO,
  SA,
  SA_NETMASK,
  SA_PE_NAME,
  SA_STATS,
  SA_STATS64,
  STATS,
} from "./ipvs-attrs.ts";
import {
  NlDecodeError,
  parseAttrs,
  readBe16,
  readS32,
  readString,
  readU8,
  readU16,
  readU32,
  readU64,
} from "./nlattr.ts";
import {
  AF_INET,
  AF_INET6,
  type DestCounters,
  type FwdMethod,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type IpvsAf,
  type IpvsDest,
  type IpvsInfo,
  type IpvsProtocol,
  type IpvsService,
  type IpvsStats,
  type IpvsTimeouts,
  type ServiceKey,
  type TunType,
} from "./types.ts";

function required(m: Map<number, Uint8Array>, type: number, where: string): Uint8Array {
  const v = m.get(type);
  if (!v) throw new NlDecodeError(where, "missing");
  return v;
}

function afOf(b: Uint8Array, where: string): IpvsAf {
  const af = readU16(b, where);
  if (af !== AF_INET && af !== AF_INET6) throw new NlDecodeError(where, `unknown family ${af}`);
  return af;
}

function addrOf(b: Uint8Array, af: IpvsAf, where: string): Uint8Array {
  const n = af === AF_INET ? 4 : 16;
  if (b.length < n) throw new NlDecodeError(where, `expected ${n} address bytes, got ${b.length}`);
  return b.slice(0, n);
}

function protocolOf(b: Uint8Array, where: string): IpvsProtocol {
  const p = readU16(b, where);
  if (p !== IPPROTO_TCP && p !== IPPROTO_UDP && p !== IPPROTO_SCTP)
    throw new NlDecodeError(where, `unknown protocol ${p}`);
  return p;
}

/** Field, attribute, and its width in the 32-bit STATS nest (STATS64: all 8 bytes). */
const STATS_FIELDS: readonly (readonly [keyof IpvsStats, number, string, 4 | 8])[] = [
  ["conns", STATS.CONNS, "CONNS", 4],
  ["inPkts", STATS.INPKTS, "INPKTS", 4],
  ["outPkts", STATS.OUTPKTS, "OUTPKTS", 4],
  ["inBytes", STATS.INBYTES, "INBYTES", 8],
  ["outBytes", STATS.OUTBYTES, "OUTBYTES", 8],
  ["cps", STATS.CPS, "CPS", 4],
  ["inPps", STATS.INPPS, "INPPS", 4],
  ["outPps", STATS.OUTPPS, "OUTPPS", 4],
  ["inBps", STATS.INBPS, "INBPS", 4],
  ["outBps", STATS.OUTBPS, "OUTBPS", 4],
];

/**
 * A u64 counter as a number: exact below 2^53, rounded to the nearest double above (a
 * non-decreasing map, so a counter never appears to go back; see IpvsStats).
 */
export function u64ToNumber(v: bigint): number {
  return Number(v);
}

/**
 * One IPVS_STATS_ATTR_* nest. `wide` is STATS64 (every value a u64). All ten values are
 * required, as keepalived's libipvs.c ipvs_parse_stats64/ipvs_parse_stats require them; the
 * kernel always sends all ten (and PAD, ignored, before a u64 that would be misaligned).
 */
export function decodeStats(nest: Uint8Array, wide: boolean, where: string): IpvsStats {
  const m = parseAttrs(nest, where);
  const out: { -readonly [K in keyof IpvsStats]?: number } = {};
  for (const [field, type, name, width] of STATS_FIELDS) {
    const at = `${where}.${name}`;
    const b = required(m, type, at);
    out[field] = wide || width === 8 ? u64ToNumber(readU64(b, at)) : readU32(b, at);
  }
  return out as IpvsStats;
}

/** The newest counters nest an entry carries: STATS64 (Linux 4.1+), else STATS, else none. */
function statsOf(
  m: Map<number, Uint8Array>,
  types: { readonly narrow: number; readonly wide: number },
  where: string,
): IpvsStats | undefined {
  const wide = m.get(types.wide);
  if (wide) return decodeStats(wide, true, `${where}.STATS64`);
  const narrow = m.get(types.narrow);
  return narrow ? decodeStats(narrow, false, `${where}.STATS`) : undefined;
}

export type DecodedService = IpvsService & { readonly stats?: IpvsStats };

/** The SERVICE nest of one GET_SERVICE reply (genl attribute bytes after the genlmsghdr). */
export function decodeService(attrs: Uint8Array): IpvsService {
  return serviceOf(attrs, false);
}

/** decodeService plus the service's counters (`stats`, when the kernel sent a nest). */
export function decodeServiceWithStats(attrs: Uint8Array): DecodedService {
  return serviceOf(attrs, true);
}

function serviceOf(attrs: Uint8Array, withStats: boolean): DecodedService {
  const top = parseAttrs(attrs, "reply");
  const m = parseAttrs(required(top, CA.SERVICE, "SERVICE"), "SERVICE");
  const af = afOf(required(m, SA.AF, "SERVICE.AF"), "SERVICE.AF");
  const fw = m.get(SA.FWMARK);
  const fwmark = fw ? readU32(fw, "SERVICE.FWMARK") : 0;
  let key: ServiceKey;
  if (fwmark !== 0) key = { af, fwmark };
  else
    key = {
      af,
      protocol: protocolOf(required(m, SA.PROTOCOL, "SERVICE.PROTOCOL"), "SERVICE.PROTOCOL"),
      addr: addrOf(required(m, SA.ADDR, "SERVICE.ADDR"), af, "SERVICE.ADDR"),
      port: readBe16(required(m, SA.PORT, "SERVICE.PORT"), "SERVICE.PORT"),
    };
  const flags = required(m, SA.FLAGS, "SERVICE.FLAGS");
  if (flags.length < 8)
    throw new NlDecodeError("SERVICE.FLAGS", `expected 8 bytes, got ${flags.length}`);
  const pe = m.get(SA_PE_NAME);
  const peName = pe ? readString(pe, "SERVICE.PE_NAME") : "";
  const stats = withStats
    ? statsOf(m, { narrow: SA_STATS, wide: SA_STATS64 }, "SERVICE")
    : undefined;
  return {
    key,
    scheduler: readString(required(m, SA.SCHED, "SERVICE.SCHED_NAME"), "SERVICE.SCHED_NAME"),
    flags: bitsToFlags(readU32(flags, "SERVICE.FLAGS")),
    timeoutS: readU32(required(m, SA.TIMEOUT, "SERVICE.TIMEOUT"), "SERVICE.TIMEOUT"),
    netmask: readNetmask(key.af, required(m, SA_NETMASK, "SERVICE.NETMASK")),
    ...(peName ? { peName } : {}),
    ...(stats ? { stats } : {}),
  };
}

/** IPv4: a mask in network order; IPv6: a prefix length (see genl-msg.ts netmaskBytes). */
function readNetmask(af: number, b: Uint8Array): number {
  if (af !== AF_INET) return readU32(b, "SERVICE.NETMASK");
  if (b.length < 4) throw new NlDecodeError("SERVICE.NETMASK", `expected 4 bytes, got ${b.length}`);
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
}

const FWD_NAMES: readonly FwdMethod[] = ["nat", "local", "tun", "dr"];
const TUN_NAMES: readonly TunType[] = ["ipip", "gue", "gre"];

export type DecodedDest = IpvsDest & DestCounters;

/**
 * The DEST nest of one GET_DEST reply. `serviceAf` is the family to assume when the kernel
 * predates IPVS_DEST_ATTR_ADDR_FAMILY (Linux < 3.18).
 */
export function decodeDest(attrs: Uint8Array, serviceAf: IpvsAf): DecodedDest {
  return destOf(attrs, serviceAf, false);
}

/** decodeDest plus the destination's counters (`stats`, when the kernel sent a nest). */
export function decodeDestWithStats(attrs: Uint8Array, serviceAf: IpvsAf): DecodedDest {
  return destOf(attrs, serviceAf, true);
}

function destOf(attrs: Uint8Array, serviceAf: IpvsAf, withStats: boolean): DecodedDest {
  const top = parseAttrs(attrs, "reply");
  const m = parseAttrs(required(top, CA.DEST, "DEST"), "DEST");
  const afb = m.get(DA_AF);
  const af = afb ? afOf(afb, "DEST.ADDR_FAMILY") : serviceAf;
  const fwdCode = readU32(required(m, DA.FWD, "DEST.FWD_METHOD"), "DEST.FWD_METHOD") & 0x7;
  const fwd = FWD_NAMES[fwdCode];
  if (!fwd) throw new NlDecodeError("DEST.FWD_METHOD", `unknown method ${fwdCode}`);
  const u32Of = (t: number, name: string): number => readU32(required(m, t, name), name);
  const opt = (t: number, name: string): number => {
    const b = m.get(t);
    return b ? readU32(b, name) : 0;
  };
  const d: { -readonly [K in keyof DecodedDest]: DecodedDest[K] } = {
    af,
    addr: addrOf(required(m, DA.ADDR, "DEST.ADDR"), af, "DEST.ADDR"),
    port: readBe16(required(m, DA.PORT, "DEST.PORT"), "DEST.PORT"),
    fwd,
    weight: readS32(required(m, DA.WEIGHT, "DEST.WEIGHT"), "DEST.WEIGHT"),
    upperThreshold: u32Of(DA.U_THRESH, "DEST.U_THRESH"),
    lowerThreshold: u32Of(DA.L_THRESH, "DEST.L_THRESH"),
    activeConns: opt(DA.ACTIVE, "DEST.ACTIVE_CONNS"),
    inactiveConns: opt(DA_INACT, "DEST.INACT_CONNS"),
    persistConns: opt(DA_PERSIST, "DEST.PERSIST_CONNS"),
  };
  if (fwd === "tun") {
    const t = m.get(DA_TUN.TYPE);
    if (t) {
      const code = readU8(t, "DEST.TUN_TYPE");
      const name = TUN_NAMES[code];
      if (!name) throw new NlDecodeError("DEST.TUN_TYPE", `unknown tunnel type ${code}`);
      d.tunType = name;
    }
    const p = m.get(DA_TUN.PORT);
    if (p) d.tunPort = readBe16(p, "DEST.TUN_PORT");
    const f = m.get(DA_TUN.FLAGS);
    if (f) d.tunFlags = readU16(f, "DEST.TUN_FLAGS");
  }
  if (withStats) {
    const stats = statsOf(m, { narrow: DA_STATS, wide: DA_STATS64 }, "DEST");
    if (stats) d.stats = stats;
  }
  return d;
}

/** GET_INFO reply: IPVS_INFO_ATTR_VERSION and CONN_TAB_SIZE. */
export function decodeInfo(attrs: Uint8Array): IpvsInfo {
  const m = parseAttrs(attrs, "INFO");
  return {
    version: readU32(required(m, INFO.VERSION, "INFO.VERSION"), "INFO.VERSION"),
    connTabSize: readU32(
      required(m, INFO.CONN_TAB_SIZE, "INFO.CONN_TAB_SIZE"),
      "INFO.CONN_TAB_SIZE",
    ),
  };
}

/** GET_CONFIG reply: the three timeouts, seconds. */
export function decodeConfig(attrs: Uint8Array): IpvsTimeouts {
  const m = parseAttrs(attrs, "CONFIG");
  const t = (type: number, name: string): number => readU32(required(m, type, name), name);
  return {
    tcpS: t(CA.TIMEOUT_TCP, "TIMEOUT_TCP"),
    tcpFinS: t(CA.TIMEOUT_TCP_FIN, "TIMEOUT_TCP_FIN"),
    udpS: t(CA.TIMEOUT_UDP, "TIMEOUT_UDP"),
  };
}
