/**
 * A deterministic simulator: routers running the real core `step` on one simulated L2
 * segment, with a simulated clock and seeded loss, delay, duplication, reordering,
 * partitions, faults, crashes and restarts. Every random choice comes from one seeded PRNG
 * so a failing seed replays exactly (tigerbeetle's VOPR idea).
 */

import { parseIp } from "../../src/core/net/ip.ts";
import { mulberry32 } from "../../src/core/prng.ts";
import { initialState, step } from "../../src/core/vrrp/step.ts";
import { nextDeadline } from "../../src/core/vrrp/timers.ts";
import type {
  Action,
  Event,
  InstanceParams,
  InstanceState,
  VrrpState,
} from "../../src/core/vrrp/types.ts";
import { Heap } from "./heap.ts";

export interface NodeSpec {
  readonly name: string;
  readonly address: string;
  readonly priority: number;
  readonly wantMaster?: boolean;
  readonly nopreempt?: boolean;
  readonly preemptDelayMs?: number;
}

export interface NetConditions {
  readonly lossRate: number;
  readonly dupRate: number;
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
}

export const CLEAN: NetConditions = { lossRate: 0, dupRate: 0, delayMinMs: 0.05, delayMaxMs: 0.3 };

export interface SimNode {
  readonly spec: NodeSpec;
  state: InstanceState;
  running: boolean;
  vips: boolean;
  timerGen: number;
  transitions: { at: number; from: VrrpState; to: VrrpState; reason: string }[];
  sent: { at: number; priority: number }[];
}

type Item =
  | { at: number; seq: number; kind: "timer"; node: number; gen: number }
  | {
      at: number;
      seq: number;
      kind: "deliver";
      node: number;
      from: number;
      priority: number;
      intervalCs: number;
    }
  | { at: number; seq: number; kind: "call"; fn: () => void };

export interface SimOptions {
  readonly seed: number;
  readonly version: 2 | 3;
  readonly advertIntervalCs: number;
  readonly nodes: readonly NodeSpec[];
  readonly trace?: boolean;
}

export class Sim {
  readonly rng: () => number;
  readonly nodes: SimNode[];
  now = 0;
  net: NetConditions = CLEAN;
  /** Pairs "i-j" (i<j) that cannot hear each other. */
  readonly cut = new Set<string>();
  readonly log: string[] = [];
  private seq = 0;
  private readonly queue = new Heap<Item>();
  /** Invariant checks run after every event; they throw with the trace. */
  readonly checks: ((sim: Sim) => void)[] = [];

  constructor(readonly opts: SimOptions) {
    this.rng = mulberry32(opts.seed);
    this.nodes = opts.nodes.map((spec) => ({
      spec,
      state: initialState(this.params(spec), 0),
      running: false,
      vips: false,
      timerGen: 0,
      transitions: [],
      sent: [],
    }));
  }

  params(spec: NodeSpec): InstanceParams {
    const addr = parseIp(spec.address);
    if (!addr) throw new Error(`bad address ${spec.address}`);
    return {
      name: "VI_1",
      vrid: 51,
      version: this.opts.version,
      family: 4,
      basePriority: spec.priority,
      advertIntervalCs: this.opts.advertIntervalCs,
      wantMaster: spec.wantMaster ?? false,
      nopreempt: spec.nopreempt ?? false,
      preemptDelayMs: spec.preemptDelayMs ?? 0,
      downTimerAdverts: 3,
      lowerPrioNoAdvert: false,
      higherPrioSendAdvert: false,
      localAddress: addr,
      garp: {
        masterDelayMs: 5000,
        masterRepeat: 5,
        masterRefreshMs: 0,
        masterRefreshRepeat: 1,
        lowerPrioDelayMs: 5000,
        lowerPrioRepeat: 5,
      },
    };
  }

  trace(msg: string): void {
    this.log.push(`${this.now.toFixed(3).padStart(10)} ${msg}`);
    if (this.opts.trace) process.stderr.write(`${this.log[this.log.length - 1]}\n`);
  }

  private push(item: DistributiveOmit<Item, "seq">): void {
    this.queue.push({ ...item, seq: this.seq++ } as Item);
  }

  at(t: number, fn: () => void): void {
    this.push({ at: t, kind: "call", fn });
  }

  /** Feed an event to node i now, perform its actions, re-arm its timer. */
  deliver(i: number, e: Event): void {
    const n = this.nodes[i] as SimNode;
    if (!n.running) return;
    const r = step(n.state, e, this.now);
    n.state = r.state;
    for (const a of r.actions) this.perform(i, a);
    n.timerGen++;
    const t = nextDeadline(n.state);
    if (t !== undefined)
      this.push({ at: Math.max(t, this.now), kind: "timer", node: i, gen: n.timerGen });
  }

  private perform(i: number, a: Action): void {
    const n = this.nodes[i] as SimNode;
    switch (a.type) {
      case "send-advert":
        n.sent.push({ at: this.now, priority: a.priority });
        this.broadcast(i, a.priority);
        return;
      case "add-vips":
        n.vips = true;
        return;
      case "remove-vips":
        n.vips = false;
        return;
      case "transition":
        n.transitions.push({ at: this.now, from: a.from, to: a.to, reason: a.reason });
        this.trace(`${n.spec.name} ${a.from}→${a.to} (${a.reason})`);
        return;
      default:
        return;
    }
  }

  private broadcast(from: number, priority: number): void {
    const intervalCs =
      this.nodes[from]?.state.params.advertIntervalCs ?? this.opts.advertIntervalCs;
    this.nodes.forEach((_n, to) => {
      if (to === from || this.cut.has(pairKey(from, to))) return;
      const copies = this.rng() < this.net.dupRate ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        if (this.rng() < this.net.lossRate) continue;
        const delay =
          this.net.delayMinMs + this.rng() * (this.net.delayMaxMs - this.net.delayMinMs);
        this.push({ at: this.now + delay, kind: "deliver", node: to, from, priority, intervalCs });
      }
    });
  }

  start(i: number): void {
    const n = this.nodes[i] as SimNode;
    n.running = true;
    // A restarted agent removes VIPs an earlier run left behind before it starts (§2.17).
    n.vips = false;
    n.state = initialState(this.params(n.spec), this.now);
    this.trace(`${n.spec.name} start`);
    this.deliver(i, { type: "start" });
  }

  /** kill -9: no priority-0 advert, VIPs left on the interface, nothing more from it. */
  crash(i: number): void {
    const n = this.nodes[i] as SimNode;
    n.running = false;
    n.timerGen++;
    this.trace(`${n.spec.name} crash`);
  }

  fault(i: number, reason: string, on: boolean): void {
    this.trace(`${this.nodes[i]?.spec.name} fault ${reason} ${on ? "on" : "off"}`);
    this.deliver(i, { type: "fault", reason, on });
  }

  /** Run until `untilMs`, checking invariants after every event. */
  run(untilMs: number): void {
    for (;;) {
      const item = this.queue.peek();
      if (!item || item.at > untilMs) break;
      this.queue.pop();
      this.now = item.at;
      this.handle(item);
      for (const check of this.checks) check(this);
    }
    this.now = untilMs;
  }

  private handle(item: Item): void {
    if (item.kind === "call") {
      item.fn();
      return;
    }
    const n = this.nodes[item.node] as SimNode;
    if (item.kind === "timer") {
      if (item.gen === n.timerGen) this.deliver(item.node, { type: "tick" });
      return;
    }
    if (!n.running || this.cut.has(pairKey(item.from, item.node))) return;
    const src = this.nodes[item.from]?.spec.address ?? "";
    const addr = parseIp(src);
    if (!addr) return;
    this.deliver(item.node, {
      type: "advert",
      advert: {
        src: addr,
        srcText: src,
        priority: item.priority,
        advertIntervalCs: item.intervalCs,
      },
    });
  }

  masters(): SimNode[] {
    return this.nodes.filter((n) => n.running && n.state.state === "MASTER");
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function pairKey(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
