/**
 * The rise/fall result counter of a vrrp_script (reference §1.5, §2.6), kept generic so that
 * track_http probes count their results the same way. keepalived's arithmetic, from
 * keepalived/vrrp/vrrp_scheduler.c (vrrp_init_script, vrrp_script_child_thread):
 *
 * - The counter `result` runs over 0 … rise+fall−1. The script is up while result ≥ rise.
 * - Start: result = rise−1 ("one success is enough") in the init state; with `init_fail`,
 *   result = 0 and the script counts as failed from the start.
 * - Success: below rise−1 it counts up by one. At rise−1 it jumps to rise+fall−1 and the
 *   script comes up. Already up, it goes back to rise+fall−1 (a success refills `fall`).
 * - Failure: above rise it counts down by one. At rise the script goes down and result
 *   drops to 0; below rise it stays at 0 (so `rise` successes must be consecutive).
 * - The first report after start in the init state is always a transition, whichever way
 *   it goes: one success brings it up and one failure brings it down, whatever rise and
 *   fall are (`init_state == SCRIPT_INIT_STATE_INIT` in the failure branch).
 *
 * keepalived caveat (vrrp_track.c:alloc_track_script): every `track_script` reference resets
 * the script's init state to INIT, overwriting what `init_fail` set, so in keepalived
 * (2.2.7 and current) init_fail has no effect on a script that any instance or sync group
 * tracks. Observed with keepalived 2.2.7: `init_fail`, rise 3, weight −10 → dump shows
 * "Init state = INIT", "Result = 2", effective priority unchanged. This counter honours
 * `initFail` as documented; a caller that wants keepalived's actual behaviour passes false.
 *
 * The counter does not depend on the weight. The weight-0 special case at start (the
 * instance is held in INIT until a weight-0 script first reports; with init_fail it is
 * in FAULT at once) belongs to the priority side: see priority.ts, evaluate().pending.
 */

export interface ScriptResultParams {
  /** Consecutive successes to come up (≥ 1). */
  readonly rise: number;
  /** Consecutive failures to go down (≥ 1). */
  readonly fall: number;
  /** Start failed (result 0) instead of "one success is enough". */
  readonly initFail: boolean;
  /** Accepted for symmetry with the config block; it does not change the counting. */
  readonly weight?: number;
}

/** keepalived's script_init_state_t, without the reload variant. */
export type ScriptInitState = "init" | "init-failed" | "done";

export interface ScriptResult {
  /** keepalived's vscript->result: 0 … rise+fall−1. */
  readonly result: number;
  readonly init: ScriptInitState;
  /** undefined until the first report in the init state; then result ≥ rise. */
  readonly up: boolean | undefined;
}

function check(p: ScriptResultParams): void {
  // The parser guarantees these (vrrp_parser.c: rise/fall in [1, INT_MAX]); a violation is
  // a programming error, not a configuration one.
  if (!Number.isInteger(p.rise) || p.rise < 1 || !Number.isInteger(p.fall) || p.fall < 1)
    throw new RangeError(`rise and fall must be integers ≥ 1 (rise ${p.rise}, fall ${p.fall})`);
}

/** vrrp_scheduler.c:vrrp_init_script. */
export function initialScript(p: ScriptResultParams): ScriptResult {
  check(p);
  return p.initFail
    ? { result: 0, init: "init-failed", up: false }
    : { result: p.rise - 1, init: "init", up: undefined };
}

/**
 * Count one result (vrrp_scheduler.c:vrrp_script_child_thread). `changed` is true exactly
 * when keepalived calls update_script_priorities (and logs "VRRP_Script(x) succeeded" /
 * "failed" / "timed_out").
 */
export function onScriptResult(
  s: ScriptResult,
  success: boolean,
  p: ScriptResultParams,
): { state: ScriptResult; changed: boolean } {
  check(p);
  const top = p.rise + p.fall - 1;
  let result = s.result;
  let changed = false;
  if (success) {
    if (result < p.rise - 1) result++;
    else if (result !== top) {
      if (result < p.rise) changed = true;
      result = top;
    }
  } else if (result > p.rise) result--;
  else {
    if (result === p.rise || s.init === "init") changed = true;
    result = 0;
  }
  // After any report the init state is over (init_state = SCRIPT_INIT_STATE_DONE).
  return { state: { result, init: "done", up: result >= p.rise }, changed };
}

/** The script's verdict: undefined until it has reported (init state), else up or down. */
export function scriptUp(s: ScriptResult): boolean | undefined {
  return s.up;
}
