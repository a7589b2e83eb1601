/**
 * Trackers → instances (reference §2.6): when a tracker's status changes, every instance
 * bound to it is re-evaluated by the core (core/track/priority.ts) and the difference is
 * fed to the VRRP core as `priority` and `fault` events. Instances bound to a weight-0
 * vrrp_script that has not reported yet are held in INIT (keepalived's num_script_init),
 * and a sync group is held while any member is (num_member_init).
 */
import type { Model } from "../config/model.ts";
import { evaluate } from "../core/track/priority.ts";
import type { TrackBinding, TrackerStatus } from "../core/track/types.ts";
import type { TrackerIo } from "./io.ts";
import type { AgentPort, Running } from "./running.ts";
import { type TrackPlan, trackerKey } from "./track-plan.ts";
import { TrackerHost } from "./trackers.ts";

export interface TrackingConfig {
  readonly model: Model;
  readonly plan: TrackPlan;
  readonly io: TrackerIo;
  /** Whether an interface is up and running now (initial track_interface status). */
  readonly linkUp: (ifname: string) => boolean;
}

/** One binding of an instance with its tracker's current status. */
export interface TrackView {
  readonly binding: TrackBinding;
  readonly status: TrackerStatus;
}

const UNKNOWN: TrackerStatus = { kind: "updown", up: undefined };
const isTrackFault = (f: string) => f.startsWith("track_");

export class Tracking {
  private readonly host: TrackerHost;

  constructor(
    private readonly agent: AgentPort,
    private readonly cfg: TrackingConfig,
  ) {
    this.host = new TrackerHost(
      cfg.model,
      cfg.plan,
      cfg.io,
      agent.log.withTag("track"),
      (keys) => this.changed(keys),
      () => agent.io.nowMs(),
    );
  }

  private bindings(r: Running): readonly TrackBinding[] {
    return this.cfg.plan.bindings.get(r.plan.name) ?? [];
  }

  /** `previous`: the tracking a reload replaces (unchanged trackers carry over). */
  start(previous?: Tracking): void {
    this.host.start(this.cfg.linkUp, previous?.host);
    for (const r of this.agent.running.values()) this.apply(r);
  }

  stop(): void {
    this.host.stop();
  }

  link(ifname: string, up: boolean): void {
    this.host.link(ifname, up);
    this.agent.rearm();
  }

  /** Held in INIT: a weight-0 tracker of it (or of a group peer) has not reported yet. */
  held(r: Running): boolean {
    const g = r.plan.syncGroup;
    const members = g
      ? [...this.agent.running.values()].filter((m) => m.plan.syncGroup === g)
      : [r];
    // Only scripts and probes hold (keepalived's num_script_init): a process watcher that
    // failed to start must not keep an instance out of service for ever.
    const holds = (f: string) => f.startsWith("track_script ") || f.startsWith("track_http ");
    return members.some((m) => this.evaluate(m).pending.some(holds));
  }

  private evaluate(r: Running) {
    const items = this.bindings(r).map((binding) => ({ binding, status: this.status(binding) }));
    return evaluate(r.plan.params.basePriority, items);
  }

  view(r: Running): readonly TrackView[] {
    return this.bindings(r).map((binding) => ({ binding, status: this.status(binding) }));
  }

  private status(b: TrackBinding): TrackerStatus {
    return this.host.get(trackerKey(b)) ?? UNKNOWN;
  }

  /** Feed the core the instance's effective priority and tracker faults, as they are now. */
  private apply(r: Running): void {
    if (this.bindings(r).length === 0) return;
    const want = this.evaluate(r);
    const before = r.state.effectivePriority;
    if (want.effective !== before) {
      this.agent.log.info(
        `(${r.plan.name}) Changing effective priority from ${before} to ${want.effective}`,
      );
      this.agent.dispatch(r, { type: "priority", effective: want.effective });
      this.agent.hooks?.priority(r.plan.name, r.state.state, want.effective);
    }
    // New faults first, so moving from one fault to another never passes through BACKUP.
    const have = r.state.faults.filter(isTrackFault);
    for (const f of want.faults)
      if (!have.includes(f)) this.agent.dispatch(r, { type: "fault", reason: f, on: true });
    for (const f of have)
      if (!want.faults.includes(f)) this.agent.dispatch(r, { type: "fault", reason: f, on: false });
  }

  private changed(keys: readonly string[]): void {
    for (const r of this.agent.running.values()) {
      if (this.bindings(r).some((b) => keys.includes(trackerKey(b)))) this.apply(r);
    }
    // The member whose report completes a group is the last, in group order, bound to a
    // changed tracker (keepalived walks a tracker's instances in that order).
    const all = [...this.agent.running.values()];
    const bound = (r: Running) => this.bindings(r).some((b) => keys.includes(trackerKey(b)));
    for (const r of all) {
      if (r.state.state !== "INIT" || this.held(r)) continue;
      const g = r.plan.syncGroup;
      const trigger = g ? (all.filter((m) => m.plan.syncGroup === g && bound(m)).at(-1) ?? r) : r;
      this.agent.release(trigger);
    }
    this.agent.rearm();
  }
}
