/**
 * IPVS virtual services and real servers ("destinations") as the agent holds them. Values
 * and names follow Linux include/uapi/linux/ip_vs.h (torvalds/linux); which fields keepalived
 * fills and how is in keepalived/check/libipvs.c (ipvs_fill_service_attr, ipvs_fill_dest_attr).
 *
 * Addresses are kept as raw bytes (4 for IPv4, 16 for IPv6, network order) so the codec never
 * parses text; the shell converts to and from strings at its edges.
 */

export const AF_INET = 2;
export const AF_INET6 = 10;
export type IpvsAf = typeof AF_INET | typeof AF_INET6;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;
export type IpvsProtocol = typeof IPPROTO_TCP | typeof IPPROTO_UDP | typeof IPPROTO_SCTP;

/** IP_VS_SVC_F_* (uapi ip_vs.h). SCHED1/2/3 mean sh-fallback/sh-port (or mh-*) per scheduler. */
export const SVC_F_PERSISTENT = 0x1;
export const SVC_F_HASHED = 0x2;
export const SVC_F_ONEPACKET = 0x4;
export const SVC_F_SCHED1 = 0x8;
export const SVC_F_SCHED2 = 0x10;
export const SVC_F_SCHED3 = 0x20;

/** Forwarding methods: IP_VS_CONN_F_MASQ/LOCALNODE/TUNNEL/DROUTE (conn_flags & 0x7). */
export const FWD_NAT = 0;
export const FWD_LOCAL = 1;
export const FWD_TUN = 2;
export const FWD_DR = 3;
export type FwdMethod = "nat" | "local" | "tun" | "dr";
export const FWD_CODE: Readonly<Record<FwdMethod, number>> = { nat: 0, local: 1, tun: 2, dr: 3 };

/** IP_VS_CONN_F_TUNNEL_TYPE_* and IP_VS_TUNNEL_ENCAP_FLAG_* (uapi ip_vs.h). */
export type TunType = "ipip" | "gue" | "gre";
export const TUN_TYPE_CODE: Readonly<Record<TunType, number>> = { ipip: 0, gue: 1, gre: 2 };
export const TUN_F_CSUM = 0x1;
export const TUN_F_REMCSUM = 0x2;

/** Service flags as booleans; the codec turns them into struct ip_vs_flags. */
export interface ServiceFlags {
  readonly persistent?: boolean;
  /** Read back only: the kernel sets HASHED on every service in its table. */
  readonly hashed?: boolean;
  readonly onePacket?: boolean;
  /** sh-fallback / mh-fallback (IP_VS_SVC_F_SCHED1). */
  readonly sched1?: boolean;
  /** sh-port / mh-port (IP_VS_SVC_F_SCHED2). */
  readonly sched2?: boolean;
  readonly sched3?: boolean;
}

/** Identifies a service: by fwmark, or by protocol + address + port. */
export type ServiceKey =
  | { readonly af: IpvsAf; readonly fwmark: number }
  | {
      readonly af: IpvsAf;
      readonly protocol: IpvsProtocol;
      /** 4 or 16 bytes, network order. */
      readonly addr: Uint8Array;
      readonly port: number;
    };

export interface IpvsService {
  readonly key: ServiceKey;
  /** rr, wrr, lc, wlc, lblc, lblcr, dh, sh, mh, sed, nq, fo, ovf, twos. */
  readonly scheduler: string;
  readonly flags: ServiceFlags;
  /** Persistence timeout (IPVS_SVC_ATTR_TIMEOUT), seconds; 0 when not persistent. */
  readonly timeoutS: number;
  /**
   * Persistence granularity (IPVS_SVC_ATTR_NETMASK): an IPv4 netmask as a host-order u32
   * (0xffffffff = /32), or an IPv6 prefix length (128).
   */
  readonly netmask: number;
  /** Persistence engine (IPVS_SVC_ATTR_PE_NAME), e.g. "sip". */
  readonly peName?: string;
}

export interface IpvsDest {
  /** Family of the real server (may differ from the service's for TUN). */
  readonly af: IpvsAf;
  /** 4 or 16 bytes, network order. */
  readonly addr: Uint8Array;
  readonly port: number;
  readonly fwd: FwdMethod;
  readonly weight: number;
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  readonly tunType?: TunType;
  readonly tunPort?: number;
  readonly tunFlags?: number;
}

/**
 * The kernel's traffic counters of one service or destination (struct ip_vs_kstats as a dump
 * reports it in the IPVS_STATS_ATTR_* nest). Totals since the entry was added (or zeroed), and
 * rates the kernel's estimator computes (net/netfilter/ipvs/ip_vs_est.c). The kernel folds its
 * per-CPU counters into these only when the estimator runs (every 2 s), so a dump lags.
 *
 * The kernel's values are u64; one above 2^53 − 1 is rounded to the nearest double (exact
 * below it, never decreasing), the precision Prometheus and JSON carry anyway. With only the
 * older 32-bit nest (Linux < 4.1) conns, packets and rates wrap at 2^32 as the kernel sends them.
 */
export interface IpvsStats {
  /** Connections scheduled. */
  readonly conns: number;
  readonly inPkts: number;
  readonly outPkts: number;
  readonly inBytes: number;
  readonly outBytes: number;
  /** Connections per second (estimator). */
  readonly cps: number;
  readonly inPps: number;
  readonly outPps: number;
  /** Bytes per second (estimator). */
  readonly inBps: number;
  readonly outBps: number;
}

/** Counters a dump adds to a destination (read only). */
export interface DestCounters {
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly persistConns: number;
  /** Only when the dump was decoded with stats (decodeDest's `stats` option). */
  readonly stats?: IpvsStats;
}

export interface IpvsInfo {
  /** IP_VS_VERSION_CODE, e.g. 0x010201 = 1.2.1. */
  readonly version: number;
  readonly connTabSize: number;
}

/** IPVS_CMD_ATTR_TIMEOUT_* in seconds; 0 means "leave unchanged" on SET_CONFIG. */
export interface IpvsTimeouts {
  readonly tcpS: number;
  readonly tcpFinS: number;
  readonly udpS: number;
}

/** Sync daemon (IPVS_CMD_ATTR_DAEMON). */
export interface IpvsDaemon {
  readonly state: "master" | "backup";
  readonly mcastIfn: string;
  readonly syncId: number;
  readonly syncMaxLen?: number;
  /** 4 bytes (IPv4) or 16 bytes (IPv6) multicast group. */
  readonly mcastGroup?: Uint8Array;
  readonly mcastPort?: number;
  readonly mcastTtl?: number;
}

export function versionText(v: number): string {
  return `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`;
}
