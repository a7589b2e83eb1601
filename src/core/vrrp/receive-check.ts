/**
 * Whether one VRRP instance accepts a decoded advert: the checks of keepalived's
 * dispatcher (vrrp_scheduler.c, VRID and IPv6 uni/multicast) and vrrp_check_packet
 * (vrrp.c), in their order, as of acassen/keepalived 9cbce3e (reference §2.9).
 *
 * Three verdicts, as in keepalived: "accept" (VRRP_PACKET_OK), "reject" (VRRP_PACKET_KO:
 * invalid, usually counted) and "drop" (VRRP_PACKET_DROP or a silent discard: not for us).
 * The result says which keepalived stats counter the shell bumps; results are preallocated
 * frozen records, so a check allocates nothing.
 */
import { compareIp, type IpAddr, isMulticast } from "../net/ip.ts";
import {
  type Advert,
  AUTH_AH,
  AUTH_NONE,
  AUTH_PASS,
  type DecodeReason,
  ETH_MIN_PAYLOAD,
  isEthernetPadding,
  VRRP_AUTH_LEN,
  VRRP_GROUP4,
  VRRP_TTL,
  VRRP_TYPE_ADVERT,
  VRRP_VERSION_2,
} from "./advert.ts";
import { IPPROTO_VRRP, ipv4PseudoHeaderSum, sumVerifies } from "./checksum.ts";

/** keepalived's vrrp_stats fields that a receive error increments (include/vrrp.h). */
export type StatsCounter =
  | "packet_len_err"
  | "ip_ttl_err"
  | "vers_err"
  | "invalid_authtype"
  | "authtype_mismatch"
  | "auth_failure"
  | "advert_interval_err"
  | "invalid_type_rcvd"
  | "chk_err"
  | "addr_list_err";

/** One reason per check, in the order the checks run. */
export const CHECK_REASONS = [
  "unknown_vrid",
  "ipv6_cast_mismatch",
  "ip_ttl_err",
  "vers_err",
  "invalid_authtype",
  "authtype_mismatch",
  "auth_failure",
  "advert_interval_err",
  "invalid_type_rcvd",
  "ip_tot_len_err",
  "chk_err",
  "cast_mismatch",
  "owner_ignore_adverts",
  "unicast_src_err",
  "ttl_range_err",
] as const;
export type Reason = (typeof CHECK_REASONS)[number];

export type Verdict = "accept" | "reject" | "drop";

interface Outcome {
  readonly verdict: "reject" | "drop";
  readonly counter: StatsCounter | undefined;
}

/**
 * What each reason means to the shell. Names equal keepalived's counter where a check has
 * one of its own; checks that share a counter or count nothing have names of their own.
 */
export const REASON_OUTCOME: Readonly<Record<Reason, Outcome>> = {
  unknown_vrid: { verdict: "drop", counter: undefined },
  ipv6_cast_mismatch: { verdict: "drop", counter: undefined },
  ip_ttl_err: { verdict: "reject", counter: "ip_ttl_err" },
  vers_err: { verdict: "reject", counter: "vers_err" },
  invalid_authtype: { verdict: "reject", counter: "invalid_authtype" },
  authtype_mismatch: { verdict: "reject", counter: "authtype_mismatch" },
  auth_failure: { verdict: "reject", counter: "auth_failure" },
  // keepalived declares advert_interval_err but never increments it; we count the drop so
  // the status "interval errors" (VRRP-MIB vrrpStatsAdvertiseIntervalErrors) means something.
  advert_interval_err: { verdict: "drop", counter: "advert_interval_err" },
  invalid_type_rcvd: { verdict: "reject", counter: "invalid_type_rcvd" },
  ip_tot_len_err: { verdict: "reject", counter: "packet_len_err" },
  chk_err: { verdict: "reject", counter: "chk_err" },
  cast_mismatch: { verdict: "reject", counter: "addr_list_err" },
  owner_ignore_adverts: { verdict: "drop", counter: undefined },
  unicast_src_err: { verdict: "reject", counter: undefined },
  ttl_range_err: { verdict: "drop", counter: "ip_ttl_err" },
};

/** The same for decodeAdvert's reasons (vrrp_get_header drops silently). */
export const DECODE_OUTCOME: Readonly<Record<DecodeReason, Outcome>> = {
  too_short: { verdict: "drop", counter: undefined },
  ip_header_err: { verdict: "drop", counter: undefined },
  ip_protocol_err: { verdict: "drop", counter: undefined },
  ah_header: { verdict: "reject", counter: "authtype_mismatch" },
  packet_len_err: { verdict: "reject", counter: "packet_len_err" },
};

export interface UnicastPeer {
  readonly address: IpAddr;
  /** keepalived's per-peer `min_ttl` / `max_ttl` (defaults 0 and 255). */
  readonly minTtl?: number;
  readonly maxTtl?: number;
}

export interface ReceivingInstance {
  readonly version: 2 | 3;
  readonly family: 4 | 6;
  readonly vrid: number;
  readonly authType: 0 | 1;
  /** PASS: the 8 bytes passwordAuthData(auth_pass) gives, computed once. */
  readonly authData?: Uint8Array;
  /** v2: the local advert_int in seconds; v3: in centiseconds. */
  readonly advertIntervalS?: number;
  readonly advertIntervalCs?: number;
  readonly unicast: boolean;
  readonly peers?: readonly UnicastPeer[];
  /** check_unicast_src (global or instance, or implied by a peer's min_ttl/max_ttl). */
  readonly checkUnicastSrc: boolean;
  /** Canonical text (formatIp) of the configured virtual_ipaddress entries. */
  readonly vips: readonly string[];
  readonly skipCheckAdvAddr: boolean;
  /** The master's address as last seen, given only in BACKUP (keepalived always checks as MASTER). */
  readonly lastMasterSrc?: IpAddr;
  readonly ownerIgnoreAdverts: boolean;
  /** Effective priority. */
  readonly priority: number;
  readonly checksumAsV2?: boolean;
  /** old_unicast_checksum: "auto" (default) detects it, "never" does not, "on" uses it. */
  readonly oldUnicastChecksum?: "auto" | "never" | "on";
  /** vrrp_mcast_group4, the pseudo-header destination in old-unicast-checksum mode. */
  readonly mcastGroup4?: IpAddr;
}

export interface CheckResult {
  readonly verdict: Verdict;
  /** Undefined exactly when accepted. */
  readonly reason: Reason | undefined;
  /** The error counter to bump, if any (see REASON_OUTCOME). */
  readonly counter: StatsCounter | undefined;
  /** Passed the protocol checks: bump advert_rcvd (even if the source check then fails). */
  readonly advertRcvd: boolean;
  /** Address list differs from ours: bump addr_list_err, but accepted (keepalived ≥ 2.3.3). */
  readonly addrListMismatch: boolean;
  /** Accepted with priority 0: bump pri_zero_rcvd. */
  readonly priorityZero: boolean;
  /** v3: interval differs from ours; accepted, and a backup adopts it (RFC 5798 §6.4.2). */
  readonly intervalMismatch: boolean;
  /** v3 unicast: verified only with 224.0.0.18 in the pseudo-header; switch to that form. */
  readonly checksumCompat: boolean;
}

const FLAG_ADDR = 1;
const FLAG_PRIO0 = 2;
const FLAG_INTERVAL = 4;
const FLAG_COMPAT = 8;
const FLAG_COMBOS = 16;

function makeResult(reason: Reason | undefined, flags: number): CheckResult {
  const outcome = reason === undefined ? undefined : REASON_OUTCOME[reason];
  const late = reason === undefined || reason === "unicast_src_err" || reason === "ttl_range_err";
  return Object.freeze({
    verdict: outcome?.verdict ?? "accept",
    reason,
    counter: outcome?.counter,
    advertRcvd: late,
    addrListMismatch: late && (flags & FLAG_ADDR) !== 0,
    priorityZero: reason === undefined && (flags & FLAG_PRIO0) !== 0,
    intervalMismatch: late && (flags & FLAG_INTERVAL) !== 0,
    checksumCompat: late && (flags & FLAG_COMPAT) !== 0,
  });
}

/** Every possible result, built once: index 0 is accept, then CHECK_REASONS in order. */
const RESULTS: readonly (readonly CheckResult[])[] = [undefined, ...CHECK_REASONS].map((r) =>
  Array.from({ length: FLAG_COMBOS }, (_, flags) => makeResult(r, flags)),
);
const REASON_INDEX = new Map<Reason, number>(CHECK_REASONS.map((r, i) => [r, i + 1]));

function result(reason: Reason | undefined, flags = 0): CheckResult {
  const row = RESULTS[reason === undefined ? 0 : REASON_INDEX.get(reason)!]!;
  return row[flags]!;
}

/** Compares all 8 bytes whatever they hold, so timing says nothing about the password. */
function authDataEqual(got: Uint8Array | undefined, want: Uint8Array | undefined): boolean {
  let diff = got?.length === VRRP_AUTH_LEN && want?.length === VRRP_AUTH_LEN ? 0 : 1;
  for (let i = 0; i < VRRP_AUTH_LEN; i++) diff |= (got?.[i] ?? 0) ^ (want?.[i] ?? 0);
  return diff === 0;
}

/** RFC 3768 §7.1 authentication and interval checks of a v2 advert, or undefined if fine. */
function checkV2(adv: Advert, inst: ReceivingInstance): Reason | undefined {
  const t = adv.authType;
  if (t !== AUTH_NONE && t !== AUTH_PASS && t !== AUTH_AH) return "invalid_authtype";
  if (t !== inst.authType) return "authtype_mismatch";
  if (t === AUTH_PASS && !authDataEqual(adv.authData, inst.authData)) return "auth_failure";
  // RFC 3768 §7.1: discarded, never adopted; two intervals in one VRID risk two masters.
  if (adv.advertIntervalS !== inst.advertIntervalS) return "advert_interval_err";
  return undefined;
}

/** The v3 IPv4 checksum with `dst` in the pseudo-header instead of the packet's. */
function verifiesWithDst(adv: Advert, dst: IpAddr): boolean {
  const pseudo = ipv4PseudoHeaderSum(adv.src.bytes, dst.bytes, IPPROTO_VRRP, adv.vrrpLength);
  return sumVerifies(adv.messageSum + pseudo);
}

/** IPv4 only (the kernel verifies IPv6). Returns FLAG_COMPAT, 0, or -1 for a bad sum. */
function checkChecksum(adv: Advert, inst: ReceivingInstance): number {
  if (adv.version === VRRP_VERSION_2) return sumVerifies(adv.messageSum) ? 0 : -1;
  // keepalived skips the verdict entirely with v3_checksum_as_v2; we accept either form.
  if (inst.checksumAsV2 === true) return sumVerifies(adv.messageSum) || adv.checksumOk ? 0 : -1;
  const group = inst.mcastGroup4 ?? VRRP_GROUP4;
  const mode = inst.oldUnicastChecksum ?? "auto";
  if (mode === "on" && inst.unicast) return verifiesWithDst(adv, group) ? 0 : -1;
  if (adv.checksumOk) return 0;
  // Pre-1.3.6 keepalived put 224.0.0.18 in unicast pseudo-headers; detect it once.
  const auto = mode === "auto" && inst.unicast && compareIp(adv.dst, group) !== 0;
  return auto && verifiesWithDst(adv, group) ? FLAG_COMPAT : -1;
}

/** vrrp_check_packet up to the advert_rcvd count: the protocol checks. */
function checkProtocol(adv: Advert, inst: ReceivingInstance): Reason | number {
  if (!inst.unicast && adv.ttl !== undefined && adv.ttl !== VRRP_TTL) return "ip_ttl_err";
  if (adv.version !== inst.version) return "vers_err";
  if (inst.version === VRRP_VERSION_2) {
    const bad = checkV2(adv, inst);
    if (bad !== undefined) return bad;
  }
  if (adv.type !== VRRP_TYPE_ADVERT) return "invalid_type_rcvd";
  const tot = adv.ipTotalLength;
  const len = adv.lengthOnWire;
  if (
    tot !== undefined &&
    tot !== len &&
    !(len <= ETH_MIN_PAYLOAD && isEthernetPadding(tot, len))
  ) {
    return "ip_tot_len_err";
  }
  let flags = 0;
  if (inst.version !== VRRP_VERSION_2 && adv.maxAdvertIntervalCs !== inst.advertIntervalCs) {
    flags |= FLAG_INTERVAL;
  }
  if (inst.family === 4) {
    const sum = checkChecksum(adv, inst);
    if (sum < 0) return "chk_err";
    flags |= sum;
  }
  if (inst.family === 4 && isMulticast(adv.dst) === inst.unicast) return "cast_mismatch";
  if (inst.ownerIgnoreAdverts && inst.priority === 255) return "owner_ignore_adverts";
  return flags;
}

/** RFC 5798 §7.1 "MAY verify the addresses": count always, contents unless skipped. */
function addrListDiffers(adv: Advert, inst: ReceivingInstance): boolean {
  if (adv.addrCount !== inst.vips.length) return true;
  const last = inst.lastMasterSrc;
  const sameMaster = last !== undefined && compareIp(last, adv.src) === 0;
  if (inst.skipCheckAdvAddr && sameMaster) return false;
  // Counts are equal and VIPs distinct, so "each of ours is present" means "same set".
  for (const vip of inst.vips) if (!adv.addresses.includes(vip)) return true;
  return false;
}

/** A unicast source check failure, or undefined when the source is a listed peer. */
function checkUnicastSource(adv: Advert, inst: ReceivingInstance): Reason | undefined {
  for (const peer of inst.peers ?? []) {
    if (compareIp(peer.address, adv.src) !== 0) continue;
    const ttl = adv.ttl;
    const inRange = ttl === undefined || (ttl >= (peer.minTtl ?? 0) && ttl <= (peer.maxTtl ?? 255));
    return inRange ? undefined : "ttl_range_err";
  }
  return "unicast_src_err";
}

/** Checks `adv` for `inst` in keepalived's order. Never throws, allocates nothing. */
export function checkAdvert(adv: Advert, inst: ReceivingInstance): CheckResult {
  if (adv.vrid !== inst.vrid) return result("unknown_vrid");
  // The dispatcher discards IPv6 packets of the wrong cast before any check (silently).
  if (inst.family === 6 && isMulticast(adv.dst) === inst.unicast) {
    return result("ipv6_cast_mismatch");
  }
  const proto = checkProtocol(adv, inst);
  if (typeof proto !== "number") return result(proto);
  let flags = proto;
  if (addrListDiffers(adv, inst)) flags |= FLAG_ADDR;
  if (inst.unicast && inst.checkUnicastSrc) {
    const bad = checkUnicastSource(adv, inst);
    if (bad !== undefined) return result(bad, flags);
  }
  if (adv.priority === 0) flags |= FLAG_PRIO0;
  return result(undefined, flags);
}
