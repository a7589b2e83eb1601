/**
 * The agent's IPVS side (keepalived's checker child, reference §1.11–1.15, §6.2): runs the
 * real servers' checkers on one timer, keeps each real server's health, and after every
 * verdict change recomputes the table the kernel should hold (core/ipvs/desired.ts) and
 * applies the difference with what it last read from or wrote to the kernel
 * (core/ipvs/diff.ts). At start it reads the kernel first, so entries an earlier run
 * left behind are adopted without churn; at stop it removes what it owns (keepalived's
 * clear_services, check/ipwrapper.c) unless told to leave them.
 */
import type { Model } from "../config/model.ts";
import { realWeight } from "../core/check/file.ts";
import {
  type DesiredOptions,
  desiredTable,
  type Health,
  INITIAL_QUORUM_STATE,
  isSuspended,
  type QuorumEvent,
  type QuorumState,
  type RsInput,
  rsId,
  type VrrpView,
  type VsInput,
  vsId,
} from "../core/ipvs/desired.ts";
import { applyOps, diff, type Op } from "../core/ipvs/diff.ts";
import { destKey, serviceKey, type Table } from "../core/ipvs/table.ts";
import type { CheckProbeResult } from "../io/check-tcp.ts";
import { type CheckerRun, CheckerSet, type Settled } from "./ipvs-checker-set.ts";
import { buildCheckers } from "./ipvs-checkers.ts";
import { buildFileChecks, type FileCheckDef, FileChecks } from "./ipvs-file-checks.ts";
import type {
  IpvsHostIo,
  IpvsHostLog,
  IpvsHostOptions,
  RsEvent,
  RsHealth,
} from "./ipvs-host-types.ts";
import { opText, probeText, quorumText, startSummary, vsText } from "./ipvs-log.ts";

export type { ProbeSpec } from "./ipvs-checkers.ts";
export type {
  CheckerHealth,
  IpvsHostIo,
  IpvsHostLog,
  IpvsHostOptions,
  RsEvent,
  RsHealth,
} from "./ipvs-host-types.ts";

/** Ops handed to applyMany at a time (Ipvs.batch sends 64 per datagram). */
const SEND_CHUNK = 64;

export class IpvsHost {
  private readonly checkers: CheckerSet;
  private quorum: QuorumState = INITIAL_QUORUM_STATE;
  private current: Table = { services: [] };
  private readonly owned = new Set<string>();
  /** Last aggregate verdict per "vsId|rsId", for notify events. */
  private readonly alive = new Map<string, boolean>();
  private stale = true;
  /** The first reconcile after start is summarised in one line, as keepalived is quiet then. */
  private programmed = false;
  private running = false;
  private files: FileChecks;
  /** Each virtual server's and real server's index, rebuilt with the model. */
  private vsIndex = new Map<unknown, number>();
  private rsIndex = new Map<unknown, number>();

  constructor(
    private model: Model,
    private readonly io: IpvsHostIo,
    private readonly log: IpvsHostLog,
    nowMs: () => number,
    private readonly opts: IpvsHostOptions = {},
  ) {
    const { defs, notes } = buildCheckers(model);
    for (const n of notes) log.warn(n);
    this.checkers = new CheckerSet(
      defs,
      io,
      nowMs,
      () => this.suspendedVs(),
      (x) => this.onSettled(x),
    );
    this.files = this.fileChecks(model, new Map());
    this.indexModel(model);
  }

  private indexModel(model: Model): void {
    this.vsIndex = new Map(model.virtual_server.map((vs, i) => [vs, i]));
    this.rsIndex = new Map(
      model.virtual_server.flatMap((vs) => vs.real_server.map((rs, i) => [rs, i])),
    );
  }

  /** ha_suspend: the virtual servers whose checkers are held now. */
  private suspendedVs(): ReadonlySet<number> {
    return new Set(
      this.model.virtual_server.flatMap((vs, vi) =>
        isSuspended(this.model, vs, this.vrrp) ? [vi] : [],
      ),
    );
  }

  private fileChecks(model: Model, values: Map<string, number>): FileChecks {
    const { defs, notes } = buildFileChecks(model);
    for (const n of notes) this.log.warn(n);
    return new FileChecks(defs, this.opts.watchFile, values, (d) => this.onFileCheck(d));
  }

  /** Read the kernel, program the difference, start the checkers. */
  start(): void {
    // File checks know their verdict at once (check_file.c: has_run, no alpha): read the
    // files before anything runs, so their first values are the start state, not events.
    this.files.start();
    this.running = true;
    this.checkers.start();
    this.eachRs((vs, rs, vi, ri) => this.alive.set(rsKey(vs, rs), this.rsUp(vi, ri, rs)));
    this.reconcile();
  }

  /** Stop the checkers and, unless told otherwise, remove the services we own. */
  stop(): void {
    this.running = false;
    this.checkers.stop();
    this.files.stop();
    // ipwrapper.c clear_service_rs: an omega VS runs its live servers' down notifiers.
    this.eachRs((vs, rs, vi, ri) => {
      if (!vs.omega || this.alive.get(rsKey(vs, rs)) !== true) return;
      this.opts.onRealServer?.({
        type: "notify_down",
        vs: vsId(vs),
        rs: rsId(rs),
        vsIndex: vi,
        rsIndex: ri,
        stopping: true,
      });
    });
    const r = desiredTable(this.model, this.healthOf, this.vrrp, this.quorum, {
      ...this.desiredOpts(),
      stopping: true,
    });
    for (const e of r.events) this.quorumEvent(e);
    if (!this.opts.leaveOnStop) this.program({ services: [] }, "stop");
  }

  /**
   * A new configuration. A checker whose block is unchanged (same key and timing) keeps its
   * state and schedule, as keepalived carries checkers over a reload (check_api.c
   * migrate_checkers); the others start afresh. Quorum state carries over by VS name.
   * Services the old configuration owned and the new one drops are removed.
   */
  reload(model: Model): void {
    const { defs, notes } = buildCheckers(model);
    for (const n of notes) this.log.warn(n);
    this.model = model;
    this.indexModel(model);
    this.files.stop();
    // The files' last values carry over, so re-reading an unchanged file changes nothing.
    this.files = this.fileChecks(model, this.files.values);
    if (this.running) this.files.start();
    this.checkers.replace(defs);
    const alive = new Map<string, boolean>();
    this.eachRs((vs, rs, vi, ri) =>
      alive.set(rsKey(vs, rs), this.alive.get(rsKey(vs, rs)) ?? this.rsUp(vi, ri, rs)),
    );
    this.alive.clear();
    for (const [k, v] of alive) this.alive.set(k, v);
    if (this.running) this.reconcile();
  }

  /** Recompute and apply now (a VRRP state change under ha_suspend calls this). */
  reconcile(): void {
    const r = desiredTable(this.model, this.healthOf, this.vrrp, this.quorum, this.desiredOpts());
    this.quorum = r.quorum;
    for (const s of r.table.services) this.owned.add(serviceKey(s));
    this.program(r.table, this.programmed ? "run" : "start");
    this.programmed = true;
    // After the real servers' commands, as ipwrapper.c perform_svr_state runs
    // update_quorum_state last.
    for (const e of r.events) this.quorumEvent(e);
  }

  /** Whether a virtual server (by vsId) has its quorum; true before the first evaluation. */
  quorumUp(id: string): boolean {
    return this.quorum.vs[id]?.quorumUp ?? true;
  }

  /** The table as last read from or applied to the kernel. */
  table(): Table {
    return this.current;
  }

  health(): RsHealth[] {
    const out: RsHealth[] = [];
    this.eachRs((vs, rs, vi, ri) => {
      out.push({
        vs: vsId(vs),
        rs: rsId(rs),
        vsIndex: vi,
        rsIndex: ri,
        up: this.rsUp(vi, ri, rs),
        weight: this.weightOf(vs, rs) ?? rs.weight,
        checkers: this.checkersOf(vi, ri).map((c) => ({
          key: c.def.key,
          type: c.def.type,
          up: c.state.isUp,
          attempts: c.state.attempts,
          ...(c.lastReason !== undefined ? { lastReason: c.lastReason } : {}),
          ...(c.lastOk !== undefined ? { lastOk: c.lastOk } : {}),
          ...(c.lastLatencyMs !== undefined ? { lastLatencyMs: c.lastLatencyMs } : {}),
          ...(c.lastAtMs !== undefined ? { lastAtMs: c.lastAtMs } : {}),
        })),
      });
      const mine = out[out.length - 1];
      const files = this.files.of(vi, ri).map((d) => ({
        key: d.key,
        type: "FILE_CHECK",
        up: this.files.status(d) !== "fault",
        attempts: 0,
      }));
      if (mine && files.length)
        out[out.length - 1] = { ...mine, checkers: [...mine.checkers, ...files] };
    });
    return out;
  }

  private desiredOpts(): DesiredOptions {
    return {
      weightOf: this.weightOf,
      ...(this.opts.haSuspend !== undefined ? { haSuspend: this.opts.haSuspend } : {}),
    };
  }

  private checkersOf(vi: number, ri: number): readonly CheckerRun[] {
    return this.checkers.of(vi, ri);
  }

  /**
   * The weight checkers set: misc_dynamic moves it by what the last exit status asked for
   * beyond the configured weight, FILE_CHECK adds its value × weight (check_misc.c and
   * track_file.c cur_weight, both relative to the configured iweight).
   */
  private readonly weightOf = (vs: VsInput, rs: RsInput): number | undefined => {
    const vi = this.vsIndex.get(vs) ?? -1;
    const ri = this.rsIndex.get(rs) ?? -1;
    let delta = this.files.weightDelta(vi, ri);
    for (const c of this.checkersOf(vi, ri))
      if (c.dynWeight !== undefined) delta = (delta ?? 0) + c.dynWeight - rs.weight;
    return delta === undefined ? undefined : realWeight(rs.weight + delta);
  };

  private readonly vrrp = (instance: string): VrrpView =>
    this.opts.vrrpState?.(instance) ?? "MASTER";

  /** A real server is alive when every one of its checkers is up (check_api.c failed_checkers). */
  private rsUp(vi: number, ri: number, _rs: RsInput): boolean {
    return this.checkersOf(vi, ri).every((c) => c.state.isUp) && !this.files.faulted(vi, ri);
  }

  private readonly healthOf = (vs: VsInput, rs: RsInput): Health => {
    const vi = this.vsIndex.get(vs) ?? -1;
    const ri = this.rsIndex.get(rs) ?? -1;
    return this.rsUp(vi, ri, rs) ? "up" : "down";
  };

  private eachRs(f: (vs: VsInput, rs: RsInput, vi: number, ri: number) => void): void {
    for (const [vi, vs] of this.model.virtual_server.entries())
      for (const [ri, rs] of vs.real_server.entries()) f(vs, rs, vi, ri);
  }

  private quorumEvent(e: QuorumEvent): void {
    const vs = this.model.virtual_server.find((x) => vsId(x) === e.vs);
    for (const line of quorumText(e, vs ? vsText(vs, this.model) : e.vs, vs)) this.log.info(line);
    this.opts.onQuorum?.(e);
  }

  /** Diff against the kernel (re-read after a failure) and apply, op by op. */
  private program(want: Table, phase: "start" | "run" | "stop"): void {
    if (this.stale) {
      try {
        this.current = this.io.readTable();
        this.stale = false;
      } catch (e) {
        this.log.error(`cannot read the IPVS table: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
    const ops = diff(this.current, want, (s) => this.owned.has(serviceKey(s)));
    for (const op of ops) {
      // A diff touches each dest at most once, so the table before the batch still holds
      // the weight an edit replaces.
      const line =
        phase === "start"
          ? undefined
          : opText(op, op.op === "edit-dest" ? this.destWeight(op) : undefined, phase);
      if (line !== undefined) this.log.info(line);
    }
    const { done, error } = this.send(ops);
    if (error !== undefined) {
      const op = ops[done];
      this.log.error(
        `IPVS ${op?.op ?? "command"} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      // What the kernel holds is now uncertain: read it again before the next diff.
      this.stale = true;
    }
    if (done > 0)
      this.current = applyOps(this.current, done === ops.length ? ops : ops.slice(0, done));
    if (phase === "start") this.log.info(startSummary(ops.slice(0, done), want));
  }

  /** The ops in order, batched when the kernel side can; stops at the first refusal. */
  private send(ops: readonly Op[]): { done: number; error?: unknown } {
    const many = this.io.applyMany?.bind(this.io);
    if (ops.length > 1 && many) {
      // A chunk at a time: converting 10,000 ops up front keeps them all alive at once,
      // which costs more (page faults, GC) than the batching saves.
      for (let at = 0; at < ops.length; at += SEND_CHUNK) {
        const r = many(ops.slice(at, at + SEND_CHUNK));
        if (r.error !== undefined) return { done: at + r.done, error: r.error };
      }
      return { done: ops.length };
    }
    for (const [i, op] of ops.entries()) {
      try {
        this.io.apply(op);
      } catch (e) {
        return { done: i, error: e };
      }
    }
    return { done: ops.length };
  }

  private destWeight(op: Extract<Op, { op: "edit-dest" }>): number | undefined {
    const svc = this.current.services.find((x) => serviceKey(x) === serviceKey(op.service));
    return svc?.dests.find((x) => destKey(x) === destKey(op.dest))?.weight;
  }

  /** A probe's outcome, judged: log it, follow misc_dynamic, act on a changed verdict. */
  private onSettled({ c, res, out, before }: Settled): void {
    const changed = out.changed === true;
    const verdict = {
      ...(out.report !== undefined ? { report: out.report } : {}),
      changed,
      retry: c.def.timing.retry,
      hadRun: before.hasRun,
    };
    for (const line of probeText(c.def.type, c.def.label, res, verdict)) this.log.info(line);
    const weightMoved = this.noteWeight(c, res, out.state.isUp);
    this.afterVerdict(c.def.vsIndex, c.def.rsIndex, changed, weightMoved, {
      checker: c.def.type,
      ...(res.reason !== undefined && !res.ok ? { detail: res.reason } : {}),
      ...(res.reason === "timed out" && c.def.type === "MISC_CHECK" ? { timedOut: true } : {}),
    });
  }

  /** A track_file value changed a FILE_CHECK's status (a fault, or a weight change). */
  private onFileCheck(d: FileCheckDef): void {
    if (!this.running) return;
    this.afterVerdict(d.vsIndex, d.rsIndex, true, true, { checker: "FILE_CHECK" });
  }

  /** Tell the hooks when the real server's aggregate verdict flipped; program the change. */
  private afterVerdict(
    vi: number,
    ri: number,
    changed: boolean,
    weightMoved: boolean,
    why: Pick<RsEvent, "checker" | "detail" | "timedOut">,
  ): void {
    const vs = this.model.virtual_server[vi];
    const rs = vs?.real_server[ri];
    if (!vs || !rs) return;
    const up = this.rsUp(vi, ri, rs);
    if (!changed || this.alive.get(rsKey(vs, rs)) === up) {
      if (weightMoved) this.reconcile();
      return;
    }
    this.alive.set(rsKey(vs, rs), up);
    this.opts.onRealServer?.({
      type: up ? "notify_up" : "notify_down",
      vs: vsId(vs),
      rs: rsId(rs),
      vsIndex: vi,
      rsIndex: ri,
      ...why,
    });
    this.reconcile();
  }

  /**
   * check_misc.c: a dynamic exit status sets the weight (status − 2), status 0 puts the
   * configured weight back, a failure that brings the checker down clears it. True when the
   * weight moved.
   */
  private noteWeight(c: CheckerRun, res: CheckProbeResult, isUp: boolean): boolean {
    const before = c.dynWeight;
    if (res.ok) c.dynWeight = res.weight;
    else if (!isUp) c.dynWeight = undefined;
    return before !== c.dynWeight;
  }
}

function rsKey(vs: VsInput, rs: RsInput): string {
  return `${vsId(vs)}|${rsId(rs)}`;
}
