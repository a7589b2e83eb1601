/**
 * Seeded random runs of the tracker core. Every run prints its seeds; a failure names the
 * seed and the step.
 *
 *   TRACK_SEEDS=5000 bun test test/core/track/property.test.ts   more seeds
 *   SEED=1234 bun test test/core/track/property.test.ts          replay one seed
 */
import { expect, test } from "bun:test";
import { mulberry32 } from "../../../src/core/prng.ts";
import { evaluate, type TrackedItem } from "../../../src/core/track/priority.ts";
import {
  initialQuorum,
  inRange,
  type QuorumCause,
  type QuorumState,
  nextDeadline as quorumDeadline,
  stepQuorum,
} from "../../../src/core/track/process-quorum.ts";
import {
  initialScript,
  onScriptResult,
  type ScriptResult,
  type ScriptResultParams,
  scriptUp,
} from "../../../src/core/track/script-result.ts";
import {
  initialRun,
  type RunAction,
  type RunEvent,
  type RunState,
  nextDeadline as runDeadline,
  stepRun,
} from "../../../src/core/track/script-run.ts";
import type { TrackBinding, TrackerKind, TrackerStatus } from "../../../src/core/track/types.ts";

const ONE = process.env.SEED;
const SEEDS = ONE
  ? [Number(ONE)]
  : Array.from({ length: Number(process.env.TRACK_SEEDS ?? 300) }, (_, i) => i + 1);
const seedsText = ONE ? `seed ${ONE}` : `seeds 1..${SEEDS.length} (SEED=n replays one)`;

type Rnd = () => number;
const int = (r: Rnd, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

/** One periodic script as the shell would run it: run machine + result counter + process. */
interface Script {
  binding: TrackBinding;
  p: ScriptResultParams;
  run: RunState;
  res: ScriptResult;
  /** The simulated process: when it exits on its own, and whether it ignores SIGTERM. */
  proc?: {
    pid: number;
    exitAtMs: number;
    success: boolean;
    ignoresTerm: boolean;
    diesAtMs?: number;
  };
  /** Bookkeeping for the invariants. */
  inRun: boolean;
  termSent: boolean;
}

function scriptRun(r: Rnd, seed: number, steps: number): string[] {
  const bad: string[] = [];
  const fail = (step: number, what: string) => bad.push(`seed ${seed} step ${step}: ${what}`);
  let nowMs = 0;
  let nextPid = 100;
  const n = int(r, 1, 4);
  const scripts: Script[] = [];
  for (let i = 0; i < n; i++) {
    const p = { rise: int(r, 1, 4), fall: int(r, 1, 4), initFail: r() < 0.2, weight: 0 };
    const intervalMs = pick(r, [200, 1000, 2000, 5000]);
    const timeoutMs = pick(r, [0, 100, intervalMs, 3 * intervalMs]);
    scripts.push({
      binding: {
        kind: pick(r, ["script", "http"] as const),
        name: `s${i}`,
        weight: r() < 0.3 ? 0 : int(r, -253, 253),
        reverse: r() < 0.3,
      },
      p,
      run: initialRun({ intervalMs, timeoutMs }, 0),
      res: initialScript(p),
      inRun: false,
      termSent: false,
    });
  }
  const base = int(r, 1, 254);

  const apply = (sc: Script, e: RunEvent, step: number): void => {
    const out = stepRun(sc.run, e, nowMs);
    sc.run = out.state;
    for (const a of out.actions) act(sc, a, step);
  };
  const act = (sc: Script, a: RunAction, step: number): void => {
    switch (a.type) {
      case "spawn":
        if (sc.inRun) fail(step, `${sc.binding.name}: a second spawn before the first ended`);
        sc.inRun = true;
        sc.termSent = false;
        if (r() < 0.1) apply(sc, { type: "spawn-failed" }, step);
        else {
          sc.proc = {
            pid: nextPid++,
            exitAtMs: nowMs + int(r, 0, 4 * sc.run.intervalMs),
            success: r() < 0.6,
            ignoresTerm: r() < 0.3,
          };
          apply(sc, { type: "spawned", pid: sc.proc.pid }, step);
        }
        break;
      case "signal":
        if (!sc.proc && !(a.sig === "SIGKILL" && sc.termSent))
          fail(step, `${sc.binding.name}: a signal with no process`);
        if (sc.proc && a.pid !== sc.proc.pid)
          fail(step, `${sc.binding.name}: signal to pid ${a.pid}`);
        if (a.sig === "SIGKILL" && !sc.termSent)
          fail(step, `${sc.binding.name}: SIGKILL before SIGTERM`);
        if (a.sig === "SIGTERM") sc.termSent = true;
        if (
          sc.proc &&
          sc.proc.diesAtMs === undefined &&
          (a.sig === "SIGKILL" || !sc.proc.ignoresTerm)
        )
          sc.proc.diesAtMs = nowMs + int(r, 0, 50);
        break;
      case "result": {
        if (!sc.inRun) fail(step, `${sc.binding.name}: a result outside a run`);
        sc.inRun = false;
        sc.res = onScriptResult(sc.res, a.success, sc.p).state;
        break;
      }
      case "skipped":
        if (!sc.inRun) fail(step, `${sc.binding.name}: skipped while idle`);
        break;
      case "timed-out":
        break;
    }
  };

  for (let step = 0; step < steps; step++) {
    // The shell: wake at the earliest deadline or process exit, deliver it.
    let wake = Number.POSITIVE_INFINITY;
    for (const sc of scripts) {
      wake = Math.min(wake, runDeadline(sc.run));
      if (sc.proc) wake = Math.min(wake, sc.proc.diesAtMs ?? sc.proc.exitAtMs, sc.proc.exitAtMs);
    }
    if (wake < nowMs) fail(step, `a deadline in the past: ${wake} < ${nowMs}`);
    nowMs = Math.max(nowMs, wake) + (r() < 0.2 ? int(r, 0, 300) : 0);
    for (const sc of scripts) {
      const pr = sc.proc;
      if (pr && Math.min(pr.exitAtMs, pr.diesAtMs ?? Number.POSITIVE_INFINITY) <= nowMs) {
        delete sc.proc;
        const killed = pr.diesAtMs !== undefined && pr.diesAtMs <= pr.exitAtMs;
        const e: RunEvent = killed
          ? { type: "exited", success: false, signal: pick(r, ["SIGTERM", "SIGKILL"]) }
          : { type: "exited", success: pr.success };
        apply(sc, e, step);
      }
      apply(sc, { type: "tick" }, step);
      if (runDeadline(sc.run) <= nowMs)
        fail(step, `${sc.binding.name}: a due deadline left after tick`);
      // Noise: events that do not belong here must change nothing.
      if (r() < 0.05) {
        const before = sc.run;
        if (sc.run.phase === "idle") {
          apply(sc, { type: "exited", success: true }, step);
          if (sc.run !== before) fail(step, `${sc.binding.name}: a stray exit changed an idle run`);
        }
      }
    }
    const items: TrackedItem[] = scripts.map((sc) => ({
      binding: sc.binding,
      status: { kind: "updown", up: scriptUp(sc.res) },
    }));
    const e = evaluate(base, items);
    if (e.effective < 1 || e.effective > 254)
      fail(step, `effective ${e.effective} for base ${base}`);
  }
  return bad;
}

test(`script runs: no SIGKILL before SIGTERM, no spawn before the last exit, priority in 1..254 (${seedsText})`, () => {
  console.log(`script runs: ${seedsText}`);
  const bad: string[] = [];
  for (const seed of SEEDS) bad.push(...scriptRun(mulberry32(seed), seed, 300));
  expect(bad.slice(0, 5)).toEqual([]);
});

const KINDS: readonly TrackerKind[] = ["script", "interface", "process", "file", "http", "group"];

function randomStatus(r: Rnd, kind: TrackerKind): TrackerStatus {
  if (kind === "file")
    return {
      kind: "value",
      value: pick(r, [0, 1, -1, int(r, -300, 300), int(r, -(2 ** 31), 2 ** 31)]),
    };
  return { kind: "updown", up: pick(r, [true, false, undefined]) };
}

test(`evaluate: effective priority stays in 1..254 below the owner, 255 for it (${seedsText})`, () => {
  console.log(`evaluate: ${seedsText}`);
  const bad: string[] = [];
  for (const seed of SEEDS) {
    const r = mulberry32(seed);
    const bindings: TrackBinding[] = Array.from({ length: int(r, 0, 12) }, (_, i) => {
      const kind = pick(r, KINDS);
      const range = kind === "file" || kind === "process" ? 254 : 253;
      return {
        kind,
        name: `t${i}`,
        weight: r() < 0.25 ? 0 : int(r, -range, range),
        reverse: r() < 0.3,
      };
    });
    const owner = r() < 0.2;
    const base = owner ? 255 : int(r, 1, 254);
    for (let step = 0; step < 50; step++) {
      const items = bindings.map((b) => ({ binding: b, status: randomStatus(r, b.kind) }));
      const e = evaluate(base, items);
      const ok = owner ? e.effective === 255 : e.effective >= 1 && e.effective <= 254;
      if (!ok || !Number.isInteger(e.effective))
        bad.push(`seed ${seed}: base ${base} → ${e.effective}`);
      const sorted = [...new Set(e.faults)].sort();
      if (JSON.stringify(sorted) !== JSON.stringify(e.faults))
        bad.push(`seed ${seed}: faults not sorted/unique`);
    }
  }
  expect(bad.slice(0, 5)).toEqual([]);
});

test(`quorum: no due timer survives a tick; settled without timers (no rescan) (${seedsText})`, () => {
  console.log(`quorum: ${seedsText}`);
  const bad: string[] = [];
  for (const seed of SEEDS) {
    const r = mulberry32(seed);
    const quorumMax = pick(r, [0, 1, 2, 3, Number.POSITIVE_INFINITY]);
    const quorum = quorumMax === 0 ? 0 : int(r, 1, Math.min(3, quorumMax));
    const p = {
      quorum,
      quorumMax,
      forkDelayMs: pick(r, [0, 500, 2000]),
      terminateDelayMs: pick(r, [0, 500, 3000]),
    };
    const withRescan = r() < 0.5;
    let s: QuorumState = initialQuorum(p, 0);
    let nowMs = 0;
    let count = int(r, 0, 4);
    s = stepQuorum(s, { type: "count", count }, nowMs).state;
    for (let step = 0; step < 200; step++) {
      nowMs += int(r, 0, 1500);
      const due = quorumDeadline(s);
      if (due !== undefined && due <= nowMs) {
        s = stepQuorum(s, { type: "tick" }, nowMs).state;
        const left = quorumDeadline(s);
        if (left !== undefined && left <= nowMs)
          bad.push(`seed ${seed} step ${step}: due timer left`);
      }
      const causes: (QuorumCause | undefined)[] = [undefined, "fork", "exit", "exec"];
      if (withRescan) causes.push("rescan");
      const cause = pick(r, causes);
      count = Math.max(
        0,
        count + (cause === "rescan" ? int(r, -3, 3) : pick(r, [-1, 1, 0, 2, -2])),
      );
      s = stepQuorum(
        s,
        cause ? { type: "count", count, cause } : { type: "count", count },
        nowMs,
      ).state;
      if (!withRescan && s.timers.length === 0 && s.up !== inRange(p, count))
        bad.push(`seed ${seed} step ${step}: no timer pending but up=${s.up} for count ${count}`);
    }
  }
  expect(bad.slice(0, 5)).toEqual([]);
});
