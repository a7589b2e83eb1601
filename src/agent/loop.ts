/**
 * The agent's event loop (design §2): one clock read per turn, the pure core decides, the
 * effects act. Packets, timer expiries, link changes and signals all become core events.
 */
import type { ConsolaInstance } from "consola";
import { formatIp } from "../core/net/ip.ts";
import { decodeAdvert } from "../core/vrrp/advert.ts";
import { classify } from "../core/vrrp/receive.ts";
import { reconfigure } from "../core/vrrp/reconfigure.ts";
import { initialState, step } from "../core/vrrp/step.ts";
import { groupState, stepGroup } from "../core/vrrp/sync-group.ts";
import { nextDeadline } from "../core/vrrp/timers.ts";
import type { Action, Event, InstanceState, VrrpState } from "../core/vrrp/types.ts";
import { perform } from "./effects.ts";
import type { Hooks } from "./hooks.ts";
import type { AgentIo, LinkChange, Packet } from "./io.ts";
import type { InstancePlan } from "./params.ts";
import type { AgentObserver, AgentPort, Running } from "./running.ts";

export type { AgentObserver, Running };

import { Tracking, type TrackingConfig, type TrackView } from "./tracking.ts";

export interface ReloadReport {
  readonly kept: number;
  readonly changed: number;
  readonly added: number;
  readonly removed: number;
}

/**
 * keepalived's identity of an instance across reloads (vrrp.c vrrp_exist): VRID, family,
 * configured interface, and the unicast source or the multicast group — not the name.
 */
export function instanceKey(p: InstancePlan): string {
  const iface = p.vmac?.parent ?? p.ifname;
  const where = p.unicast ? `u ${formatIp(p.source)}` : `m ${formatIp(p.group)}`;
  return `${p.params.vrid}|${p.family}|${iface}|${where}`;
}

/** Who watches transitions and advert timing (metrics); never changes anything. */

export interface AgentOptions {
  /** notify scripts, FIFO lines and mail on transitions (none in the simulator). */
  readonly hooks?: Hooks;
  /** vrrp_script, track_interface, track_process, track_file, track_http. */
  readonly tracking?: TrackingConfig;
}

export class Agent implements AgentPort {
  readonly running = new Map<string, Running>();
  private readonly bySocket = new Map<string, Running[]>();
  private readonly groupStates = new Map<string, VrrpState>();
  private stopped = false;
  private drained = false;
  private armedAt: number | undefined;
  hooks: Hooks | undefined;
  observer: AgentObserver | undefined;
  private tracking: Tracking | undefined;
  /** Group transitions to STOP wait until every instance has stopped (notify.c order). */
  private pendingGroupStops: string[] | undefined;
  /** While held members start: group transitions to notify after them. */
  private deferredGroups: Map<string, VrrpState> | undefined;

  constructor(
    private readonly plans: readonly InstancePlan[],
    readonly io: AgentIo,
    readonly log: ConsolaInstance,
    opts: AgentOptions = {},
  ) {
    this.hooks = opts.hooks;
    this.tracking = opts.tracking ? new Tracking(this, opts.tracking) : undefined;
  }

  /** A sync group's own state (INIT before its first member started). */
  groupState(name: string): VrrpState {
    return this.groupStates.get(name) ?? "INIT";
  }

  /** An instance's trackers as they stand: binding, status (for status and metrics). */
  trackers(r: Running): readonly TrackView[] {
    return this.tracking?.view(r) ?? [];
  }

  /** Open sockets, clear leftovers of a crashed run, then start every instance. */
  async start(): Promise<void> {
    const now = this.io.nowMs();
    for (const plan of this.plans) {
      const io = await this.io.open(plan);
      const removed = io.removeLeftovers();
      if (removed)
        this.log.info(`(${plan.name}) removed ${removed} address(es) left by an earlier run`);
      const r: Running = { plan, state: initialState(plan.params, now), io };
      this.running.set(plan.name, r);
      this.bySocket.set(io.socketKey, [...(this.bySocket.get(io.socketKey) ?? []), r]);
    }
    this.io.onPacket((key, p) => this.onPacket(key, p));
    await this.io.onLink((c) => this.onLink(c));
    for (const r of this.running.values()) {
      if (!r.io.linkUp())
        this.dispatch(r, { type: "fault", reason: `interface ${r.plan.ifname} down`, on: true });
    }
    // Trackers first: an instance starts with its effective priority and tracker faults,
    // and one held by a weight-0 script that has not reported yet starts when it does.
    this.tracking?.start();
    for (const r of this.running.values())
      if (!this.tracking?.held(r)) this.dispatch(r, { type: "start" });
  }

  /**
   * Reload (reference §2.16) with plans from a configuration already validated: matched
   * instances keep their state, stats and VIPs (changed addresses applied as a diff, nothing
   * sent, no notify); removed ones hand over as on FAULT (keepalived reports a deleted
   * instance as FAULT); new ones start. Trackers whose blocks are unchanged carry over.
   */
  async reload(plans: readonly InstancePlan[], opts: AgentOptions = {}): Promise<ReloadReport> {
    const now = this.io.nowMs();
    const old = new Map([...this.running.values()].map((r) => [instanceKey(r.plan), r]));
    const next: Running[] = [];
    const report = { kept: 0, changed: 0, added: 0, removed: 0 };
    for (const plan of plans) {
      const key = instanceKey(plan);
      const r = old.get(key);
      if (!r) {
        const state = initialState(plan.params, now);
        next.push({
          plan,
          state: this.drained ? { ...state, drain: "maintenance" } : state,
          io: await this.io.open(plan),
        });
        report.added++;
        continue;
      }
      old.delete(key);
      if (JSON.stringify(plan) !== JSON.stringify(r.plan)) {
        const io = await this.io.open(plan);
        if (r.state.state === "MASTER") io.adjustVips(r.plan);
        r.io.close();
        r.io = io;
        report.changed++;
      } else report.kept++;
      r.state = reconfigure(r.state, plan.params, now);
      r.plan = plan;
      next.push(r);
    }
    for (const r of old.values()) {
      this.dispatch(r, { type: "fault", reason: "removed by reload", on: true });
      r.io.close();
      report.removed++;
    }
    this.running.clear();
    this.bySocket.clear();
    for (const r of next) {
      this.running.set(r.plan.name, r);
      this.bySocket.set(r.io.socketKey, [...(this.bySocket.get(r.io.socketKey) ?? []), r]);
    }
    if (opts.hooks && this.hooks) opts.hooks.adopt(this.hooks);
    this.hooks = opts.hooks;
    const previous = this.tracking;
    this.tracking = opts.tracking ? new Tracking(this, opts.tracking) : undefined;
    if (this.tracking) this.tracking.start(previous);
    else previous?.stop();
    for (const r of next)
      if (r.state.state === "INIT" && !this.tracking?.held(r)) this.dispatch(r, { type: "start" });
    this.rearm();
    return report;
  }

  /** `agent maintenance on|off`: every instance stays out of MASTER while on. */
  maintenance(on: boolean): void {
    this.drained = on;
    for (const r of this.running.values())
      this.dispatch(r, { type: "drain", mode: on ? "maintenance" : undefined });
  }

  get inMaintenance(): boolean {
    return this.drained;
  }

  /**
   * `agent failover [INSTANCE]`: each MASTER named (all by default) hands over with
   * priority 0 and stays BACKUP until another router advertises. Returns the names.
   */
  failover(name?: string): string[] {
    const done: string[] = [];
    for (const r of this.running.values()) {
      if (name !== undefined && r.plan.name !== name) continue;
      if (r.state.state !== "MASTER") continue;
      this.dispatch(r, { type: "drain", mode: "handover" });
      done.push(r.plan.name);
    }
    return done;
  }

  /** SIGTERM/SIGINT: every MASTER hands over with priority 0 and removes its VIPs (§2.17). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.tracking?.stop();
    this.pendingGroupStops = [];
    for (const r of this.running.values()) this.dispatch(r, { type: "shutdown" });
    for (const g of this.pendingGroupStops) this.hooks?.group(g, "STOP");
    this.pendingGroupStops = undefined;
    this.io.schedule(undefined, () => {});
    for (const r of this.running.values()) r.io.close();
    await this.io.close();
  }

  /**
   * Feed one event to an instance (through its sync group, if any), act, re-arm the timer.
   * `atMs` is when it happened, if earlier than now (a packet's receive time).
   */
  dispatch(r: Running, e: Event, atMs?: number): void {
    const now = atMs ?? this.io.nowMs();
    const g = r.plan.syncGroup;
    if (g) this.dispatchGroup(g, r, e, now);
    else {
      const res = step(r.state, e, now);
      r.state = res.state;
      this.act(r, res.actions);
    }
    if (!this.stopped) this.rearm();
  }

  private dispatchGroup(name: string, r: Running, e: Event, now: number): void {
    const members = [...this.running.values()].filter((m) => m.plan.syncGroup === name);
    const index = members.indexOf(r);
    const prev = this.groupStates.get(name) ?? "INIT";
    const res = stepGroup(
      {
        ...groupState(
          name,
          members.map((m) => m.state),
        ),
        state: prev,
      },
      index,
      e,
      now,
    );
    members.forEach((m, k) => {
      m.state = res.group.members[k] as InstanceState;
    });
    const t = res.groupTransition;
    // keepalived notifies a group leaving INIT before its members (vrrp_init_state), and
    // otherwise after them (vrrp_sync.c); members see the group's previous state.
    const deferred = this.deferredGroups;
    if (t?.from === "INIT" && !deferred) this.groupNotify(name, t.to);
    for (const { member, action } of res.sequence) this.act(members[member] as Running, [action]);
    this.groupStates.set(name, res.group.state);
    if (t) {
      this.log.info(`VRRP_Group(${name}) Syncing instances to ${t.to} state`);
      if (deferred) deferred.set(name, t.to);
      else if (t.from !== "INIT") this.groupNotify(name, t.to);
    }
  }

  private groupNotify(name: string, to: VrrpState): void {
    // While stopping, the group passes through BACKUP as its members stop: only STOP counts,
    // after every instance (vrrp_notify.c notify_shutdown).
    if (this.pendingGroupStops) {
      if (to === "STOP") this.pendingGroupStops.push(name);
    } else this.hooks?.group(name, to);
  }

  /**
   * Start held instances once their trackers reported. A sync group comes up as keepalived
   * brings it up (vrrp_scheduler.c try_up_instance, vrrp_sync.c vrrp_sync_backup): the
   * member whose report completed the group first, then the others in group order, and the
   * group's own notify after them.
   */
  release(trigger: Running): void {
    if (this.stopped || trigger.state.state !== "INIT") return;
    const g = trigger.plan.syncGroup;
    if (!g) {
      this.dispatch(trigger, { type: "start" });
      return;
    }
    const members = [...this.running.values()].filter((m) => m.plan.syncGroup === g);
    this.deferredGroups = new Map();
    try {
      for (const m of [trigger, ...members.filter((x) => x !== trigger)])
        if (m.state.state === "INIT") this.dispatch(m, { type: "start" });
    } finally {
      const done = this.deferredGroups;
      this.deferredGroups = undefined;
      const to = done.get(g);
      if (to) this.groupNotify(g, to);
    }
  }

  /** Hooks for an instance's new state (its group's state is still the previous one). */
  notifyInstance(r: Running, state: "MASTER" | "BACKUP" | "FAULT" | "STOP"): void {
    const g = r.plan.syncGroup;
    this.hooks?.instance(
      r.plan.name,
      state,
      r.state.effectivePriority,
      g ? (this.groupStates.get(g) ?? "INIT") : undefined,
    );
  }

  private act(r: Running, actions: readonly Action[]): void {
    for (const a of actions) {
      try {
        perform(this, r, a);
      } catch (err) {
        this.log.error(
          `(${r.plan.name}) ${a.type} failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  /**
   * Arm the one timer for the earliest deadline — unless the armed one comes no later:
   * every accepted advert only moves a BACKUP's deadline later, and re-arming for each
   * would cost a message to the receive Worker per advert. The early tick finds nothing
   * due and re-arms once (design §2: one timer for the earliest deadline).
   */
  rearm(): void {
    let next: number | undefined;
    for (const r of this.running.values()) {
      const t = nextDeadline(r.state);
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    if (next === undefined || (this.armedAt !== undefined && this.armedAt <= next)) return;
    this.armedAt = next;
    this.io.schedule(next, () => this.onTimer());
  }

  private onTimer(): void {
    this.armedAt = undefined;
    const now = this.io.nowMs();
    for (const r of this.running.values()) {
      const t = nextDeadline(r.state);
      if (t !== undefined && t <= now) this.dispatch(r, { type: "tick" });
    }
    this.rearm();
  }

  private onPacket(key: string, p: Packet): void {
    const listeners = this.bySocket.get(key);
    if (!listeners?.length || this.stopped) return;
    const family = listeners[0]?.plan.family ?? p.family;
    const d = decodeAdvert(p.bytes, {
      family,
      ipv4HeaderIncluded: family === 4,
      ...(p.ttl === undefined ? {} : { ttlOrHopLimit: p.ttl }),
      src: p.src,
      ...(p.dst === undefined ? {} : { dst: p.dst }),
    });
    if (!d.ok) {
      const r = listeners.find((x) => x.plan.params.vrid === d.vrid);
      if (r)
        this.log.debug(`(${r.plan.name}) bad advert from ${p.src.family}: ${d.reason} ${d.detail}`);
      return;
    }
    for (const r of listeners) {
      if (r.plan.params.vrid !== d.advert.vrid) continue;
      const c = classify(r.state, d.advert, r.plan.rx);
      r.state = c.state;
      this.act(r, c.actions);
      if (c.event) this.dispatch(r, c.event, p.rxAtMs);
    }
  }

  private onLink(c: LinkChange): void {
    this.tracking?.link(c.ifname, c.up);
    for (const r of this.running.values()) {
      if (!r.plan.tracked.includes(c.ifname)) continue;
      this.dispatch(r, { type: "fault", reason: `interface ${c.ifname} down`, on: !c.up });
    }
  }
}
