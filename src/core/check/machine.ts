/**
 * One real-server health checker's schedule and verdict, driven by events and a passed-in
 * clock (no I/O). It reproduces keepalived's bookkeeping (check/check_api.c checker_t:
 * is_up, has_run, retry_it) and the three epilogues that decide what a probe result means:
 *
 * - "tcp"  — check_tcp.c tcp_epilog (also the shape of SMTP/DNS/UDP/PING checkers);
 * - "http" — check_http.c epilog + timeout_epilog (HTTP_GET and SSL_GET, one URL per probe);
 * - "misc" — check_misc.c misc_check_child_thread.
 *
 * The shell calls `startChecker`, arms one timer for `nextDeadline`, calls `dueChecker` when
 * it fires (which asks for a probe), and feeds the probe's outcome to `resultChecker`.
 * `report` in an output is where keepalived calls update_svr_checker_state (UP or DOWN); it
 * can repeat the current verdict on a checker's first run, which is how ipwrapper.c learns
 * that an alpha checker has run.
 *
 * Faithful oddities kept on purpose (they are keepalived's observable behaviour):
 * - At start the retry budget is already spent (check_data.c sets retry_it = retry), so the
 *   first failure is down at once; retries apply once a probe has succeeded.
 * - TCP spends retries only while up; an alpha checker that never succeeded just re-probes
 *   every delay_loop.
 * - HTTP/SSL: once a URL has exhausted its retries, that URL passing again only clears the
 *   failure; the verdict returns to up after the next complete round of every URL. Before
 *   the first complete round, a later URL failing is down at once.
 * - MISC counts delays from the start of the run, not from its end.
 */

export type CheckerKind = "tcp" | "http" | "misc";

export interface CheckerTiming {
  readonly kind: CheckerKind;
  readonly delayLoopMs: number;
  readonly delayBeforeRetryMs: number;
  /** Extra attempts after a failure before the checker is declared down (nb_get_retry). */
  readonly retry: number;
  /** The first probe happens after 1 s plus a random share of this (0 disables). */
  readonly warmupMs: number;
  /** Start down and wait for a success (keepalived `alpha`). */
  readonly alpha: boolean;
  /** HTTP/SSL: how many `url` blocks are fetched in turn (≥ 1). */
  readonly urlCount?: number;
  /** HTTP/SSL: probe again at once while up-ness is not yet known. */
  readonly fastRecovery?: boolean;
}

export type CheckerPhase = "idle" | "waiting" | "probing";

export interface CheckerState {
  readonly phase: CheckerPhase;
  readonly isUp: boolean;
  readonly hasRun: boolean;
  /** Failures counted toward `retry` (keepalived retry_it). */
  readonly retryIt: number;
  /** When the next probe is due (waiting), else null. */
  readonly dueMs: number | null;
  /** When the running probe started (misc schedules from there: check_misc.c last_ran). */
  readonly startedMs: number | null;
  /** HTTP: the URL to fetch next; null after the last one succeeded. */
  readonly urlIndex: number;
  /** HTTP: the URL that exhausted its retries, until one succeeds again. */
  readonly failedUrl: number | null;
  /** Probes started so far (for status and tests). */
  readonly attempts: number;
}

export type CheckerReport = "up" | "down";

export interface CheckerOutput {
  readonly state: CheckerState;
  /** Start a probe now (of this URL for HTTP/SSL). */
  readonly probe?: { readonly urlIndex: number };
  /** keepalived would call update_svr_checker_state with this verdict. */
  readonly report?: CheckerReport;
  /** The verdict changed (up → down or down → up). */
  readonly changed?: boolean;
}

/** scheduler.h BOOTSTRAP_DELAY: checkers start one second after the checker child starts. */
export const BOOTSTRAP_DELAY_MS = 1000;
/** check_misc.c never reschedules with a zero delay (it uses 1 µs). */
const MIN_MISC_DELAY_MS = 0.001;

/**
 * The timing keywords of one checker block as the config model holds them (seconds, with
 * RS → VS → keepalived defaults already applied), structurally typed so the core does not
 * depend on the config module.
 */
export interface CheckerTimingConfig {
  readonly delay_loop: number;
  readonly delay_before_retry: number;
  readonly retry: number;
  readonly warmup: number;
  readonly alpha?: boolean;
  readonly url?: readonly unknown[];
  readonly fast_recovery?: boolean;
}

/** HTTP_GET/SSL_GET → "http", MISC_CHECK → "misc", the rest → "tcp" (same epilogue). */
export function checkerKind(keyword: string): CheckerKind {
  return keyword === "HTTP_GET" || keyword === "SSL_GET"
    ? "http"
    : keyword === "MISC_CHECK"
      ? "misc"
      : "tcp";
}

export function checkerTiming(keyword: string, c: CheckerTimingConfig): CheckerTiming {
  const kind = checkerKind(keyword);
  return {
    kind,
    delayLoopMs: c.delay_loop * 1000,
    delayBeforeRetryMs: c.delay_before_retry * 1000,
    retry: c.retry,
    warmupMs: c.warmup * 1000,
    alpha: c.alpha === true,
    ...(kind === "http"
      ? { urlCount: Math.max(1, c.url?.length ?? 1), fastRecovery: c.fast_recovery === true }
      : {}),
  };
}

export function initialChecker(timing: CheckerTiming): CheckerState {
  return {
    phase: "idle",
    // check_api.c queue_checker starts every checker up; check_data.c turns alpha ones down.
    isUp: !timing.alpha,
    hasRun: false,
    // check_data.c (not on reload): retry_it = retry, so at start one failure is enough.
    retryIt: timing.retry,
    dueMs: null,
    startedMs: null,
    urlIndex: 0,
    failedUrl: null,
    attempts: 0,
  };
}

/**
 * Schedule the first probe. `warmupFraction` is the caller's random draw in [0, 1]
 * (check_api.c register_checkers_thread scales warmup by random()/RAND_MAX).
 */
export function startChecker(
  timing: CheckerTiming,
  nowMs: number,
  warmupFraction: number,
): CheckerState {
  const f = Math.min(1, Math.max(0, warmupFraction));
  const warmupMs = timing.warmupMs > 0 ? timing.warmupMs * f : 0;
  return {
    ...initialChecker(timing),
    phase: "waiting",
    dueMs: nowMs + BOOTSTRAP_DELAY_MS + warmupMs,
  };
}

export function nextDeadline(state: CheckerState): number | null {
  return state.phase === "waiting" ? state.dueMs : null;
}

/** The timer fired: start a probe if one is due. */
export function dueChecker(state: CheckerState, nowMs: number): CheckerOutput {
  if (state.phase !== "waiting" || state.dueMs === null || nowMs < state.dueMs) return { state };
  return {
    state: {
      ...state,
      phase: "probing",
      dueMs: null,
      startedMs: nowMs,
      attempts: state.attempts + 1,
    },
    probe: { urlIndex: state.urlIndex },
  };
}

/**
 * The timer fired while the checker is suspended (ha_suspend with the virtual server's
 * address not on this host): no probe, the verdict and retry count held, the next look
 * one delay_loop later (check_tcp.c tcp_connect_thread: a disabled checker reschedules).
 */
export function suspendedChecker(
  timing: CheckerTiming,
  state: CheckerState,
  nowMs: number,
): CheckerState {
  if (state.phase !== "waiting" || state.dueMs === null || nowMs < state.dueMs) return state;
  return { ...state, dueMs: nowMs + timing.delayLoopMs };
}

/** The running probe finished (`ok` is its pass/fail as the checker kind defines it). */
export function resultChecker(
  timing: CheckerTiming,
  state: CheckerState,
  nowMs: number,
  ok: boolean,
): CheckerOutput {
  if (state.phase !== "probing") return { state };
  const out =
    timing.kind === "tcp"
      ? tcpEpilog(timing, state, nowMs, ok)
      : timing.kind === "http"
        ? ok
          ? httpSuccess(timing, state, nowMs)
          : httpFailure(timing, state, nowMs)
        : miscEpilog(timing, state, nowMs, ok);
  return out.report !== undefined ? { ...out, changed: (out.report === "up") !== state.isUp } : out;
}

function waitFor(s: CheckerState, nowMs: number, delayMs: number): CheckerState {
  return { ...s, phase: "waiting", dueMs: nowMs + delayMs, startedMs: null };
}

/** check_tcp.c tcp_epilog: retries are only spent while the checker is up. */
function tcpEpilog(t: CheckerTiming, s: CheckerState, nowMs: number, ok: boolean): CheckerOutput {
  let next: CheckerState = { ...s, hasRun: true };
  let report: CheckerReport | undefined;
  let delayMs = t.delayLoopMs;
  if (ok || ((s.isUp || !s.hasRun) && s.retryIt >= t.retry)) {
    next = { ...next, retryIt: 0 };
    if (ok && (!s.isUp || !s.hasRun)) report = "up";
    else if (!ok && (s.isUp || !s.hasRun)) report = "down";
  } else if (s.isUp) {
    delayMs = t.delayBeforeRetryMs;
    next = { ...next, retryIt: s.retryIt + 1 };
  }
  if (report !== undefined) next = { ...next, isUp: report === "up" };
  const state = waitFor(next, nowMs, delayMs);
  return report === undefined ? { state } : { state, report };
}

/** check_misc.c: retries are spent while up or before the first run; delays count from the start. */
function miscEpilog(t: CheckerTiming, s: CheckerState, nowMs: number, ok: boolean): CheckerOutput {
  let next: CheckerState = s;
  let report: CheckerReport | undefined;
  if (ok) {
    if (!s.isUp || !s.hasRun) report = "up";
    next = { ...next, retryIt: 0 };
  } else if (s.isUp || !s.hasRun) {
    if (s.retryIt < t.retry) next = { ...next, retryIt: s.retryIt + 1 };
    else {
      next = { ...next, retryIt: 0 };
      report = "down";
    }
  }
  if (report !== undefined) next = { ...next, isUp: report === "up" };
  const fromMs = s.startedMs ?? nowMs;
  const dueMs = fromMs + (next.retryIt > 0 ? t.delayBeforeRetryMs : t.delayLoopMs);
  const state: CheckerState = {
    ...next,
    hasRun: true,
    phase: "waiting",
    dueMs: Math.max(dueMs, nowMs + MIN_MISC_DELAY_MS),
    startedMs: null,
  };
  return report === undefined ? { state } : { state, report };
}

/** check_http.c epilog(REGISTER_CHECKER_NEW): the current URL passed. */
function httpSuccess(t: CheckerTiming, s: CheckerState, nowMs: number): CheckerOutput {
  const urlCount = Math.max(1, t.urlCount ?? 1);
  const wasLast = s.urlIndex >= urlCount - 1;
  let next: CheckerState = { ...s, retryIt: 0, urlIndex: wasLast ? 0 : s.urlIndex + 1 };
  let report: CheckerReport | undefined;
  if (wasLast && s.failedUrl === null) {
    // Every URL passed in this round.
    if (!s.isUp || !s.hasRun) {
      report = "up";
      next = { ...next, isUp: true, hasRun: true };
    }
  } else if (s.failedUrl !== null) {
    // The URL that had failed works again: restart from the first URL.
    next = { ...next, failedUrl: null, urlIndex: 0 };
  }
  // Before the first full round, one failure of a later URL is enough to go down.
  if (!next.hasRun) next = { ...next, retryIt: t.retry };
  const state = httpSchedule(t, next, nowMs, t.delayLoopMs);
  return report === undefined ? { state } : { state, report };
}

/** check_http.c timeout_epilog → epilog(RETRY or FAILED): the current URL failed. */
function httpFailure(t: CheckerTiming, s: CheckerState, nowMs: number): CheckerOutput {
  let next: CheckerState = s;
  let report: CheckerReport | undefined;
  if (s.isUp || !s.hasRun) {
    next = { ...next, hasRun: true, retryIt: s.retryIt + 1 };
    if (next.retryIt > t.retry) {
      if (s.isUp) {
        report = "down";
        next = { ...next, isUp: false };
      }
      next = { ...next, failedUrl: s.urlIndex };
    }
  }
  // A server already known dead is not retried; it waits at least a delay_loop once a URL failed.
  const delayMs =
    next.failedUrl !== null ? Math.max(t.delayBeforeRetryMs, t.delayLoopMs) : t.delayBeforeRetryMs;
  const state = httpSchedule(t, next, nowMs, delayMs);
  return report === undefined ? { state } : { state, report };
}

function httpSchedule(t: CheckerTiming, s: CheckerState, nowMs: number, delayMs: number) {
  const immediate = t.fastRecovery === true && (!s.hasRun || (!s.isUp && s.failedUrl === null));
  return waitFor(s, nowMs, immediate ? 0 : delayMs);
}
