/**
 * The trackers' shell: it runs vrrp_scripts and track_http probes on their schedules,
 * listens to the process and file watchers and to link changes, and keeps each tracker's
 * status. The decisions are the core's (core/track): when to run, kill, count a result,
 * declare quorum. Changes are reported to the agent, which turns them into priority and
 * fault events for the instances that bind the tracker.
 */
import type { ConsolaInstance } from "consola";
import type { Model } from "../config/model.ts";
import {
  initialQuorum,
  nextDeadline as quorumDeadline,
  stepQuorum,
} from "../core/track/process-quorum.ts";
import { initialScript, onScriptResult, scriptUp } from "../core/track/script-result.ts";
import { initialRun, nextDeadline as runDeadline, stepRun } from "../core/track/script-run.ts";
import type { TrackerStatus } from "../core/track/types.ts";
import type { ScriptProc, Stoppable, TrackerIo } from "./io.ts";
import { type TrackPlan, trackerKey, usedTrackers } from "./track-plan.ts";
import { httpTracker, processTracker, type ScriptDef, scriptTracker } from "./tracker-defs.ts";

type RunState = ReturnType<typeof initialRun>;
type ResultState = ReturnType<typeof initialScript>;
type QuorumState = ReturnType<typeof initialQuorum>;

/** A periodic checker: a vrrp_script (a process) or a track_http probe (a request). */
interface Periodic {
  readonly key: string;
  def: ScriptDef;
  /** The model block it came from, to tell an unchanged tracker on reload. */
  source: string;
  run: RunState;
  result: ResultState;
  proc?: ScriptProc;
  /** Where a run's exit goes: the host that owns it now (a reload hands it over). */
  onExit?: (success: boolean, signal?: string) => void;
}

/** The model block behind a tracker, as text: equal text, same tracker (reload). */
function sourceOf(m: Model, kind: string, name: string): string {
  const table = {
    script: "vrrp_script",
    http: "track_http",
    process: "vrrp_track_process",
    file: "track_file",
  }[kind];
  const blocks = table
    ? (m as unknown as Record<string, Record<string, unknown> | undefined>)[table]
    : undefined;
  return JSON.stringify(blocks?.[name] ?? null);
}

export class TrackerHost {
  private readonly status = new Map<string, TrackerStatus>();
  private readonly periodic: Periodic[] = [];
  private readonly quorum = new Map<string, QuorumState>();
  private readonly watchers: Stoppable[] = [];
  private stopped = false;
  private armedAt: number | undefined;
  /** Script runs that hit their timeout (status and metrics). */
  timeouts = 0;

  constructor(
    private readonly m: Model,
    private readonly plan: TrackPlan,
    private readonly io: TrackerIo,
    private readonly log: ConsolaInstance,
    /** Statuses changed: the agent re-evaluates the instances binding these keys. */
    private readonly onChange: (keys: readonly string[]) => void,
    private readonly nowMs: () => number,
  ) {}

  /** The current verdict of a tracker (`kind:name`); undefined if unknown. */
  get(key: string): TrackerStatus | undefined {
    return this.status.get(key);
  }

  /**
   * Start every bound tracker. On a reload, `previous` is the host being replaced: a tracker
   * whose block did not change keeps its status (and a script its schedule, counter and any
   * run in progress), so an unchanged configuration moves no priority and no state.
   */
  start(linkUp: (ifname: string) => boolean, previous?: TrackerHost): void {
    const now = this.nowMs();
    previous?.retire();
    for (const [key, t] of usedTrackers(this.plan)) {
      const source = sourceOf(this.m, t.kind, t.name);
      const kept = previous?.adoptable(key, source);
      if (kept) {
        this.status.set(key, kept.status);
        if (kept.periodic) {
          kept.periodic.onExit = this.exitHandler(kept.periodic);
          this.periodic.push(kept.periodic);
          continue;
        }
        if (t.kind === "interface") continue;
      }
      switch (t.kind) {
        case "interface":
          this.status.set(key, { kind: "updown", up: linkUp(t.name) });
          break;
        case "script":
        case "http": {
          const def =
            t.kind === "script" ? scriptTracker(this.m, t.name) : httpTracker(this.m, t.name);
          if (!def) break;
          const p: Periodic = {
            key,
            def,
            source,
            run: initialRun(def.run, now),
            result: initialScript(def.result),
          };
          p.onExit = this.exitHandler(p);
          this.periodic.push(p);
          this.status.set(key, { kind: "updown", up: scriptUp(p.result) });
          break;
        }
        case "process":
          this.startProcess(key, t.name, now, kept?.status);
          break;
        case "file":
          this.startFile(key, t.name, kept?.status);
          break;
        case "group":
          break;
      }
    }
    // What the old host still runs and we did not take over is stopped now.
    for (const p of previous?.periodic ?? []) p.proc?.signal("SIGTERM");
    for (const p of this.periodic) this.stepPeriodic(p, { type: "tick" }, now);
    this.arm();
  }

  /** Replaced by a reload: stop watching and deciding; the timer is the new host's now. */
  private retire(): void {
    this.stopped = true;
    for (const w of this.watchers) w.stop();
  }

  /** What a reload may keep of tracker `key`, if its block is unchanged (see start). */
  private adoptable(
    key: string,
    source: string,
  ): { status: TrackerStatus; periodic?: Periodic } | undefined {
    const status = this.status.get(key);
    if (!status) return undefined;
    const i = this.periodic.findIndex((x) => x.key === key);
    const p = this.periodic[i];
    if (!p) return { status };
    if (p.source !== source) return undefined;
    // Handed over: this host no longer runs it, nor signals it when it stops.
    this.periodic.splice(i, 1);
    return { status, periodic: p };
  }

  private exitHandler(p: Periodic): (success: boolean, signal?: string) => void {
    return (success, signal) => {
      if (!this.stopped)
        this.stepPeriodic(
          p,
          { type: "exited", success, ...(signal ? { signal } : {}) },
          this.nowMs(),
        );
    };
  }

  /** Arm the trackers' timer for the earliest deadline, if it moved. */
  private arm(): void {
    if (this.stopped) return;
    const next = this.nextDeadline();
    if (next === this.armedAt) return;
    this.armedAt = next;
    this.io.scheduleTracker(next, () => {
      this.armedAt = undefined;
      this.onTimer(this.nowMs());
      this.arm();
    });
  }

  /** SIGTERM every running script (keepalived does so first at shutdown, §2.17). */
  stop(): void {
    this.stopped = true;
    this.io.scheduleTracker(undefined, () => {});
    for (const w of this.watchers) w.stop();
    for (const p of this.periodic) p.proc?.signal("SIGTERM");
  }

  /** A link changed: interface trackers follow it. */
  link(ifname: string, up: boolean): void {
    const key = trackerKey({ kind: "interface", name: ifname });
    const had = this.status.get(key);
    if (!had || (had.kind === "updown" && had.up === up)) return;
    this.status.set(key, { kind: "updown", up });
    this.onChange([key]);
  }

  private nextDeadline(): number | undefined {
    let next: number | undefined;
    const take = (t: number | undefined) => {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    };
    for (const p of this.periodic) take(runDeadline(p.run));
    for (const q of this.quorum.values()) take(quorumDeadline(q));
    return next;
  }

  /** Deadlines ≤ now: run due scripts, signal overdue ones, settle process quorums. */
  private onTimer(now: number): void {
    if (this.stopped) return;
    for (const p of this.periodic) {
      const t = runDeadline(p.run);
      // The clock is read again for each script, as keepalived does before each fork
      // (scheduler.c set_time_now): a run is spaced from its own start, not from the
      // start of a turn in which 200 others were spawned first.
      if (t !== undefined && t <= now) this.stepPeriodic(p, { type: "tick" }, this.nowMs());
    }
    for (const [key, q] of this.quorum) {
      const t = quorumDeadline(q);
      if (t !== undefined && t <= now) this.stepQuorumOf(key, { type: "tick" }, now);
    }
  }

  private stepPeriodic(p: Periodic, e: Parameters<typeof stepRun>[1], now: number): void {
    const res = stepRun(p.run, e, now);
    p.run = res.state;
    // An exit or a spawn moves this script's deadlines; the timer follows (onTimer re-arms
    // once after its whole pass).
    if (e.type !== "tick") this.arm();
    for (const a of res.actions) {
      switch (a.type) {
        case "spawn":
          this.spawn(p, now);
          break;
        case "signal":
          p.proc?.signal(a.sig);
          break;
        case "result":
          this.result(p, a.success);
          break;
        case "skipped":
          // keepalived's words (vrrp_scheduler.c), which operators grep for.
          this.log.warn(`Track script ${p.def.name} is ${a.reason}, expect idle - skipping run`);
          break;
        case "timed-out":
          this.timeouts++;
          this.log.warn(`${p.def.what} timed out`);
          break;
      }
    }
  }

  private spawn(p: Periodic, now: number): void {
    if (this.stopped) return;
    // The handle stays after the exit: a group SIGKILL may still follow (script-run.ts).
    const proc = p.def.start(this.io, (success, signal) => p.onExit?.(success, signal));
    if (proc) {
      p.proc = proc;
      this.stepPeriodic(p, { type: "spawned", pid: proc.pid }, now);
    } else this.stepPeriodic(p, { type: "spawn-failed" }, now);
  }

  private result(p: Periodic, success: boolean): void {
    const r = onScriptResult(p.result, success, p.def.result);
    p.result = r.state;
    const up = scriptUp(r.state);
    const had = this.status.get(p.key);
    if (had?.kind === "updown" && had.up === up) return;
    this.status.set(p.key, { kind: "updown", up });
    // keepalived's words (vrrp_track.c), which operators grep for.
    this.log.info(`${p.def.what} now returning ${up ? "success" : "failure"}`);
    this.onChange([p.key]);
  }

  private startProcess(key: string, name: string, now: number, kept?: TrackerStatus): void {
    const def = processTracker(this.m, name);
    if (!def) return;
    this.quorum.set(key, initialQuorum(def.quorum, now));
    for (const w of def.match.warnings) this.log.warn(`track_process ${name}: ${w}`);
    this.status.set(key, kept ?? { kind: "updown", up: undefined });
    this.watchers.push(
      this.io.watchProcesses([{ name, match: def.match }], (_n, count) =>
        this.stepQuorumOf(key, { type: "count", count }, this.nowMs()),
      ),
    );
  }

  private stepQuorumOf(key: string, e: Parameters<typeof stepQuorum>[1], now: number): void {
    const q = this.quorum.get(key);
    if (!q) return;
    const res = stepQuorum(q, e, now);
    this.quorum.set(key, res.state);
    if (e.type !== "tick") this.arm();
    const had = this.status.get(key);
    if (res.up === undefined || (had?.kind === "updown" && had.up === res.up)) return;
    this.status.set(key, { kind: "updown", up: res.up });
    this.log.info(`Quorum ${res.up ? "gained" : "lost"} for tracked process ${key.slice(8)}`);
    this.onChange([key]);
  }

  private startFile(key: string, name: string, kept?: TrackerStatus): void {
    const f = this.m.track_file[name];
    if (!f?.file) return;
    this.status.set(key, kept ?? { kind: "value", value: 0 });
    const init = f.init_file
      ? { value: f.init_file.value ?? 0, overwrite: f.init_file.overwrite ?? false }
      : undefined;
    this.watchers.push(
      this.io.watchFile(f.file, init, (v) => {
        const value = v ?? 0;
        const had = this.status.get(key);
        if (had?.kind === "value" && had.value === value) return;
        this.status.set(key, { kind: "value", value });
        this.onChange([key]);
      }),
    );
  }
}
