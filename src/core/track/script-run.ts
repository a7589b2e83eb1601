/**
 * When to run one periodic script (vrrp_script, or a track_http probe), and how to stop it
 * when it overruns. Pure: events and a clock in, actions out. keepalived's behaviour, from
 * keepalived/vrrp/vrrp_scheduler.c (vrrp_init_script, vrrp_script_thread,
 * vrrp_script_child_thread), keepalived/core/notify.c (system_call_script) and
 * lib/scheduler.c:
 *
 * - First run: at once. vrrp_init_script queues the first vrrp_script_thread as an event,
 *   not a timer.
 * - Next run: `interval` after the previous run *started*, measured from the time the timer
 *   actually fired (vrrp_script_thread re-arms itself with thread_add_timer before it
 *   forks). A script that takes longer than the interval does not shift the schedule.
 * - A run that is due while the previous one has not finished is skipped and logged:
 *   "Track script <name> is already running|being timed out, expect idle - skipping run".
 *   (This is keepalived ≥ 2.3.3, commit 94d40e3b; 2.2.7 logs the line and runs the script
 *   again anyway.)
 * - Timeout (`timeout`, else `interval`) counted from the fork: SIGTERM to the process
 *   group; 2 s later SIGKILL; 2 s after that SIGKILL again ("failed to terminate after
 *   kill"), then every 10 s until it goes.
 * - The result is counted once, when the process is reaped, from how it ended — not when
 *   the timer fires. Exit status 0 is a success even after a SIGTERM (a script that traps
 *   TERM and exits 0 counts as succeeded: observed with keepalived 2.2.7). Death by our
 *   SIGTERM (while terminating) or by SIGKILL/SIGTERM (while killing) is "timed_out", a
 *   failure; after death by our SIGTERM keepalived also SIGKILLs the group, for any
 *   children left behind. Any other exit is "failed".
 * - When the interval timer and the child timeout fall due together, the interval timer
 *   runs first (lib/scheduler.c moves ready timers before child timeouts), so with the
 *   default timeout = interval a hung script is first skipped, then signalled.
 *
 * Deliberate difference: keepalived's fork() failure leaves the script idle with no result,
 * and an exec() failure in the child exits 0, which counts as a success ("Script errors
 * aren't server errors", notify.c). Here a script that cannot be started counts as a
 * failure: a missing checker must not look healthy.
 */

export type RunPhase = "idle" | "starting" | "running" | "terminating" | "killing";

export interface RunParams {
  readonly intervalMs: number;
  /** keepalived: `timeout`, else the interval. 0 or absent means "the interval". */
  readonly timeoutMs?: number;
  /** SIGTERM → SIGKILL, and SIGKILL → second SIGKILL (keepalived: 2 s). */
  readonly killAfterMs?: number;
  /** Between later SIGKILLs of a process that will not die (keepalived: 10 s). */
  readonly killRetryMs?: number;
}

export const KILL_AFTER_MS = 2000;
export const KILL_RETRY_MS = 10_000;

export interface RunState {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly killAfterMs: number;
  readonly killRetryMs: number;
  readonly phase: RunPhase;
  /** The running process (leader of its own process group). */
  readonly pid: number | undefined;
  readonly nextRunAtMs: number;
  /** The child timer: timeout while running, then the next signal. */
  readonly childAtMs: number | undefined;
}

export type RunEvent =
  | { readonly type: "tick" }
  | { readonly type: "spawned"; readonly pid: number }
  | { readonly type: "spawn-failed" }
  | {
      readonly type: "exited";
      /** Exit status 0. */
      readonly success: boolean;
      /** The signal that ended it ("SIGTERM", …), when it died of one. */
      readonly signal?: string;
    };

export type Signal = "SIGTERM" | "SIGKILL";

export type RunAction =
  | { readonly type: "spawn" }
  /** To the process group (kill(-pid, sig)). */
  | { readonly type: "signal"; readonly sig: Signal; readonly pid: number }
  | { readonly type: "result"; readonly success: boolean; readonly timedOut: boolean }
  | { readonly type: "skipped"; readonly reason: "already running" | "being timed out" }
  | { readonly type: "timed-out"; readonly pid: number };

export interface RunStep {
  readonly state: RunState;
  readonly actions: readonly RunAction[];
}

/** The first run is due at once (vrrp_init_script: thread_add_event). */
export function initialRun(p: RunParams, nowMs: number): RunState {
  const timeoutMs = p.timeoutMs ? p.timeoutMs : p.intervalMs;
  const killAfterMs = p.killAfterMs ?? KILL_AFTER_MS;
  const killRetryMs = p.killRetryMs ?? KILL_RETRY_MS;
  // The config layer guarantees positive values; zero would make the schedule spin.
  for (const [name, v] of [
    ["intervalMs", p.intervalMs],
    ["timeoutMs", timeoutMs],
    ["killAfterMs", killAfterMs],
    ["killRetryMs", killRetryMs],
  ] as const)
    if (!(v > 0)) throw new RangeError(`${name} must be > 0 (got ${v})`);
  return {
    intervalMs: p.intervalMs,
    timeoutMs,
    killAfterMs,
    killRetryMs,
    phase: "idle",
    pid: undefined,
    nextRunAtMs: nowMs,
    childAtMs: undefined,
  };
}

/** The earliest deadline, for the shell's one timer. */
export function nextDeadline(s: RunState): number {
  return s.childAtMs !== undefined && s.childAtMs < s.nextRunAtMs ? s.childAtMs : s.nextRunAtMs;
}

const idle = (s: RunState): RunState => ({
  ...s,
  phase: "idle",
  pid: undefined,
  childAtMs: undefined,
});

export function stepRun(s: RunState, e: RunEvent, nowMs: number): RunStep {
  switch (e.type) {
    case "tick":
      return tick(s, nowMs);
    case "spawned":
      if (s.phase !== "starting") return { state: s, actions: [] };
      // system_call_script: thread_add_child(…, timeout) right after the fork.
      return {
        state: { ...s, phase: "running", pid: e.pid, childAtMs: nowMs + s.timeoutMs },
        actions: [],
      };
    case "spawn-failed":
      if (s.phase !== "starting") return { state: s, actions: [] };
      return { state: idle(s), actions: [{ type: "result", success: false, timedOut: false }] };
    case "exited":
      return exited(s, e);
  }
}

/** Every deadline ≤ now, earliest first; on a tie the interval timer goes first. */
function tick(s0: RunState, nowMs: number): RunStep {
  let s = s0;
  const actions: RunAction[] = [];
  for (;;) {
    const runDue = s.nextRunAtMs <= nowMs;
    const childDue = s.childAtMs !== undefined && s.childAtMs <= nowMs;
    if (!runDue && !childDue) break;
    if (runDue && (!childDue || s.nextRunAtMs <= (s.childAtMs as number))) {
      s = runTimer(s, nowMs, actions);
    } else {
      s = childTimer(s, nowMs, actions);
    }
  }
  return { state: s, actions };
}

/** vrrp_scheduler.c:vrrp_script_thread. */
function runTimer(s: RunState, nowMs: number, out: RunAction[]): RunState {
  const next = { ...s, nextRunAtMs: nowMs + s.intervalMs };
  if (s.phase !== "idle") {
    const timingOut = s.phase === "terminating" || s.phase === "killing";
    out.push({ type: "skipped", reason: timingOut ? "being timed out" : "already running" });
    return next;
  }
  out.push({ type: "spawn" });
  return { ...next, phase: "starting" };
}

/** vrrp_scheduler.c:vrrp_script_child_thread, THREAD_CHILD_TIMEOUT. */
function childTimer(s: RunState, nowMs: number, out: RunAction[]): RunState {
  const pid = s.pid as number;
  switch (s.phase) {
    case "running":
      out.push({ type: "timed-out", pid }, { type: "signal", sig: "SIGTERM", pid });
      return { ...s, phase: "terminating", childAtMs: nowMs + s.killAfterMs };
    case "terminating":
      out.push({ type: "signal", sig: "SIGKILL", pid });
      return { ...s, phase: "killing", childAtMs: nowMs + s.killAfterMs };
    case "killing":
      // SCRIPT_STATE_FORCING_TERMINATION: "failed to terminate after kill", give it longer.
      out.push({ type: "signal", sig: "SIGKILL", pid });
      return { ...s, childAtMs: nowMs + s.killRetryMs };
    default:
      // No child timer outside a run; clear a stale one rather than spin.
      return { ...s, childAtMs: undefined };
  }
}

/** vrrp_scheduler.c:vrrp_script_child_thread, the process was reaped. */
function exited(s: RunState, e: Extract<RunEvent, { type: "exited" }>): RunStep {
  if (s.phase !== "running" && s.phase !== "terminating" && s.phase !== "killing")
    return { state: s, actions: [] };
  const pid = s.pid as number;
  const actions: RunAction[] = [];
  let timedOut = false;
  if (!e.success && e.signal !== undefined) {
    if (s.phase === "terminating" && e.signal === "SIGTERM") {
      // Our SIGTERM killed it: make sure nothing it started lives on.
      actions.push({ type: "signal", sig: "SIGKILL", pid });
      timedOut = true;
    } else if (s.phase === "killing" && (e.signal === "SIGKILL" || e.signal === "SIGTERM"))
      timedOut = true;
  }
  actions.push({ type: "result", success: e.success, timedOut });
  return { state: idle(s), actions };
}
