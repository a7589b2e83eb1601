/**
 * The running checkers of the IPVS host on one timer: each checker's state machine
 * (core/check/machine.ts), a min-heap of deadlines so that the timer finds the next one
 * without scanning thousands, probes started when due (or skipped while their virtual
 * server is suspended by ha_suspend), and results handed back in order. Carries checkers
 * whose blocks did not change over a reload, as keepalived does (check_api.c
 * migrate_checkers).
 */
import {
  type CheckerOutput,
  type CheckerState,
  dueChecker,
  initialChecker,
  nextDeadline,
  resultChecker,
  startChecker,
  suspendedChecker,
} from "../core/check/machine.ts";
import { MinHeap } from "../core/heap.ts";
import type { CheckProbeResult } from "../io/check-tcp.ts";
import type { CheckerDef } from "./ipvs-checkers.ts";
import type { IpvsHostIo } from "./ipvs-host-types.ts";

export interface CheckerRun {
  /** Replaced on reload when the block is unchanged (its indexes may move). */
  def: CheckerDef;
  state: CheckerState;
  lastReason?: string;
  lastOk?: boolean;
  lastLatencyMs?: number;
  lastAtMs?: number;
  /** misc_dynamic: the weight the last exit status set (check_misc.c cur_weight). */
  dynWeight?: number | undefined;
}

/** A probe's outcome as the machine judged it, with the state it had before. */
export interface Settled {
  readonly c: CheckerRun;
  readonly res: CheckProbeResult;
  readonly out: CheckerOutput;
  readonly before: CheckerState;
}

export class CheckerSet {
  private list: CheckerRun[];
  private byRs = new Map<string, CheckerRun[]>();
  private live = new Set<CheckerRun>();
  /** Waiting checkers by due time; an entry whose state is no longer the checker's is stale. */
  private readonly queue = new MinHeap<{ c: CheckerRun; state: CheckerState }>();
  private armedAt: number | undefined;
  private running = false;

  constructor(
    defs: readonly CheckerDef[],
    private readonly io: Pick<IpvsHostIo, "schedule" | "probe" | "random">,
    private readonly nowMs: () => number,
    /** The virtual servers (by index) whose checkers ha_suspend holds now. */
    private readonly suspended: () => ReadonlySet<number>,
    private readonly onSettled: (s: Settled) => void,
  ) {
    this.list = defs.map((def) => ({ def, state: initialChecker(def.timing) }));
    this.index();
  }

  all(): readonly CheckerRun[] {
    return this.list;
  }

  /** The checkers of one real server. */
  of(vi: number, ri: number): readonly CheckerRun[] {
    return this.byRs.get(`${vi}|${ri}`) ?? [];
  }

  start(): void {
    this.running = true;
    const now = this.nowMs();
    for (const c of this.list) c.state = this.fresh(c.def, now);
    this.requeue();
  }

  stop(): void {
    this.running = false;
    this.io.schedule(undefined, () => {});
    this.armedAt = undefined;
    this.queue.clear();
  }

  /** A reload: unchanged checkers (same key, type and timing) keep state and schedule. */
  replace(defs: readonly CheckerDef[]): void {
    const old = new Map(this.list.map((c) => [c.def.key, c]));
    const now = this.nowMs();
    this.list = defs.map((def) => {
      const was = old.get(def.key);
      if (was && sameTiming(was.def, def)) {
        // The same object, so that a probe in flight lands on the carried checker.
        was.def = def;
        return was;
      }
      return { def, state: this.running ? this.fresh(def, now) : initialChecker(def.timing) };
    });
    this.index();
    if (this.running) this.requeue();
  }

  private fresh(def: CheckerDef, now: number): CheckerState {
    return startChecker(def.timing, now, def.timing.warmupMs > 0 ? this.io.random() : 0);
  }

  private index(): void {
    this.byRs = new Map();
    for (const c of this.list) {
      const k = `${c.def.vsIndex}|${c.def.rsIndex}`;
      const l = this.byRs.get(k);
      if (l) l.push(c);
      else this.byRs.set(k, [c]);
    }
    this.live = new Set(this.list);
  }

  private requeue(): void {
    this.queue.clear();
    for (const c of this.list) this.enqueue(c);
    this.armedAt = undefined;
    this.arm();
  }

  /** Queue a checker at its deadline, if it is waiting for one. */
  private enqueue(c: CheckerRun): void {
    const d = nextDeadline(c.state);
    if (d !== null) this.queue.push(d, { c, state: c.state });
  }

  private arm(): void {
    if (!this.running) return;
    // Drop stale heads: a checker whose state moved on since it was queued.
    for (let top = this.queue.peek(); top && top.c.state !== top.state; top = this.queue.peek())
      this.queue.pop();
    const next = this.queue.peekKey();
    if (next === this.armedAt) return;
    this.armedAt = next;
    this.io.schedule(next, () => {
      this.armedAt = undefined;
      this.onTimer();
      this.arm();
    });
  }

  private onTimer(): void {
    if (!this.running) return;
    const now = this.nowMs();
    const suspended = this.suspended();
    while ((this.queue.peekKey() ?? Number.POSITIVE_INFINITY) <= now) {
      const e = this.queue.pop();
      const c = e?.c;
      if (!c || c.state !== e.state || !this.live.has(c)) continue;
      if (suspended.has(c.def.vsIndex)) {
        c.state = suspendedChecker(c.def.timing, c.state, now);
        this.enqueue(c);
        continue;
      }
      const out = dueChecker(c.state, now);
      c.state = out.state;
      if (out.probe === undefined) {
        this.enqueue(c);
        continue;
      }
      const started = c.state;
      void this.io.probe(c.def.probe(out.probe.urlIndex)).then((res) => {
        // A reload or stop replaced this checker's run: the result is stale.
        if (!this.running || c.state !== started || !this.live.has(c)) return;
        this.settle(c, res);
        this.arm();
      });
    }
  }

  private settle(c: CheckerRun, res: CheckProbeResult): void {
    const now = this.nowMs();
    const before = c.state;
    const out = resultChecker(c.def.timing, c.state, now, res.ok);
    c.state = out.state;
    this.enqueue(c);
    c.lastOk = res.ok;
    c.lastLatencyMs = res.latencyMs;
    c.lastAtMs = now;
    if (res.reason !== undefined) c.lastReason = res.reason;
    this.onSettled({ c, res, out, before });
  }
}

function sameTiming(a: CheckerDef, b: CheckerDef): boolean {
  return JSON.stringify(a.timing) === JSON.stringify(b.timing) && a.type === b.type;
}
