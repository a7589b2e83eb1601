/**
 * The `virtual_servers` part of the status document: each configured virtual server with
 * its real servers — the checkers' verdicts and last results (IpvsHost.health()), the
 * weight the kernel holds (the host's view of the kernel table) and, when the caller can
 * read them, the kernel's traffic counters. Pure: the caller passes everything in.
 */
import type { Model } from "../config/model.ts";
import { type RsInput, type VsInput, vsId } from "../core/ipvs/desired.ts";
import { expandVs } from "../core/ipvs/expand.ts";
import { type Dest, serviceKey, type Table } from "../core/ipvs/table.ts";
import type { IpvsCounterTable, IpvsStats } from "../io/ipvs-counters.ts";
import type { RsHealth } from "./ipvs-host.ts";
import type {
  StatusChecker,
  StatusIpvsCounters,
  StatusRealServer,
  StatusVirtualServer,
} from "./status-types.ts";

/** Counters by table.ts serviceKey, then by destKey ("addr|port"). */
export interface CounterView {
  service(serviceKey: string): StatusIpvsCounters | undefined;
  dest(serviceKey: string, destKey: string): StatusIpvsCounters | undefined;
}

export interface IpvsStatusInput {
  readonly model: Model;
  readonly health: readonly RsHealth[];
  /** The kernel's table as the host last read or wrote it. */
  readonly table: Table;
  readonly quorumUp: (vsId: string) => boolean;
  readonly counters?: CounterView;
  /** Wall-clock time of a host-clock instant. */
  readonly wallOf: (monoMs: number) => Date;
}

const FORWARDING = ["NAT", "DR", "TUN"] as const;

/** The kernel's counter rows (io/ipvs-counters.ts) as the status document names them. */
export function counterView(t: IpvsCounterTable): CounterView {
  const of = (st: IpvsStats | undefined): StatusIpvsCounters | undefined =>
    st && {
      connections: st.conns,
      packets_in: st.inPkts,
      packets_out: st.outPkts,
      bytes_in: st.inBytes,
      bytes_out: st.outBytes,
    };
  return {
    service: (k) => of(t.get(k)?.stats),
    dest: (k, d) => {
      const row = t.get(k)?.dests.get(d);
      const c = of(row?.stats);
      return (
        c && {
          ...c,
          ...(row?.activeConns !== undefined ? { active_connections: row.activeConns } : {}),
          ...(row?.inactiveConns !== undefined ? { inactive_connections: row.inactiveConns } : {}),
        }
      );
    },
  };
}

export function ipvsStatus(input: IpvsStatusInput): StatusVirtualServer[] {
  const { model, table } = input;
  const byKey = new Map(table.services.map((s) => [serviceKey(s), s]));
  const health = new Map(input.health.map((h) => [`${h.vsIndex}|${h.rsIndex}`, h]));
  return model.virtual_server.map((vs: VsInput, vi) => {
    const keys = expandVs(model, vs, []).map(serviceKey);
    const programmed = keys.flatMap((k) => {
      const s = byKey.get(k);
      return s ? [s] : [];
    });
    const real = vs.real_server.map((rs, ri) =>
      realServer(vs, rs, health.get(`${vi}|${ri}`), programmed, input),
    );
    const sorry = vs.sorry_server;
    const sorryActive =
      sorry !== undefined &&
      programmed.some((s) => s.dests.some((d) => d.addr === sorry.ip && d.weight > 0)) &&
      !real.some((r) => (r.kernel_weight ?? 0) > 0 && r.address !== sorry.ip);
    const method = vs.lvs_method.method.toUpperCase();
    const counters = sum(keys.map((k) => input.counters?.service(k)));
    return {
      name: vsId(vs),
      ...(vs.ip !== undefined ? { address: vs.ip, port: vs.port ?? 0 } : {}),
      ...(vs.fwmark === undefined && vs.group === undefined
        ? { protocol: vs.protocol ?? "UDP" }
        : {}),
      ...(vs.fwmark !== undefined ? { fwmark: vs.fwmark } : {}),
      ...(vs.group !== undefined ? { group: vs.group } : {}),
      scheduler: vs.lvs_sched,
      forwarding: FORWARDING.find((f) => f === method) ?? "NAT",
      quorum_up: input.quorumUp(vsId(vs)),
      sorry_server_active: sorryActive,
      real_servers: real,
      ...(counters ? { counters } : {}),
    };
  });
}

function realServer(
  vs: VsInput,
  rs: RsInput,
  h: RsHealth | undefined,
  programmed: Table["services"],
  input: IpvsStatusInput,
): StatusRealServer {
  // ipvswrapper.c: only NAT carries the real server's port; DR and TUN use the service's.
  const nat = rs.lvs_method.method.toUpperCase() === "NAT";
  const match = (s: Table["services"][number]): Dest | undefined =>
    s.dests.find((d) => d.addr === rs.ip && d.port === (nat ? (rs.port ?? 0) : s.port));
  const inKernel = programmed.flatMap((s) => {
    const d = match(s);
    return d ? [{ s, d }] : [];
  });
  const first = inKernel[0];
  const counters = sum(
    inKernel.map(({ s, d }) => input.counters?.dest(serviceKey(s), `${d.addr}|${d.port}`)),
  );
  return {
    address: rs.ip,
    port: rs.port ?? vs.port ?? 0,
    alive: h?.up ?? true,
    weight: h?.weight ?? rs.weight,
    configured_weight: rs.weight,
    ...(first ? { kernel_weight: first.d.weight } : {}),
    checkers: (h?.checkers ?? []).map(
      (c): StatusChecker => ({
        type: c.type,
        state: c.up ? "up" : "down",
        attempts: c.attempts,
        ...(c.lastOk !== undefined ? { last_result: c.lastOk ? "success" : "failure" } : {}),
        ...(c.lastReason !== undefined && c.lastOk === false ? { last_reason: c.lastReason } : {}),
        ...(c.lastLatencyMs !== undefined ? { last_latency_ms: c.lastLatencyMs } : {}),
        ...(c.lastAtMs !== undefined ? { last_check: input.wallOf(c.lastAtMs).toISOString() } : {}),
      }),
    ),
    ...(counters ? { counters } : {}),
  };
}

/** Counters summed over the kernel services one virtual server became (groups). */
function sum(list: readonly (StatusIpvsCounters | undefined)[]): StatusIpvsCounters | undefined {
  const present = list.filter((c): c is StatusIpvsCounters => c !== undefined);
  if (present.length === 0) return undefined;
  const add = (k: keyof StatusIpvsCounters) =>
    present.some((c) => c[k] !== undefined)
      ? { [k]: present.reduce((n, c) => n + (c[k] ?? 0), 0) }
      : {};
  return {
    connections: present.reduce((n, c) => n + c.connections, 0),
    packets_in: present.reduce((n, c) => n + c.packets_in, 0),
    packets_out: present.reduce((n, c) => n + c.packets_out, 0),
    bytes_in: present.reduce((n, c) => n + c.bytes_in, 0),
    bytes_out: present.reduce((n, c) => n + c.bytes_out, 0),
    ...add("active_connections"),
    ...add("inactive_connections"),
  };
}
