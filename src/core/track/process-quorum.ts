/**
 * vrrp_track_process quorum (reference §1.6): is the number of matching processes within
 * [quorum, quorum_max], with keepalived's debounce delays. Pure: counts and a clock in, the
 * verdict out. keepalived's behaviour, from keepalived/core/track_process (the C file; the
 * purity check in test/tidy.test.ts rejects its name spelled out here) and
 * keepalived/vrrp/vrrp_parser.c (vrrp_tprocess_*), keepalived/vrrp/vrrp_track.c
 * (initialise_process_tracking_priorities):
 *
 * - Up means quorum ≤ count ≤ quorum_max. quorum defaults to 1, quorum_max to unlimited.
 *   `quorum_max 0` sets quorum to 0 as well: up only while no matching process runs.
 * - At start the verdict is taken from the first scan of /proc at once, with no delay.
 * - Afterwards keepalived only looks when the count crosses a boundary (reaches quorum or
 *   quorum_max+1 going up, leaves quorum or reaches quorum_max going down), and the delays
 *   belong to the kind of event, not to the direction of the verdict:
 *   · a fork of a tracked process (check_process_fork): if a terminate timer is pending it
 *     is cancelled and the verdict taken now; else with fork_delay a timer is started;
 *     else the verdict is taken now. So fork_delay also delays a *loss* by exceeding
 *     quorum_max.
 *   · an exit (check_process_termination): the mirror image, with terminate_delay and the
 *     fork timer. So terminate_delay also delays a *regain* by falling back to quorum_max.
 *   · a process that starts or stops matching through exec or a name change (check_process,
 *     remove_process_from_track, check_process_comm_change): no delay; a pending timer of
 *     the other kind is cancelled. A daemon started by an untracked parent (systemd, a
 *     shell) appears through exec, so fork_delay does not delay it.
 *   · a full rescan after lost netlink messages (reinitialise_track_processes): both
 *     pending timers are cancelled; if the count moved across a boundary, a gain waits
 *     fork_delay and a loss terminate_delay. If it did not, nothing is re-read: a change
 *     that a cancelled timer was still waiting to confirm is dropped.
 *   · a timer firing re-reads the level: up iff the count is in range now.
 * - Starting a timer while one of its kind is pending does not cancel the older one
 *   (keepalived just overwrites its pointer): the older still fires and re-reads the level,
 *   and when any timer of a kind fires the pointer is cleared, so the newer one can no
 *   longer be cancelled either. We keep those orphans too.
 *
 * `count` events without a cause — what a shell that polls /proc can offer — are treated
 * as forks (increase) or exits (decrease), one process at a time: the delays then act as
 * the manual describes them ("delay after quorum gained / lost").
 *
 * Difference: reinitialise_track_processes reports a changed verdict to the instances
 * without recording it in have_quorum, so keepalived can later apply the same weight twice.
 * We record it.
 */

export interface QuorumParams {
  /** Minimum matching processes (keepalived: 1; 0 only together with quorumMax 0). */
  readonly quorum: number;
  /** Maximum; Infinity for keepalived's "unlimited" (UINT_MAX). */
  readonly quorumMax: number;
  /** keepalived `fork_delay` (`delay` sets both), 0 for none. */
  readonly forkDelayMs: number;
  /** keepalived `terminate_delay`. */
  readonly terminateDelayMs: number;
}

export const DEFAULT_QUORUM: QuorumParams = {
  quorum: 1,
  quorumMax: Number.POSITIVE_INFINITY,
  forkDelayMs: 0,
  terminateDelayMs: 0,
};

/** How the count changed, in keepalived's terms (see the module comment). */
export type QuorumCause = "fork" | "exit" | "exec" | "rescan";

export type QuorumEvent =
  | { readonly type: "count"; readonly count: number; readonly cause?: QuorumCause }
  | { readonly type: "tick" };

interface QuorumTimer {
  readonly id: number;
  readonly kind: "fork" | "terminate";
  readonly atMs: number;
}

export interface QuorumState {
  readonly params: QuorumParams;
  /** Matching processes; undefined until the first scan. */
  readonly count: number | undefined;
  /** keepalived's have_quorum; undefined until the first scan. */
  readonly up: boolean | undefined;
  /** Every scheduled timer, including orphans nobody can cancel any more. */
  readonly timers: readonly QuorumTimer[];
  /** The timers keepalived still holds a pointer to (fork_timer_thread, …). */
  readonly forkRef: number | undefined;
  readonly terminateRef: number | undefined;
  readonly nextId: number;
}

export interface QuorumStep {
  readonly state: QuorumState;
  /** The verdict after the event (undefined before the first scan). */
  readonly up: boolean | undefined;
  /** The verdict changed: "Quorum gained|lost for tracked process <name>". */
  readonly changed: boolean;
}

/** Before the first count; pass `count` when the first scan is already known. */
export function initialQuorum(p: QuorumParams, _nowMs: number, count?: number): QuorumState {
  const s: QuorumState = {
    params: p,
    count: undefined,
    up: undefined,
    timers: [],
    forkRef: undefined,
    terminateRef: undefined,
    nextId: 1,
  };
  return count === undefined ? s : { ...s, count, up: inRange(p, count) };
}

export const inRange = (p: QuorumParams, count: number): boolean =>
  count >= p.quorum && count <= p.quorumMax;

export function nextDeadline(s: QuorumState): number | undefined {
  let best: number | undefined;
  for (const t of s.timers) if (best === undefined || t.atMs < best) best = t.atMs;
  return best;
}

export function stepQuorum(s: QuorumState, e: QuorumEvent, nowMs: number): QuorumStep {
  let next: QuorumState;
  if (e.type === "tick") next = fire(s, nowMs);
  // A count that is not one (a watcher bug) is dropped rather than corrupting the state.
  else if (!Number.isInteger(e.count) || e.count < 0) next = s;
  else if (s.count === undefined)
    // vrrp_track.c:initialise_process_tracking_priorities: the first scan decides at once.
    next = { ...s, count: e.count, up: inRange(s.params, e.count) };
  else if (e.cause === "rescan") next = rescan(s, s.count, e.count, nowMs);
  else if (e.count > s.count) next = rise(s, s.count, e.count, e.cause !== "exec", nowMs);
  else if (e.count < s.count) next = fall(s, s.count, e.count, e.cause !== "exec", nowMs);
  else next = s;
  return { state: next, up: next.up, changed: next.up !== s.up };
}

/** update_process_status: the verdict is the level now. */
const settle = (s: QuorumState): QuorumState => ({
  ...s,
  up: inRange(s.params, s.count as number),
});

function cancel(s: QuorumState, kind: "fork" | "terminate"): QuorumState {
  const ref = kind === "fork" ? s.forkRef : s.terminateRef;
  if (ref === undefined) return s;
  const timers = s.timers.filter((t) => t.id !== ref);
  return kind === "fork"
    ? { ...s, timers, forkRef: undefined }
    : { ...s, timers, terminateRef: undefined };
}

function start(s: QuorumState, kind: "fork" | "terminate", atMs: number): QuorumState {
  const timers = [...s.timers, { id: s.nextId, kind, atMs }];
  return kind === "fork"
    ? { ...s, timers, forkRef: s.nextId, nextId: s.nextId + 1 }
    : { ...s, timers, terminateRef: s.nextId, nextId: s.nextId + 1 };
}

/**
 * The count goes up from `from` to `to`, one process at a time; only the boundary values
 * (quorum, quorum_max+1) matter, so we visit just those.
 */
function rise(s0: QuorumState, from: number, to: number, byFork: boolean, nowMs: number) {
  const { quorum, quorumMax, forkDelayMs } = s0.params;
  const marks = [quorum, quorumMax + 1].filter((c) => c > from && c <= to).sort((a, b) => a - b);
  let s = s0;
  for (const c of [...new Set(marks)]) {
    s = { ...s, count: c };
    if (s.terminateRef !== undefined) s = settle(cancel(s, "terminate"));
    else if (byFork && forkDelayMs > 0) s = start(s, "fork", nowMs + forkDelayMs);
    else s = settle(s);
  }
  return { ...s, count: to };
}

/** The count goes down; boundaries: leaving quorum (count quorum−1) and reaching quorum_max. */
function fall(s0: QuorumState, from: number, to: number, byExit: boolean, nowMs: number) {
  const { quorum, quorumMax, terminateDelayMs } = s0.params;
  const marks = [quorum - 1, quorumMax].filter((c) => c < from && c >= to).sort((a, b) => b - a);
  let s = s0;
  for (const c of [...new Set(marks)]) {
    s = { ...s, count: c };
    if (s.forkRef !== undefined) s = settle(cancel(s, "fork"));
    else if (byExit && terminateDelayMs > 0) s = start(s, "terminate", nowMs + terminateDelayMs);
    else s = settle(s);
  }
  return { ...s, count: to };
}

/** track_process:reinitialise_track_processes. */
function rescan(s0: QuorumState, saved: number, count: number, nowMs: number): QuorumState {
  const p = s0.params;
  let s: QuorumState = { ...cancel(cancel(s0, "fork"), "terminate"), count };
  if (saved === count) return s;
  if (saved < p.quorum === count < p.quorum && saved > p.quorumMax === count > p.quorumMax)
    return s;
  if (inRange(p, count)) {
    s = p.forkDelayMs > 0 ? start(s, "fork", nowMs + p.forkDelayMs) : { ...s, up: true };
  } else {
    s =
      p.terminateDelayMs > 0
        ? start(s, "terminate", nowMs + p.terminateDelayMs)
        : { ...s, up: false };
  }
  return s;
}

/**
 * process_gained_quorum_timer_thread / process_lost_quorum_timer_thread: every due timer,
 * in order, re-reads the level and clears its kind's pointer (even when it was an orphan).
 */
function fire(s0: QuorumState, nowMs: number): QuorumState {
  const due = s0.timers
    .filter((t) => t.atMs <= nowMs)
    .sort((a, b) => a.atMs - b.atMs || a.id - b.id);
  let s = s0;
  for (const t of due) {
    const timers = s.timers.filter((x) => x.id !== t.id);
    s =
      t.kind === "fork"
        ? { ...s, timers, forkRef: undefined }
        : { ...s, timers, terminateRef: undefined };
    if (s.count !== undefined) s = settle(s);
  }
  return s;
}
