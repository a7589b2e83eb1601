/**
 * Plain IPVS table records for the desired-state reconciler (desired.ts, diff.ts). They
 * carry what keepalived puts in IPVS_CMD_ATTR_SERVICE / _DEST (check/ipvswrapper.c
 * ipvs_set_srule, ipvs_set_drule); an adapter maps them onto the netlink codec's types.
 */

export type Protocol = "TCP" | "UDP" | "SCTP";
export type FwdMethod = "NAT" | "DR" | "TUN";
export type TunType = "ipip" | "gue" | "gre";
export type TunCsum = "nocsum" | "csum" | "remcsum";

/** Service flag bits (Linux uapi ip_vs.h IP_VS_SVC_F_*). */
export const SVC_F = {
  persistent: 0x1,
  hashed: 0x2,
  onePacket: 0x4,
  sched1: 0x8,
  sched2: 0x10,
  sched3: 0x20,
} as const;

/**
 * One virtual service. Its key is af + protocol + addr + port, or af + fwmark: a fwmark
 * service has `fwmark > 0`, `protocol` and `addr` null and `port` 0.
 */
export interface Service {
  readonly af: 4 | 6;
  readonly protocol: Protocol | null;
  /** Canonical address text (RFC 5952 for IPv6). */
  readonly addr: string | null;
  readonly port: number;
  readonly fwmark: number;
  readonly sched: string;
  readonly flags: number;
  /** Persistence timeout; 0 when not persistent. */
  readonly timeoutS: number;
  /** IPv4: the mask as an unsigned 32-bit number; IPv6: a prefix length. */
  readonly netmask: number;
  readonly peName: string | null;
  /** Sorted by destKey. */
  readonly dests: readonly Dest[];
}

/** One real server of a service. Its key is addr + port. */
export interface Dest {
  readonly addr: string;
  readonly port: number;
  readonly fwd: FwdMethod;
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
  /** Only for TUN; null otherwise. */
  readonly tunType: TunType | null;
  /** GUE port; 0 otherwise. */
  readonly tunPort: number;
  readonly tunCsum: TunCsum | null;
}

export interface Table {
  /** Sorted by serviceKey. */
  readonly services: readonly Service[];
}

export type ServiceKeyed = Pick<Service, "af" | "protocol" | "addr" | "port" | "fwmark">;

export function serviceKey(s: ServiceKeyed): string {
  return s.fwmark > 0
    ? `${s.af}|fwmark|${s.fwmark}`
    : `${s.af}|${s.protocol ?? ""}|${s.addr ?? ""}|${s.port}`;
}

export function destKey(d: Pick<Dest, "addr" | "port">): string {
  return `${d.addr}|${d.port}`;
}

const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T): number => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };

/** A table in canonical order, so that two equal tables compare equal field by field. */
export function sortTable(services: readonly Service[]): Table {
  return {
    services: services
      .map((s) => ({ ...s, dests: [...s.dests].sort(byKey(destKey)) }))
      .sort(byKey(serviceKey)),
  };
}

/** Service attributes that IPVS_CMD_SET_SERVICE can change (everything but the key). */
export function sameServiceAttrs(a: Service, b: Service): boolean {
  return (
    a.sched === b.sched &&
    a.flags === b.flags &&
    a.timeoutS === b.timeoutS &&
    a.netmask === b.netmask &&
    a.peName === b.peName
  );
}

/** Dest attributes that IPVS_CMD_SET_DEST can change (everything but the key). */
export function sameDestAttrs(a: Dest, b: Dest): boolean {
  return (
    a.fwd === b.fwd &&
    a.weight === b.weight &&
    a.uThreshold === b.uThreshold &&
    a.lThreshold === b.lThreshold &&
    a.tunType === b.tunType &&
    a.tunPort === b.tunPort &&
    a.tunCsum === b.tunCsum
  );
}
