/**
 * The status document (design §4, `agent status --json`) from the running agent: a plain,
 * read-only copy of what the instances, their trackers and sync groups say now. It reads
 * state and never changes it, and it takes every wall-clock fact from `meta`, so the same
 * agent state gives the same document (the simulator's tests rely on that).
 *
 * Monotonic instants (a state's start, the last transition, the master last heard) become
 * ISO dates through `meta.wallOf`. Nothing secret is copied: a plan's auth data stays out,
 * as keepalived's own JSON masks it (vrrp_json.c vrrp_json_auth_dump).
 */
import { contribution } from "../core/track/priority.ts";
import { advertIntervalMs, masterDownMs, skewMs } from "../core/vrrp/timers.ts";
import type { Agent, Running } from "./loop.ts";
import {
  STATUS_SCHEMA_VERSION,
  type StatusCounters,
  type StatusDoc,
  type StatusInstance,
  type StatusSyncGroup,
  type StatusTracker,
  type StatusVirtualServer,
} from "./status-types.ts";
import type { TrackView } from "./tracking.ts";

/** What the document says beyond the agent's own state: who we are and when. */
export interface SnapshotMeta {
  readonly version: string;
  readonly commit: string;
  readonly pid: number;
  readonly startedAt: Date;
  /** The configuration file in use, and when it was (re)loaded. */
  readonly configFile: string;
  readonly loadedAt: Date;
  readonly reloads: number;
  readonly maintenance: boolean;
  /** The wall-clock time of a monotonic instant (the agent's clock, `io.nowMs()`). */
  readonly wallOf: (monoMs: number) => Date;
  /** The IPVS side's virtual servers (absent: none configured or no IPVS). */
  readonly virtualServers?: readonly StatusVirtualServer[];
}

/** The part of the agent a snapshot reads (an interface, so tests may hand in less). */
export type SnapshotSource = Pick<Agent, "running" | "groupState" | "trackers">;

/**
 * keepalived's statistics in its SIGUSR2 / JSON order (vrrp_print.c, vrrp_json.c), then the
 * two it keeps for SNMP only. Copied by name so a counter added to the core's Stats later
 * cannot leak into a document whose schema does not know it.
 */
export const COUNTER_NAMES = [
  "advert_rcvd",
  "advert_sent",
  "become_master",
  "release_master",
  "packet_len_err",
  "advert_interval_err",
  "ip_ttl_err",
  "invalid_type_rcvd",
  "addr_list_err",
  "invalid_authtype",
  "authtype_mismatch",
  "auth_failure",
  "pri_zero_rcvd",
  "pri_zero_sent",
  "chk_err",
  "vers_err",
] as const satisfies readonly (keyof StatusCounters)[];

export function snapshot(agent: SnapshotSource, meta: SnapshotMeta): StatusDoc {
  const iso = (monoMs: number) => meta.wallOf(monoMs).toISOString();
  const running = [...agent.running.values()];
  return {
    schema: STATUS_SCHEMA_VERSION,
    agent: {
      version: meta.version,
      commit: meta.commit,
      pid: meta.pid,
      started: meta.startedAt.toISOString(),
      maintenance: meta.maintenance,
    },
    config: {
      file: meta.configFile,
      loaded: meta.loadedAt.toISOString(),
      reloads: meta.reloads,
    },
    instances: running.map((r) => instance(r, agent.trackers(r), iso)),
    sync_groups: syncGroups(agent, running),
    virtual_servers: meta.virtualServers ?? [],
  };
}

function instance(
  r: Running,
  views: readonly TrackView[],
  iso: (monoMs: number) => string,
): StatusInstance {
  const { plan, state: s } = r;
  const p = plan.params;
  const t = s.lastTransition;
  return {
    name: plan.name,
    vrid: p.vrid,
    // keepalived's vrrp->ifp: the VMAC when use_vmac, which is also what its JSON
    // (ifp_ifname) and keepalived-exporter's `intf` label show.
    interface: plan.vipDev,
    family: p.family,
    version: p.version,
    state: s.state,
    since: iso(s.sinceMs),
    priority: { base: p.basePriority, effective: s.effectivePriority },
    ...(s.master
      ? {
          master: {
            address: s.master.address,
            priority: s.master.priority,
            seen: iso(s.master.atMs),
          },
        }
      : {}),
    advert_interval_ms: advertIntervalMs(p),
    master_down_interval_ms: masterDownMs(s),
    skew_ms: skewMs(s),
    // The core adds VIPs and excluded VIPs on entering MASTER and removes them on leaving
    // it (design §5 invariant: VIPs held ⇔ MASTER).
    vips: s.state === "MASTER" ? [...plan.vips, ...plan.evips].map((v) => v.address) : [],
    faults: [...s.faults],
    trackers: views.map(tracker),
    ...(t
      ? { last_transition: { from: t.from, to: t.to, reason: t.reason, at: iso(t.atMs) } }
      : {}),
    ...(plan.syncGroup ? { sync_group: plan.syncGroup } : {}),
    counters: counters(s.stats),
  };
}

function tracker({ binding: b, status: st }: TrackView): StatusTracker {
  const c = contribution(b, st);
  const common = { kind: b.kind, name: b.name, weight: b.weight, reverse: b.reverse };
  if (st.kind === "value")
    return { ...common, state: "value", value: st.value, delta: c.delta, fault: c.fault };
  const state = st.up === undefined ? "unknown" : st.up ? "up" : "down";
  return { ...common, state, delta: c.delta, fault: c.fault };
}

function counters(stats: Readonly<Record<(typeof COUNTER_NAMES)[number], number>>) {
  const out = {} as Record<(typeof COUNTER_NAMES)[number], number>;
  for (const k of COUNTER_NAMES) out[k] = stats[k];
  return out satisfies StatusCounters;
}

/** Sync groups in the order their first member appears (the configuration's order). */
function syncGroups(agent: SnapshotSource, running: readonly Running[]): StatusSyncGroup[] {
  const members = new Map<string, string[]>();
  for (const r of running) {
    const g = r.plan.syncGroup;
    if (!g) continue;
    const list = members.get(g) ?? [];
    list.push(r.plan.name);
    members.set(g, list);
  }
  return [...members].map(([name, list]) => ({
    name,
    state: agent.groupState(name),
    members: list,
  }));
}
