import { describe, expect, test } from "bun:test";
import {
  DEFAULT_QUORUM,
  initialQuorum,
  nextDeadline,
  type QuorumCause,
  type QuorumParams,
  type QuorumState,
  stepQuorum,
} from "../../../src/core/track/process-quorum.ts";

const params = (p: Partial<QuorumParams>): QuorumParams => ({ ...DEFAULT_QUORUM, ...p });

/** Drives one tracker; records (time, verdict) at every change. */
class Q {
  s: QuorumState;
  changes: [number, boolean | undefined][] = [];
  constructor(p: Partial<QuorumParams>, first?: number) {
    this.s = initialQuorum(params(p), 0);
    if (first !== undefined) {
      this.count(0, first);
      this.changes = []; // the first scan's verdict is the start, not a change
    }
  }
  count(atMs: number, count: number, cause?: QuorumCause): boolean | undefined {
    return this.step(atMs, cause ? { type: "count", count, cause } : { type: "count", count });
  }
  tick(atMs: number): boolean | undefined {
    return this.step(atMs, { type: "tick" });
  }
  /** Fire every timer up to `untilMs`, as the shell's timer would. */
  runUntil(untilMs: number): void {
    for (let t = nextDeadline(this.s); t !== undefined && t <= untilMs; t = nextDeadline(this.s))
      this.tick(t);
  }
  private step(atMs: number, e: Parameters<typeof stepQuorum>[1]): boolean | undefined {
    const r = stepQuorum(this.s, e, atMs);
    expect(r.up).toBe(r.state.up);
    expect(r.changed).toBe(r.state.up !== this.s.up);
    if (r.changed) this.changes.push([atMs, r.up]);
    this.s = r.state;
    return r.up;
  }
}

describe("start (vrrp_track.c:initialise_process_tracking_priorities)", () => {
  test("no verdict before the first scan", () => {
    const q = new Q({});
    expect(q.s.up).toBeUndefined();
    expect(nextDeadline(q.s)).toBeUndefined();
    expect(q.tick(100)).toBeUndefined();
  });

  test("the first scan decides at once, whatever the delays", () => {
    const q = new Q({ forkDelayMs: 5000, terminateDelayMs: 5000 });
    expect(q.count(10, 1)).toBe(true);
    expect(nextDeadline(q.s)).toBeUndefined();
    const r = new Q({ forkDelayMs: 5000, terminateDelayMs: 5000 });
    expect(r.count(10, 0)).toBe(false);
    expect(nextDeadline(r.s)).toBeUndefined();
  });

  test("a count that is not a count is ignored", () => {
    const q = new Q({}, 1);
    const before = q.s;
    q.count(5, -1);
    q.count(6, Number.NaN);
    q.count(7, 1.5);
    expect(q.s).toBe(before);
  });

  test("initialQuorum can take the first scan's count", () => {
    expect(initialQuorum(params({ quorum: 2 }), 0, 3).up).toBe(true);
    expect(initialQuorum(params({ quorum: 2 }), 0, 1).up).toBe(false);
  });

  const LEVEL: [rule: string, p: Partial<QuorumParams>, count: number, up: boolean][] = [
    ["default quorum 1: one process is enough", {}, 1, true],
    ["default quorum 1: none is a loss", {}, 0, false],
    ["default quorum_max is unlimited", {}, 10_000, true],
    ["quorum 3: two are not enough", { quorum: 3 }, 2, false],
    ["quorum_max 2: three are too many", { quorum: 1, quorumMax: 2 }, 3, false],
    ["quorum_max 0 (quorum 0): up while none runs", { quorum: 0, quorumMax: 0 }, 0, true],
    ["quorum_max 0 (quorum 0): down if any runs", { quorum: 0, quorumMax: 0 }, 1, false],
  ];
  for (const [rule, p, count, up] of LEVEL)
    test(rule, () => {
      expect(new Q(p, count).s.up).toBe(up);
    });
});

describe("delays on process events (track_process.c)", () => {
  test("an exit losing quorum is reported only after terminate_delay", () => {
    const q = new Q({ terminateDelayMs: 5000 }, 1);
    expect(q.count(1000, 0)).toBe(true);
    expect(nextDeadline(q.s)).toBe(6000);
    expect(q.tick(5999)).toBe(true);
    expect(q.tick(6000)).toBe(false);
    expect(q.changes).toEqual([[6000, false]]);
  });

  test("a fork back within terminate_delay cancels it: no change at all", () => {
    const q = new Q({ terminateDelayMs: 5000, forkDelayMs: 5000 }, 1);
    q.count(1000, 0);
    expect(q.count(3000, 1)).toBe(true);
    expect(nextDeadline(q.s)).toBeUndefined();
    q.runUntil(20_000);
    expect(q.changes).toEqual([]);
  });

  test("a fork regaining quorum is reported after fork_delay", () => {
    const q = new Q({ forkDelayMs: 2000 }, 0);
    expect(q.count(1000, 1)).toBe(false);
    q.runUntil(10_000);
    expect(q.changes).toEqual([[3000, true]]);
  });

  test("an exit within fork_delay cancels the fork timer and decides at once", () => {
    const q = new Q({ forkDelayMs: 2000, terminateDelayMs: 9000 }, 0);
    q.count(1000, 1);
    expect(q.count(1500, 0)).toBe(false);
    expect(nextDeadline(q.s)).toBeUndefined();
    expect(q.changes).toEqual([]);
  });

  test("without delays every crossing decides at once", () => {
    const q = new Q({ quorum: 2 }, 0);
    q.count(1, 1);
    q.count(2, 2);
    q.count(3, 3);
    q.count(4, 1);
    expect(q.changes).toEqual([
      [2, true],
      [4, false],
    ]);
  });

  test("counts that do not cross a boundary are not looked at", () => {
    const q = new Q({ quorum: 2, terminateDelayMs: 1000 }, 5);
    q.count(10, 4);
    q.count(20, 3);
    expect(nextDeadline(q.s)).toBeUndefined();
    q.count(30, 1);
    expect(nextDeadline(q.s)).toBe(1030);
  });

  test("fork_delay also delays a loss by exceeding quorum_max", () => {
    const q = new Q({ quorumMax: 1, forkDelayMs: 2000, terminateDelayMs: 3000 }, 1);
    expect(q.count(1000, 2)).toBe(true);
    q.runUntil(3000);
    expect(q.changes).toEqual([[3000, false]]);
  });

  test("terminate_delay also delays a regain by falling back to quorum_max", () => {
    const q = new Q({ quorumMax: 1, terminateDelayMs: 3000 }, 2);
    expect(q.s.up).toBe(false);
    expect(q.count(1000, 1)).toBe(false);
    q.runUntil(9999);
    expect(q.changes).toEqual([[4000, true]]);
  });

  test("quorum_max 0: the first process is a loss, its exit a regain", () => {
    const q = new Q({ quorum: 0, quorumMax: 0 }, 0);
    q.count(100, 1);
    q.count(200, 0);
    expect(q.changes).toEqual([
      [100, false],
      [200, true],
    ]);
  });

  test("a jump of several processes visits each boundary in order", () => {
    const q = new Q({ quorum: 2, quorumMax: 3 }, 0);
    // Through 2 (gained) and 4 (lost): the verdict ends down, having been up in between.
    expect(q.count(50, 5)).toBe(false);
    expect(q.count(60, 0)).toBe(false);
    const r = new Q({ quorum: 2, quorumMax: 3 }, 0);
    expect(r.count(50, 3)).toBe(true);
  });
});

describe("exec and name changes: no delay (check_process, remove_process_from_track)", () => {
  test("a process that starts matching by exec counts at once, despite fork_delay", () => {
    const q = new Q({ forkDelayMs: 5000 }, 0);
    expect(q.count(100, 1, "exec")).toBe(true);
    expect(nextDeadline(q.s)).toBeUndefined();
  });

  test("a process that stops matching counts at once and cancels a pending fork timer", () => {
    const q = new Q({ forkDelayMs: 5000, terminateDelayMs: 5000 }, 1);
    q.count(100, 2, "fork");
    q.count(200, 1, "exit");
    q.count(300, 0, "exec");
    expect(q.s.up).toBe(false);
    expect(q.changes).toEqual([[300, false]]);
  });

  test("exec gaining quorum cancels a pending terminate timer", () => {
    const q = new Q({ terminateDelayMs: 5000 }, 1);
    q.count(100, 0, "exit");
    expect(nextDeadline(q.s)).toBe(5100);
    q.count(200, 1, "exec");
    expect(nextDeadline(q.s)).toBeUndefined();
    expect(q.changes).toEqual([]);
  });
});

describe("keepalived's timer bookkeeping", () => {
  test("a second fork timer orphans the first, which still fires and re-reads the level", () => {
    // quorum 1..1, fork_delay 5 s, terminate_delay 3 s.
    const q = new Q({ quorumMax: 1, forkDelayMs: 5000, terminateDelayMs: 3000 }, 0);
    q.count(0, 1); // reaches quorum: fork timer A at 5000
    q.count(1000, 2); // exceeds quorum_max: fork timer B at 6000, A orphaned
    q.tick(5000); // A: level(2) is down; pointer cleared
    expect(q.s.up).toBe(false);
    q.count(5500, 1); // back to quorum_max by exit: no fork pointer, terminate timer at 8500
    q.tick(6000); // B still fires: level(1) is up, before terminate_delay has passed
    expect(q.changes).toEqual([[6000, true]]);
    q.runUntil(20_000);
    expect(q.changes).toEqual([[6000, true]]);
  });

  test("a rescan cancels pending timers; a count on the same side drops the pending change", () => {
    const q = new Q({ terminateDelayMs: 5000 }, 1);
    q.count(100, 0, "exit");
    q.count(200, 0, "rescan");
    expect(nextDeadline(q.s)).toBeUndefined();
    q.runUntil(60_000);
    // keepalived never re-reads: it still believes in the quorum.
    expect(q.s.up).toBe(true);
    expect(q.changes).toEqual([]);
  });

  test("a rescan across a boundary waits fork_delay for a gain and terminate_delay for a loss", () => {
    const q = new Q({ quorum: 2, forkDelayMs: 1000, terminateDelayMs: 4000 }, 0);
    q.count(0, 3, "rescan");
    expect(nextDeadline(q.s)).toBe(1000);
    q.runUntil(1000);
    q.count(2000, 1, "rescan");
    q.runUntil(10_000);
    expect(q.changes).toEqual([
      [1000, true],
      [6000, false],
    ]);
  });

  test("a rescan without delays decides at once", () => {
    const q = new Q({}, 0);
    q.count(10, 2, "rescan");
    expect(q.changes).toEqual([[10, true]]);
  });
});
