/**
 * Prometheus metrics (design §4 "Metrics"): the text exposition format 0.0.4, rendered from a
 * StatusDoc plus the few things a snapshot does not hold (transition counts, advert-send
 * lateness, reload outcomes).
 *
 * Compatibility: the `keepalived_*` families are those of mehdy/keepalived-exporter (formerly
 * cafebazaar/keepalived-exporter; internal/collector/collector.go), the exporter whose names
 * the common Grafana dashboards query: same names, types, help texts and labels. Its label
 * set is kept exactly — counters carry {iname,intf,vrid}, `keepalived_vrrp_state` and
 * `keepalived_vrrp_excluded_state` carry {iname,intf,vrid,ip_address} with one series per
 * VIP (and one with ip_address="" when an instance has none), `keepalived_script_status`
 * carries {name}. The other well-known exporter, gen2brain/keepalived_exporter, uses
 * different names (`keepalived_vrrp_advert_sent`, no `_total`) and labels
 * {name,intf,vrid,state} and has no state gauge, so following it would break those
 * dashboards. Not exported, because we have nothing true to put there:
 * `keepalived_script_state` (keepalived's script process state idle/running/…; a StatusDoc
 * has no such field) and `keepalived_exporter_*` (they describe the exporter process itself).
 * Everything of our own is under `edge_agent_*`.
 */
import {
  escapeLabelValue,
  Family,
  formatLabels,
  formatValue,
  type Labels,
} from "./metrics-family.ts";
import { ipvsFamilies } from "./metrics-ipvs.ts";
import type { StatusDoc, StatusInstance, StatusState, StatusTracker } from "./status-types.ts";

export { escapeLabelValue };

/**
 * Upper bounds of the advert-send lateness histogram, seconds. Measured on this agent
 * (bench/results/lateness.json): p50 ≈ 0.2 ms, p99 ≈ 1.3 ms idle, a few ms under CPU load;
 * past 50 ms a backup with advert_int 0.1 s is close to declaring the master dead.
 */
export const LATENESS_BUCKETS_SECONDS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
];

/** A virtual address as configured: keepalived's address line, CIDR, and its device. */
export interface MetricsVip {
  readonly address: string;
  readonly dev?: string;
}

/**
 * What the configuration says about an instance, for the gauges that keepalived-exporter
 * labels by VIP. The exporter reads keepalived's configured list (keepalived.data "Virtual
 * IP"), so a BACKUP node shows the same ip_address series as the MASTER; a StatusDoc only
 * lists the addresses held now. An InstancePlan (src/agent/params.ts) has this shape
 * (vips, evips, vipDev).
 */
export interface MetricsInstanceConfig {
  readonly vips: readonly MetricsVip[];
  readonly evips: readonly MetricsVip[];
  /** The device of VIPs without `dev` (the VMAC when there is one); default the instance's. */
  readonly vipDev?: string;
  /** garp_master_delay, seconds: keepalived-exporter's `keepalived_gratuitous_arp_delay_total`. */
  readonly garpDelaySeconds?: number;
}

export interface MetricsOptions {
  /** The instance's configured VIPs; without it the doc's held VIPs label the state gauge. */
  readonly configOf?: (iname: string) => MetricsInstanceConfig | undefined;
  /** For edge_agent_build_info; default the running Bun's. */
  readonly bunVersion?: string;
}

/**
 * keepalived's numbering of states (include/vrrp.h VRRP_STATE_*), which keepalived-exporter
 * passes through: INIT 0, BACKUP 1, MASTER 2, FAULT 3; STOP is keepalived's internal 98.
 */
export const STATE_VALUE: Readonly<Record<StatusState, number>> = {
  INIT: 0,
  BACKUP: 1,
  MASTER: 2,
  FAULT: 3,
  STOP: 98,
};

/** keepalived-exporter's per-instance counters: [name, StatusCounters key, help]. */
const KEEPALIVED_COUNTERS = [
  ["keepalived_advertisements_received_total", "advert_rcvd", "Advertisements received"],
  ["keepalived_advertisements_sent_total", "advert_sent", "Advertisements sent"],
  ["keepalived_become_master_total", "become_master", "Became master"],
  ["keepalived_release_master_total", "release_master", "Released master"],
  ["keepalived_packet_length_errors_total", "packet_len_err", "Packet length errors"],
  [
    "keepalived_advertisements_interval_errors_total",
    "advert_interval_err",
    "Advertisement interval errors",
  ],
  ["keepalived_ip_ttl_errors_total", "ip_ttl_err", "TTL errors"],
  ["keepalived_invalid_type_received_total", "invalid_type_rcvd", "Invalid type errors"],
  ["keepalived_address_list_errors_total", "addr_list_err", "Address list errors"],
  ["keepalived_authentication_invalid_total", "invalid_authtype", "Authentication invalid"],
  ["keepalived_authentication_mismatch_total", "authtype_mismatch", "Authentication mismatch"],
  ["keepalived_authentication_failure_total", "auth_failure", "Authentication failure"],
  ["keepalived_priority_zero_received_total", "pri_zero_rcvd", "Priority zero received"],
  ["keepalived_priority_zero_sent_total", "pri_zero_sent", "Priority zero sent"],
  // Ours: keepalived counts these too (vrrp_t stats) but the exporter does not export them.
  ["edge_agent_checksum_errors_total", "chk_err", "Adverts dropped for a bad checksum"],
  ["edge_agent_version_errors_total", "vers_err", "Adverts dropped for a wrong VRRP version"],
] as const;

/** keepalived prints an address without its prefix when it is a host route (ipaddresstos()). */
export function keepalivedAddress(cidr: string): string {
  const slash = cidr.indexOf("/");
  if (slash < 0) return cidr;
  const host = cidr.slice(0, slash);
  const full = host.includes(":") ? "128" : "32";
  return cidr.slice(slash + 1) === full ? host : cidr;
}

const isoSeconds = (iso: string): number | undefined => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms / 1000;
};

/** A track_file reports a value, not up/down: it is "up" unless it holds the instance in FAULT. */
function trackerUp(t: StatusTracker): number | undefined {
  switch (t.state) {
    case "up":
      return 1;
    case "down":
      return 0;
    case "value":
      return t.fault ? 0 : 1;
    case "unknown":
      return undefined;
  }
}

const instanceLabels = (i: StatusInstance): Labels => ({
  iname: i.name,
  intf: i.interface,
  vrid: String(i.vrid),
});

export class Metrics {
  private readonly transitions = new Map<
    string,
    { iname: string; from: StatusState; to: StatusState; count: number }
  >();
  private readonly lastTransitionWall = new Map<string, Date>();
  private readonly latenessBuckets = LATENESS_BUCKETS_SECONDS.map(() => 0);
  private latenessSumSeconds = 0;
  private latenessCount = 0;
  private reloads = 0;
  private reloadFailures = 0;

  constructor(private readonly opts: MetricsOptions = {}) {}

  /** A state change of an instance, as the loop logs it; atWall is the wall-clock time. */
  onTransition(iname: string, from: StatusState, to: StatusState, atWall: Date): void {
    const key = `${iname}\u0000${from}\u0000${to}`;
    const t = this.transitions.get(key);
    if (t) t.count += 1;
    else this.transitions.set(key, { iname, from, to, count: 1 });
    this.lastTransitionWall.set(iname, atWall);
  }

  /**
   * How late an advert left after its due time. An early send counts as on time (0): the
   * histogram is about lateness, and a negative observation would break `_sum` as a total.
   */
  observeAdvertLateness(seconds: number): void {
    if (Number.isNaN(seconds)) return;
    const s = Math.max(0, seconds);
    const i = LATENESS_BUCKETS_SECONDS.findIndex((le) => s <= le);
    if (i >= 0) this.latenessBuckets[i] = (this.latenessBuckets[i] ?? 0) + 1;
    this.latenessSumSeconds += s;
    this.latenessCount += 1;
  }

  /** A reload attempt and whether it took effect. */
  onReload(ok: boolean): void {
    this.reloads += 1;
    if (!ok) this.reloadFailures += 1;
  }

  /** The exposition text; cheap and synchronous (no I/O), safe to call on every scrape. */
  render(doc: StatusDoc): string {
    const families = [
      ...this.keepalivedFamilies(doc),
      ...this.agentFamilies(doc),
      ...this.instanceFamilies(doc),
      this.latenessFamily(),
      ...ipvsFamilies(doc.virtual_servers),
    ];
    return families.map((f) => f.text()).join("");
  }

  private keepalivedFamilies(doc: StatusDoc): Family[] {
    // We answer for ourselves, so the daemon is up whenever this renders.
    const up = new Family("keepalived_up", "gauge", "Status").add({}, 1);
    const state = new Family("keepalived_vrrp_state", "gauge", "State of vrrp");
    const excluded = new Family(
      "keepalived_vrrp_excluded_state",
      "gauge",
      "State of vrrp with excluded VIP",
    );
    const garp = new Family(
      "keepalived_gratuitous_arp_delay_total",
      "counter",
      "Gratuitous ARP delay",
    );
    const counters = KEEPALIVED_COUNTERS.map(([name, , help]) => new Family(name, "counter", help));
    for (const i of doc.instances) {
      const cfg = this.opts.configOf?.(i.name);
      this.stateSeries(i, cfg, state, excluded);
      const labels = formatLabels(instanceLabels(i));
      if (cfg?.garpDelaySeconds !== undefined) garp.addFormatted(labels, cfg.garpDelaySeconds);
      KEEPALIVED_COUNTERS.forEach(([, key], n) => {
        counters[n]?.addFormatted(labels, i.counters[key]);
      });
    }
    const scripts = new Family("keepalived_script_status", "gauge", "Tracker Script Status");
    // keepalived reports GOOD (1) once the result reached `rise`, else BAD (0) (vrrp_data.c
    // dump_vscript); a script that has not reported starts one short of rise, so BAD there
    // too (vrrp_scheduler.c vrrp_init_script).
    for (const i of doc.instances)
      for (const t of i.trackers)
        if (t.kind === "script") scripts.add({ name: t.name }, t.state === "up" ? 1 : 0);
    return [up, state, excluded, garp, ...counters, scripts];
  }

  /** One state series per VIP, as keepalived-exporter does; one with ip_address="" if none. */
  private stateSeries(
    i: StatusInstance,
    cfg: MetricsInstanceConfig | undefined,
    state: Family,
    excluded: Family,
  ): void {
    const value = STATE_VALUE[i.state];
    const dev = cfg?.vipDev ?? i.interface;
    const vips: readonly MetricsVip[] = cfg ? cfg.vips : i.vips.map((address) => ({ address }));
    const series = (f: Family, v: MetricsVip) =>
      f.add(
        {
          iname: i.name,
          intf: v.dev ?? dev,
          vrid: String(i.vrid),
          ip_address: keepalivedAddress(v.address),
        },
        value,
      );
    for (const v of vips) series(state, v);
    for (const v of cfg?.evips ?? []) series(excluded, v);
    if (vips.length === 0) state.add({ ...instanceLabels(i), ip_address: "" }, value);
  }

  private agentFamilies(doc: StatusDoc): Family[] {
    const build = new Family(
      "edge_agent_build_info",
      "gauge",
      "The running agent's version, git commit and Bun version; always 1",
    ).add(
      {
        version: doc.agent.version,
        commit: doc.agent.commit,
        bun: this.opts.bunVersion ?? Bun.version,
      },
      1,
    );
    const maintenance = new Family(
      "edge_agent_maintenance",
      "gauge",
      "1 while maintenance mode keeps this node from becoming MASTER",
    ).add({}, doc.agent.maintenance ? 1 : 0);
    const reloads = new Family(
      "edge_agent_reloads_total",
      "counter",
      "Configuration reloads attempted",
    ).add({}, this.reloads);
    const failures = new Family(
      "edge_agent_reload_failures_total",
      "counter",
      "Configuration reloads that failed and left the previous configuration running",
    ).add({}, this.reloadFailures);
    return [build, maintenance, reloads, failures];
  }

  private instanceFamilies(doc: StatusDoc): Family[] {
    const base = new Family("edge_agent_base_priority", "gauge", "Configured VRRP priority");
    const effective = new Family(
      "edge_agent_effective_priority",
      "gauge",
      "VRRP priority after tracker weights, as advertised",
    );
    const transitions = new Family(
      "edge_agent_transitions_total",
      "counter",
      "VRRP state transitions by from and to state",
    );
    const last = new Family(
      "edge_agent_last_transition_timestamp_seconds",
      "gauge",
      "Unix time of the instance's last state transition",
    );
    const trackers = new Family(
      "edge_agent_tracker_up",
      "gauge",
      "1 if the tracker is up (a track_file: not forcing FAULT), 0 if down; absent until it reports",
    );
    const names = new Set(doc.instances.map((i) => i.name));
    for (const i of doc.instances) {
      base.add({ iname: i.name }, i.priority.base);
      effective.add({ iname: i.name }, i.priority.effective);
      const at = i.last_transition ? isoSeconds(i.last_transition.at) : undefined;
      const wall = this.lastTransitionWall.get(i.name);
      const seconds = at ?? (wall ? wall.getTime() / 1000 : undefined);
      if (seconds !== undefined && Number.isFinite(seconds)) last.add({ iname: i.name }, seconds);
      for (const t of i.trackers) {
        const up = trackerUp(t);
        if (up !== undefined) trackers.add({ iname: i.name, kind: t.kind, name: t.name }, up);
      }
    }
    // Counts of instances a reload removed stay in memory but are not shown.
    for (const t of this.transitions.values())
      if (names.has(t.iname)) transitions.add({ iname: t.iname, from: t.from, to: t.to }, t.count);
    return [base, effective, transitions, last, trackers];
  }

  private latenessFamily(): Family {
    const name = "edge_agent_advert_send_lateness_seconds";
    const f = new Family(name, "histogram", "How late each advert left after its due time");
    let cumulative = 0;
    LATENESS_BUCKETS_SECONDS.forEach((le, n) => {
      cumulative += this.latenessBuckets[n] ?? 0;
      f.add({ le: formatValue(le) }, cumulative, "_bucket");
    });
    f.add({ le: "+Inf" }, this.latenessCount, "_bucket");
    f.add({}, this.latenessSumSeconds, "_sum");
    f.add({}, this.latenessCount, "_count");
    return f;
  }
}
