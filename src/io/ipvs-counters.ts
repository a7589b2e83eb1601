/**
 * The kernel's IPVS traffic counters per virtual service and real server, keyed the way the
 * reconciler keys its table (src/core/ipvs/table.ts serviceKey / destKey), so status and
 * metrics can join them with the desired table and the checkers' state (issue 6).
 *
 * One GET_SERVICE dump, then one GET_DEST dump per service: the IPVS family has no single dump
 * of both (keepalived's check/libipvs.c ipvs_get_services then ipvs_get_dests does the same).
 * A service deleted between the two dumps just comes back with no destinations (the kernel's
 * ip_vs_genl_dump_dests ends an empty dump when the service is gone).
 *
 * The kernel refreshes these counters from its per-CPU ones only when its rate estimator runs
 * (every 2 s, net/netfilter/ipvs/ip_vs_est.c): traffic shows up here up to 2 s late, exactly as
 * in `ipvsadm -Ln --stats`.
 */
import type { DecodedDest, DecodedService } from "../core/ipvs/genl-decode.ts";
import { destKey, serviceKey } from "../core/ipvs/table.ts";
import type { IpvsStats, ServiceKey } from "../core/ipvs/types.ts";
import { fromWire } from "../core/ipvs/wire.ts";

export type { IpvsStats } from "../core/ipvs/types.ts";

export interface DestCounterRow {
  readonly stats?: IpvsStats;
  readonly activeConns?: number;
  readonly inactiveConns?: number;
  readonly persistConns?: number;
}

export interface ServiceCounterRow {
  readonly stats?: IpvsStats;
  /** By destKey(dest): "addr|port" with the address as table.ts writes it. */
  readonly dests: ReadonlyMap<string, DestCounterRow>;
}

/** By serviceKey(service): "4|TCP|192.0.2.1|80", "6|fwmark|42". */
export type IpvsCounterTable = ReadonlyMap<string, ServiceCounterRow>;

/** What readCounters needs of src/io/ipvs.ts's Ipvs (a fake in unit tests). */
export interface IpvsCounterSource {
  servicesWithStats(): DecodedService[];
  destsWithStats(svc: ServiceKey): DecodedDest[];
}

function destRow(d: DecodedDest): DestCounterRow {
  return {
    ...(d.stats ? { stats: d.stats } : {}),
    activeConns: d.activeConns,
    inactiveConns: d.inactiveConns,
    persistConns: d.persistConns,
  };
}

/** The counters of one decoded dump: services with the destinations each one listed. */
export function counterTable(
  dump: readonly { readonly service: DecodedService; readonly dests: readonly DecodedDest[] }[],
): IpvsCounterTable {
  const out = new Map<string, ServiceCounterRow>();
  for (const { service, dests } of dump) {
    // fromWire builds the table.ts records the reconciler keys by; its dests keep our order.
    const rec = fromWire(service, dests);
    const rows = new Map<string, DestCounterRow>();
    rec.dests.forEach((d, i) => {
      const wire = dests[i];
      if (wire) rows.set(destKey(d), destRow(wire));
    });
    out.set(serviceKey(rec), { ...(service.stats ? { stats: service.stats } : {}), dests: rows });
  }
  return out;
}

/**
 * One dump of every service and its destinations with their counters. Throws IpvsError as
 * src/io/ipvs.ts does (E_NO_IPVS never: the Ipvs is already open).
 */
export function readCounters(ipvs: IpvsCounterSource): IpvsCounterTable {
  return counterTable(
    ipvs.servicesWithStats().map((service) => ({
      service,
      dests: ipvs.destsWithStats(service.key),
    })),
  );
}
