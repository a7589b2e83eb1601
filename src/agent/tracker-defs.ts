/**
 * Decode once, at the boundary: a tracker block of the model becomes what its driver needs
 * (core/track parameters in milliseconds, a matcher, a probe spec).
 */
import type { ScriptCommand } from "../config/lines/shell.ts";
import type { Model } from "../config/model.ts";
import { httpProbeSpec } from "../core/track/http-spec.ts";
import { compileMatcher, type ProcessMatcher } from "../core/track/process-match.ts";
import type { QuorumParams } from "../core/track/process-quorum.ts";
import type { ScriptResultParams } from "../core/track/script-result.ts";
import type { RunParams } from "../core/track/script-run.ts";
import type { ScriptProc, TrackerIo } from "./io.ts";

/** A periodic tracker: a vrrp_script run, or a track_http probe. */
export interface ScriptDef {
  readonly name: string;
  /** For logs, in keepalived's words: `VRRP_Script(chk_nginx)`. */
  readonly what: string;
  readonly run: RunParams;
  readonly result: ScriptResultParams;
  start(io: TrackerIo, onExit: (success: boolean, signal?: string) => void): ScriptProc | undefined;
}

const ms = (s: number): number => Math.round(s * 1000);

export function scriptTracker(m: Model, name: string): ScriptDef | undefined {
  const s = m.vrrp_script[name];
  if (!s?.script) return undefined;
  const cmd: ScriptCommand = s.user
    ? { ...s.script, user: s.user.user, ...(s.user.group ? { group: s.user.group } : {}) }
    : s.script;
  const what = `VRRP_Script(${name})`;
  return {
    name,
    what,
    run: { intervalMs: ms(s.interval), timeoutMs: ms(s.timeout) },
    // keepalived resets a script's init state whenever a track_script names it
    // (vrrp_track.c alloc_track_script), so init_fail never shows on a tracked script:
    // observed on 2.2.7 (the data dump says Init state = INIT). We do the same.
    result: { rise: s.rise, fall: s.fall, initFail: false },
    start: (io, onExit) => io.startScript(cmd, what, onExit),
  };
}

export function httpTracker(m: Model, name: string): ScriptDef | undefined {
  const t = m.track_http?.[name];
  if (!t) return undefined;
  const spec = httpProbeSpec(t);
  if (!spec) return undefined;
  return {
    name,
    what: `track_http(${name})`,
    // The probe bounds itself; the run machine's own timeout only backs it up.
    run: { intervalMs: ms(t.interval), timeoutMs: spec.timeoutMs + 1000 },
    result: { rise: t.rise, fall: t.fall, initFail: t.init_fail ?? false },
    start: (io, onExit) => {
      io.probeHttp(spec).then((ok) => onExit(ok));
      return { pid: 0, signal: () => {} };
    },
  };
}

export interface ProcessDef {
  readonly match: ProcessMatcher;
  readonly quorum: QuorumParams;
}

export function processTracker(m: Model, name: string): ProcessDef | undefined {
  const t = m.vrrp_track_process[name];
  if (!t?.process) return undefined;
  const max = t.quorum_max;
  return {
    match: compileMatcher({
      process: t.process,
      // `param_match` alone means exact (track_process.c).
      ...(t.param_match ? { paramMatch: t.param_match.match ?? "exact" } : {}),
      ...(t.full_command ? { fullCommand: true } : {}),
    }),
    quorum: {
      // quorum_max 0 means "no such process may run", and sets quorum to 0 (track_process.c).
      quorum: max === 0 ? 0 : t.quorum,
      quorumMax: max ?? Number.POSITIVE_INFINITY,
      forkDelayMs: ms(t.fork_delay),
      terminateDelayMs: ms(t.terminate_delay),
    },
  };
}
