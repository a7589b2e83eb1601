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
import type { Agent, Running } from "./loop.ts";
import { type TrackPlan, trackerKey } from "./track-plan.ts";
import { TrackerHost } from "./trackers.ts";

export interface TrackingConfig {
  readonly model: Model;
  readonly plan: TrackPlan;
  readonly io: TrackerIo;
  /** Whether an interface is up and running now (initial track_interface status). */
  readonly linkUp: (ifname: string) => boolean;
}

const UNKNOWN: TrackerStatus = { kind: "updown", up: undefined };
const isTrackFault = (f: string) => f.startsWith("track_");

export class Tracking {
  private readonly host: TrackerHost;

  constructor(
    private readonly agent: Agent,
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

  start(): void {
    this.host.start(this.cfg.linkUp);
    for (const r of this.agent.running.values()) this.apply(r);
  }

  stop(): void {
    this.host.stop();
  }

  nextDeadline(): number | undefined {
    return this.host.nextDeadline();
  }

  onTimer(now: number): void {
    this.host.onTimer(now);
  }

  link(ifname: string, up: boolean): void {
    this.host.link(ifname, up);
    this.agent.rearm();
  }

  /** Held in INIT: a weight-0 script or probe of it (or of a group peer) has not reported. */
  held(r: Running): boolean {
    const g = r.plan.syncGroup;
    const members = g
      ? [...this.agent.running.values()].filter((m) => m.plan.syncGroup === g)
      : [r];
    return members.some((m) =>
      this.bindings(m).some(
        (b) =>
          b.weight === 0 &&
          (b.kind === "script" || b.kind === "http") &&
          this.status(b).kind === "updown" &&
          (this.status(b) as { up: boolean | undefined }).up === undefined,
      ),
    );
  }

  private status(b: TrackBinding): TrackerStatus {
    return this.host.get(trackerKey(b)) ?? UNKNOWN;
  }

  /** Feed the core the instance's effective priority and tracker faults, as they are now. */
  private apply(r: Running): void {
    const list = this.bindings(r);
    if (list.length === 0) return;
    const items = list.map((binding) => ({ binding, status: this.status(binding) }));
    const want = evaluate(r.plan.params.basePriority, items);
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
    for (const r of this.agent.running.values())
      if (r.state.state === "INIT" && !this.held(r)) this.agent.release(r);
    this.agent.rearm();
  }
}
