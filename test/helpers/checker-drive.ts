/**
 * Shared blocks of the checker probe tests (test/io/check-*.test.ts): driving the pure retry
 * machine (src/core/check/machine.ts) with real probe results on a virtual clock, and counting
 * event-loop ticks while a probe waits for its timeout.
 */
import { expect } from "bun:test";
import {
  type CheckerKind,
  type CheckerState,
  type CheckerTiming,
  dueChecker,
  nextDeadline,
  resultChecker,
  startChecker,
} from "../../src/core/check/machine.ts";
import type { CheckProbeResult } from "../../src/io/check-tcp.ts";

/** The timing knobs a probe test varies; no warmup and no alpha, as every such test wants. */
export interface DriveTiming {
  readonly kind: CheckerKind;
  readonly delayLoopMs: number;
  readonly delayBeforeRetryMs: number;
  readonly retry: number;
}

export interface DriveOptions<T> {
  /** Added to the virtual clock between the probe's start and its result (misc: a run takes time). */
  readonly probeTookMs?: number;
  /** Called after each result is fed to the machine, to assert on the intermediate state. */
  readonly afterStep?: (step: T, state: CheckerState) => void;
}

export interface DriveOutcome {
  readonly state: CheckerState;
  readonly reports: string[];
}

/**
 * For each step: jump the virtual clock to the machine's next deadline, take the due probe (it
 * must be due), run the real `probe` for that step, and feed its verdict back. Returns the final
 * state and the reports ("up"/"down") in order. A virtual clock, so the test runs the real probe
 * but does not wait for the delays.
 */
export async function driveChecker<T>(
  t: DriveTiming,
  steps: readonly T[],
  probe: (step: T) => Promise<boolean>,
  opts: DriveOptions<T> = {},
): Promise<DriveOutcome> {
  const timing: CheckerTiming = { ...t, warmupMs: 0, alpha: false };
  let now = 0;
  let state = startChecker(timing, now, 0);
  const reports: string[] = [];
  for (const step of steps) {
    now = nextDeadline(state) ?? now;
    const due = dueChecker(state, now);
    expect(due.probe).toBeDefined();
    const ok = await probe(step);
    const out = resultChecker(timing, due.state, now + (opts.probeTookMs ?? 0), ok);
    if (out.report) reports.push(out.report);
    state = out.state;
    opts.afterStep?.(step, state);
  }
  return { state, reports };
}

/** Runs `work` while a 10 ms interval counts ticks: proof the event loop was not blocked. */
export async function whileTicking<R>(
  work: () => Promise<R>,
): Promise<{ result: R; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    return { result: await work(), ticks };
  } finally {
    clearInterval(timer);
  }
}

/**
 * The usual timeout expectations: `probe` (given a 300 ms timeout by the caller) fails with a
 * reason containing `reason`, after at least ~300 ms and well under a second, and the event loop
 * ticked at least 15 times (10 ms each) meanwhile.
 */
export async function expectTimeoutKeepsLoop(
  probe: () => Promise<CheckProbeResult>,
  reason: string,
): Promise<CheckProbeResult> {
  const { result: r, ticks } = await whileTicking(probe);
  expect(r.ok).toBe(false);
  expect(r.reason).toContain(reason);
  expect(r.latencyMs).toBeGreaterThanOrEqual(290);
  expect(r.latencyMs).toBeLessThan(1000);
  expect(ticks).toBeGreaterThanOrEqual(15);
  return r;
}
