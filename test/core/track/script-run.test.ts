import { describe, expect, test } from "bun:test";
import {
  initialRun,
  nextDeadline,
  type RunAction,
  type RunEvent,
  type RunState,
  stepRun,
} from "../../../src/core/track/script-run.ts";

/** A tiny driver: feeds events at given times and records what came out. */
class Driver {
  s: RunState;
  log: { atMs: number; a: RunAction }[] = [];
  constructor(p: Parameters<typeof initialRun>[0], nowMs = 0) {
    this.s = initialRun(p, nowMs);
  }
  at(nowMs: number, e: RunEvent = { type: "tick" }): RunAction[] {
    const r = stepRun(this.s, e, nowMs);
    this.s = r.state;
    for (const a of r.actions) this.log.push({ atMs: nowMs, a });
    return [...r.actions];
  }
  /** Advance to each deadline up to `untilMs`, as the shell's timer would. */
  runUntil(untilMs: number): void {
    for (let t = nextDeadline(this.s); t <= untilMs; t = nextDeadline(this.s)) this.at(t);
  }
}

const kinds = (as: readonly RunAction[]) =>
  as.map((a) => (a.type === "signal" ? `signal ${a.sig}` : a.type));

describe("schedule (vrrp_scheduler.c:vrrp_init_script, vrrp_script_thread)", () => {
  test("the first run is due at once, not after one interval", () => {
    const d = new Driver({ intervalMs: 5000, timeoutMs: 1000 }, 1000);
    expect(nextDeadline(d.s)).toBe(1000);
    expect(kinds(d.at(1000))).toEqual(["spawn"]);
    expect(d.s.phase).toBe("starting");
  });

  test("the next run is one interval after the previous start, however long it ran", () => {
    const d = new Driver({ intervalMs: 3000, timeoutMs: 2500 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 42 });
    d.at(2400, { type: "exited", success: true });
    expect(nextDeadline(d.s)).toBe(3000);
    expect(kinds(d.at(3000))).toEqual(["spawn"]);
    expect(nextDeadline(d.s)).toBe(6000);
  });

  test("the interval counts from when the timer actually ran (a late tick shifts it)", () => {
    const d = new Driver({ intervalMs: 1000 });
    d.at(0);
    d.at(0, { type: "spawn-failed" });
    expect(kinds(d.at(1350))).toEqual(["spawn"]);
    expect(d.s.nextRunAtMs).toBe(2350);
  });

  test("a tick before any deadline does nothing", () => {
    const d = new Driver({ intervalMs: 1000 }, 0);
    d.at(0);
    d.at(0, { type: "spawned", pid: 7 });
    const before = d.s;
    expect(d.at(500)).toEqual([]);
    expect(d.s).toEqual(before);
  });

  test("timeout defaults to the interval (system_call_script gets timeout ?: interval)", () => {
    expect(initialRun({ intervalMs: 2000 }, 0).timeoutMs).toBe(2000);
    expect(initialRun({ intervalMs: 2000, timeoutMs: 0 }, 0).timeoutMs).toBe(2000);
    expect(initialRun({ intervalMs: 2000, timeoutMs: 500 }, 0).timeoutMs).toBe(500);
  });

  test("non-positive periods are programming errors", () => {
    expect(() => initialRun({ intervalMs: 0 }, 0)).toThrow(RangeError);
    expect(() => initialRun({ intervalMs: 1000, killAfterMs: 0 }, 0)).toThrow(RangeError);
  });
});

describe("a normal run", () => {
  test("idle → starting → running → idle with the exit's result", () => {
    const d = new Driver({ intervalMs: 1000, timeoutMs: 800 });
    expect(kinds(d.at(0))).toEqual(["spawn"]);
    expect(d.at(1, { type: "spawned", pid: 9 })).toEqual([]);
    expect(d.s).toMatchObject({ phase: "running", pid: 9, childAtMs: 801 });
    expect(d.at(300, { type: "exited", success: false })).toEqual([
      { type: "result", success: false, timedOut: false },
    ]);
    expect(d.s).toMatchObject({ phase: "idle", pid: undefined, childAtMs: undefined });
    expect(nextDeadline(d.s)).toBe(1000);
  });

  test("a spawn failure counts as a failure and frees the slot", () => {
    const d = new Driver({ intervalMs: 1000 });
    d.at(0);
    expect(d.at(0, { type: "spawn-failed" })).toEqual([
      { type: "result", success: false, timedOut: false },
    ]);
    expect(d.s.phase).toBe("idle");
    expect(kinds(d.at(1000))).toEqual(["spawn"]);
  });

  test("events that do not fit the phase are ignored", () => {
    const d = new Driver({ intervalMs: 1000 });
    const s0 = d.s;
    expect(d.at(0, { type: "exited", success: true })).toEqual([]);
    expect(d.at(0, { type: "spawned", pid: 3 })).toEqual([]);
    expect(d.at(0, { type: "spawn-failed" })).toEqual([]);
    expect(d.s).toEqual(s0);
  });
});

describe("overrun: skip, SIGTERM, SIGKILL (vrrp_script_child_thread)", () => {
  test("a run still going at the next interval is skipped and logged as already running", () => {
    const d = new Driver({ intervalMs: 1000, timeoutMs: 5000 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 5 });
    expect(d.at(1000)).toEqual([{ type: "skipped", reason: "already running" }]);
    expect(d.at(2000)).toEqual([{ type: "skipped", reason: "already running" }]);
    expect(d.s.phase).toBe("running");
  });

  test("idle → running → terminating → killing → idle, TERM then KILL 2 s later", () => {
    const d = new Driver({ intervalMs: 10_000, timeoutMs: 3000 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 77 });
    expect(d.at(3000)).toEqual([
      { type: "timed-out", pid: 77 },
      { type: "signal", sig: "SIGTERM", pid: 77 },
    ]);
    expect(d.s.phase).toBe("terminating");
    expect(nextDeadline(d.s)).toBe(5000);
    expect(d.at(5000)).toEqual([{ type: "signal", sig: "SIGKILL", pid: 77 }]);
    expect(d.s.phase).toBe("killing");
    expect(d.at(5100, { type: "exited", success: false, signal: "SIGKILL" })).toEqual([
      { type: "result", success: false, timedOut: true },
    ]);
    expect(d.s.phase).toBe("idle");
  });

  test("a process that will not die gets SIGKILL again after 2 s, then every 10 s", () => {
    const d = new Driver({ intervalMs: 60_000, timeoutMs: 1000 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 8 });
    d.runUntil(30_000);
    const signals = d.log
      .filter((x) => x.a.type === "signal")
      .map((x) => [x.atMs, (x.a as { sig: string }).sig]);
    expect(signals).toEqual([
      [1000, "SIGTERM"],
      [3000, "SIGKILL"],
      [5000, "SIGKILL"],
      [15_000, "SIGKILL"],
      [25_000, "SIGKILL"],
    ]);
    expect(d.log.filter((x) => x.a.type === "result")).toEqual([]);
  });

  test("while being timed out, due runs are skipped as 'being timed out'", () => {
    const d = new Driver({ intervalMs: 1000, timeoutMs: 1500 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 4 });
    expect(kinds(d.at(1000))).toEqual(["skipped"]);
    d.at(1500);
    expect(d.at(2000)).toEqual([{ type: "skipped", reason: "being timed out" }]);
    expect(d.at(3000)).toEqual([{ type: "skipped", reason: "being timed out" }]);
    expect(kinds(d.at(3500))).toEqual(["signal SIGKILL"]);
    expect(d.s.phase).toBe("killing");
    expect(d.at(4000)).toEqual([{ type: "skipped", reason: "being timed out" }]);
  });

  test("with timeout = interval, the due run is skipped before the SIGTERM (timers before child timeouts)", () => {
    const d = new Driver({ intervalMs: 1000 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 6 });
    expect(kinds(d.at(1000))).toEqual(["skipped", "timed-out", "signal SIGTERM"]);
  });

  test("the timeout is counted once, when the process dies of the SIGTERM", () => {
    const d = new Driver({ intervalMs: 500, timeoutMs: 1200 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 12 });
    d.runUntil(1900);
    expect(d.log.filter((x) => x.a.type === "result")).toEqual([]);
    const out = d.at(1950, { type: "exited", success: false, signal: "SIGTERM" });
    // keepalived SIGKILLs the group after its SIGTERM worked, for leftover children.
    expect(out).toEqual([
      { type: "signal", sig: "SIGKILL", pid: 12 },
      { type: "result", success: false, timedOut: true },
    ]);
    d.runUntil(10_000);
    expect(d.log.filter((x) => x.a.type === "result")).toHaveLength(1);
    expect(d.log.filter((x) => x.a.type === "timed-out")).toHaveLength(1);
  });

  test("a script that traps SIGTERM and exits 0 counts as a success (seen with keepalived 2.2.7)", () => {
    const d = new Driver({ intervalMs: 3000, timeoutMs: 1000 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 21 });
    d.at(1000);
    expect(d.at(1001, { type: "exited", success: true })).toEqual([
      { type: "result", success: true, timedOut: false },
    ]);
  });

  test("a non-zero exit after SIGTERM is a plain failure, and no group SIGKILL", () => {
    const d = new Driver({ intervalMs: 3000, timeoutMs: 1000 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 22 });
    d.at(1000);
    expect(d.at(1001, { type: "exited", success: false })).toEqual([
      { type: "result", success: false, timedOut: false },
    ]);
  });

  test("death by another signal while running is a failure, not a timeout", () => {
    const d = new Driver({ intervalMs: 3000, timeoutMs: 1000 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 23 });
    expect(d.at(10, { type: "exited", success: false, signal: "SIGSEGV" })).toEqual([
      { type: "result", success: false, timedOut: false },
    ]);
  });

  test("after the exit a new run starts on schedule", () => {
    const d = new Driver({ intervalMs: 1000, timeoutMs: 1500 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 31 });
    d.runUntil(3600);
    d.at(3700, { type: "exited", success: false, signal: "SIGKILL" });
    expect(nextDeadline(d.s)).toBe(4000);
    expect(kinds(d.at(4000))).toEqual(["spawn"]);
  });

  test("a late tick handles every due deadline in order, re-arming from the tick's time", () => {
    const d = new Driver({ intervalMs: 1000, timeoutMs: 700 });
    d.at(0);
    d.at(0, { type: "spawned", pid: 40 });
    // Due: the timeout (700) then the run (1000). Like keepalived's timers, the next ones
    // count from when the handler ran (time_now), so the SIGKILL comes 2 s after 3000.
    expect(kinds(d.at(3000))).toEqual(["timed-out", "signal SIGTERM", "skipped"]);
    expect(d.s.nextRunAtMs).toBe(4000);
    expect(d.s.childAtMs).toBe(5000);
  });
});
