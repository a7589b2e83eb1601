/**
 * MISC_CHECK probe (keepalived check/check_misc.c): run misc_path and judge its exit.
 * Exit 0 is up. With misc_dynamic, 1 is down and 2-255 are up with weight = status - 2
 * (so 0..253); without it every non-zero status is down. A script ended by a signal, or
 * by misc_timeout (SIGTERM to its process group, then SIGKILL: ScriptRunner does both), is
 * down. A script that cannot be started is down too (keepalived's forked child would exit
 * non-zero as well). It never rejects.
 */
import type { CheckProbeResult } from "./check-tcp.ts";
import type { ScriptExit, ScriptRunner, ScriptSpec } from "./script-runner.ts";

export interface MiscCheckSpec {
  readonly runner: ScriptRunner;
  /** misc_path with its user. */
  readonly script: ScriptSpec;
  /** misc_timeout (keepalived default: delay_loop, applied by the caller). */
  readonly timeoutMs: number;
  /** misc_dynamic. */
  readonly dynamic: boolean;
  /** For log lines, e.g. "MISC_CHECK of 192.0.2.10:80". */
  readonly why?: string;
}

/** What an exit means for a MISC_CHECK (check_misc.c misc_check_child_thread). */
export function judgeMiscExit(
  exit: Pick<ScriptExit, "code" | "signal" | "timedOut">,
  dynamic: boolean,
): { ok: boolean; reason?: string; weight?: number } {
  if (exit.timedOut) return { ok: false, reason: "timed out" };
  if (exit.code === null) return { ok: false, reason: `ended by ${exit.signal ?? "a signal"}` };
  if (exit.code === 0) return { ok: true };
  if (dynamic && exit.code >= 2 && exit.code <= 255) return { ok: true, weight: exit.code - 2 };
  return { ok: false, reason: `exited with status ${exit.code}` };
}

export function probeMisc(spec: MiscCheckSpec): Promise<CheckProbeResult> {
  const startMs = performance.now();
  return new Promise((resolve) => {
    const handle = spec.runner.start(spec.script, [], {
      why: spec.why ?? "MISC_CHECK",
      timeoutMs: spec.timeoutMs,
      onExit: (exit) => resolve({ ...judgeMiscExit(exit, spec.dynamic), latencyMs: exit.runMs }),
    });
    if (handle === undefined)
      resolve({
        ok: false,
        reason: "could not be started",
        latencyMs: Math.round((performance.now() - startMs) * 1000) / 1000,
      });
  });
}
