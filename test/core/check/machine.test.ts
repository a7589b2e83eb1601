import { describe, expect, test } from "bun:test";
import {
  BOOTSTRAP_DELAY_MS,
  type CheckerOutput,
  type CheckerState,
  type CheckerTiming,
  checkerTiming,
  dueChecker,
  nextDeadline,
  resultChecker,
  startChecker,
} from "../../../src/core/check/machine.ts";

const base = { delayLoopMs: 6000, delayBeforeRetryMs: 1000, warmupMs: 0, alpha: false } as const;

/** One step of a scenario: the probe result, then what we expect the machine to do. */
interface Step {
  ok: boolean;
  /** Report expected ("up"/"down") or none. */
  report?: "up" | "down";
  /** Delay until the next probe, in ms. */
  delayMs: number;
  isUp: boolean;
  url?: number;
}

/** Drive the machine through `steps`, checking every report, delay and verdict. */
function drive(timing: CheckerTiming, steps: Step[]) {
  let state: CheckerState = startChecker(timing, 0, 0);
  let now = BOOTSTRAP_DELAY_MS;
  expect(nextDeadline(state)).toBe(now);
  steps.forEach((step, i) => {
    const due = dueChecker(state, now);
    expect(due.probe, `step ${i} probe`).toBeDefined();
    if (step.url !== undefined) expect(due.probe?.urlIndex, `step ${i} url`).toBe(step.url);
    now += 10; // the probe takes 10 ms
    const out: CheckerOutput = resultChecker(timing, due.state, now, step.ok);
    expect(out.report, `step ${i} report`).toBe(step.report);
    expect(out.state.isUp, `step ${i} isUp`).toBe(step.isUp);
    const next = nextDeadline(out.state);
    expect(next, `step ${i} next`).not.toBeNull();
    const delay = (next ?? 0) - now;
    // misc schedules from the probe's start, the others from its end.
    expect(delay, `step ${i} delay`).toBe(
      timing.kind === "misc" ? step.delayMs - 10 : step.delayMs,
    );
    state = out.state;
    now = next ?? now;
  });
  return state;
}

describe("checker machine: start", () => {
  test.each([
    [0, 0, 1000],
    [10_000, 0.5, 6000],
    [10_000, 1, 11_000],
    [10_000, 7, 11_000], // clamped draw
  ])("warmup %d with draw %d → first probe at %d ms", (warmupMs, draw, dueMs) => {
    const s = startChecker({ ...base, kind: "tcp", retry: 1, warmupMs }, 0, draw);
    expect(nextDeadline(s)).toBe(dueMs);
    expect(dueChecker(s, dueMs - 1).probe).toBeUndefined();
    expect(dueChecker(s, dueMs).probe).toEqual({ urlIndex: 0 });
  });
  test("alpha starts down, otherwise up", () => {
    expect(startChecker({ ...base, kind: "tcp", retry: 1, alpha: true }, 0, 0).isUp).toBe(false);
    expect(startChecker({ ...base, kind: "tcp", retry: 1 }, 0, 0).isUp).toBe(true);
  });
  test("a result without a running probe changes nothing", () => {
    const t: CheckerTiming = { ...base, kind: "tcp", retry: 1 };
    const s = startChecker(t, 0, 0);
    expect(resultChecker(t, s, 5, false).state).toBe(s);
  });
});

describe("checker machine: TCP (check_tcp.c tcp_epilog)", () => {
  const cases: [string, CheckerTiming, Step[]][] = [
    [
      "first success reports up, then quiet",
      { ...base, kind: "tcp", retry: 1 },
      [
        { ok: true, report: "up", delayMs: 6000, isUp: true },
        { ok: true, delayMs: 6000, isUp: true },
      ],
    ],
    [
      "retry 2: two retries at delay_before_retry, then down; down re-probes at delay_loop; one success → up",
      { ...base, kind: "tcp", retry: 2 },
      [
        { ok: true, report: "up", delayMs: 6000, isUp: true },
        { ok: false, delayMs: 1000, isUp: true },
        { ok: false, delayMs: 1000, isUp: true },
        { ok: false, report: "down", delayMs: 6000, isUp: false },
        { ok: false, delayMs: 6000, isUp: false },
        { ok: true, report: "up", delayMs: 6000, isUp: true },
      ],
    ],
    [
      "at start one failure is enough (check_data.c: retry_it starts at retry)",
      { ...base, kind: "tcp", retry: 3 },
      [
        { ok: false, report: "down", delayMs: 6000, isUp: false },
        { ok: true, report: "up", delayMs: 6000, isUp: true },
      ],
    ],
    [
      "a success between failures resets the retry count",
      { ...base, kind: "tcp", retry: 1 },
      [
        { ok: true, report: "up", delayMs: 6000, isUp: true },
        { ok: false, delayMs: 1000, isUp: true },
        { ok: true, delayMs: 6000, isUp: true },
        { ok: false, delayMs: 1000, isUp: true },
        { ok: false, report: "down", delayMs: 6000, isUp: false },
      ],
    ],
    [
      "retry 0: the first failure is down",
      { ...base, kind: "tcp", retry: 0 },
      [{ ok: false, report: "down", delayMs: 6000, isUp: false }],
    ],
    [
      "alpha: the first failure reports down (unchanged), later ones spend no retries",
      { ...base, kind: "tcp", retry: 3, alpha: true },
      [
        { ok: false, report: "down", delayMs: 6000, isUp: false },
        { ok: false, delayMs: 6000, isUp: false },
        { ok: true, report: "up", delayMs: 6000, isUp: true },
      ],
    ],
  ];
  test.each(cases)("%s", (_name, timing, steps) => {
    drive(timing, steps);
  });
  test("counts attempts", () => {
    const s = drive({ ...base, kind: "tcp", retry: 2 }, [
      { ok: true, report: "up", delayMs: 6000, isUp: true },
      { ok: false, delayMs: 1000, isUp: true },
      { ok: false, delayMs: 1000, isUp: true },
      { ok: false, report: "down", delayMs: 6000, isUp: false },
    ]);
    expect(s.attempts).toBe(4);
  });
});

describe("checker machine: HTTP/SSL (check_http.c epilog)", () => {
  const cases: [string, CheckerTiming, Step[]][] = [
    [
      "two URLs, one per delay_loop; up after the round",
      { ...base, kind: "http", retry: 1, urlCount: 2 },
      [
        { ok: true, delayMs: 6000, isUp: true, url: 0 },
        { ok: true, report: "up", delayMs: 6000, isUp: true, url: 1 },
        { ok: true, delayMs: 6000, isUp: true, url: 0 },
      ],
    ],
    [
      "retry 1: a retry at delay_before_retry, then down; down waits max(delay_loop, dbr); the failed URL passing clears the failure, the next full round is up",
      { ...base, kind: "http", retry: 1 },
      [
        { ok: true, report: "up", delayMs: 6000, isUp: true },
        { ok: false, delayMs: 1000, isUp: true },
        { ok: false, report: "down", delayMs: 6000, isUp: false },
        { ok: false, delayMs: 6000, isUp: false },
        { ok: true, delayMs: 6000, isUp: false },
        { ok: true, report: "up", delayMs: 6000, isUp: true },
      ],
    ],
    [
      "the failed URL passing again restarts from the first URL",
      { ...base, kind: "http", retry: 0, urlCount: 2 },
      [
        { ok: true, delayMs: 6000, isUp: true, url: 0 },
        { ok: false, report: "down", delayMs: 6000, isUp: false, url: 1 },
        { ok: true, delayMs: 6000, isUp: false, url: 1 },
        { ok: true, delayMs: 6000, isUp: false, url: 0 },
        { ok: true, report: "up", delayMs: 6000, isUp: true, url: 1 },
      ],
    ],
    [
      "before the first full round, a later URL failing is down at once",
      { ...base, kind: "http", retry: 3, urlCount: 2 },
      [
        { ok: true, delayMs: 6000, isUp: true, url: 0 },
        { ok: false, report: "down", delayMs: 6000, isUp: false, url: 1 },
      ],
    ],
    [
      "fast_recovery probes again at once until the first round is done",
      { ...base, kind: "http", retry: 1, urlCount: 2, fastRecovery: true },
      [
        { ok: true, delayMs: 0, isUp: true, url: 0 },
        { ok: true, report: "up", delayMs: 6000, isUp: true, url: 1 },
      ],
    ],
    [
      "delay_before_retry longer than delay_loop is kept once down",
      { ...base, kind: "http", retry: 0, delayBeforeRetryMs: 9000 },
      [
        { ok: true, report: "up", delayMs: 6000, isUp: true },
        { ok: false, report: "down", delayMs: 9000, isUp: false },
      ],
    ],
  ];
  test.each(cases)("%s", (_name, timing, steps) => {
    drive(timing, steps);
  });
});

describe("checker machine: MISC (check_misc.c)", () => {
  const cases: [string, CheckerTiming, Step[]][] = [
    [
      "retry 1 then down; schedule counts from the start of the run",
      { ...base, kind: "misc", retry: 1 },
      [
        { ok: true, report: "up", delayMs: 6000, isUp: true },
        { ok: false, delayMs: 1000, isUp: true },
        { ok: false, report: "down", delayMs: 6000, isUp: false },
        { ok: false, delayMs: 6000, isUp: false },
        { ok: true, report: "up", delayMs: 6000, isUp: true },
      ],
    ],
    [
      "alpha: the first failure reports down (unchanged), later ones are quiet",
      { ...base, kind: "misc", retry: 1, alpha: true },
      [
        { ok: false, report: "down", delayMs: 6000, isUp: false },
        { ok: false, delayMs: 6000, isUp: false },
        { ok: true, report: "up", delayMs: 6000, isUp: true },
      ],
    ],
  ];
  test.each(cases)("%s", (_name, timing, steps) => {
    drive(timing, steps);
  });
  test("at start one failure is enough", () => {
    drive({ ...base, kind: "misc", retry: 2 }, [
      { ok: false, report: "down", delayMs: 6000, isUp: false },
    ]);
    drive({ ...base, kind: "http", retry: 2 }, [
      { ok: false, report: "down", delayMs: 6000, isUp: false },
    ]);
  });
  test("a run longer than the delay is rescheduled right after it", () => {
    const t: CheckerTiming = { ...base, kind: "misc", retry: 0 };
    const due = dueChecker(startChecker(t, 0, 0), 1000);
    const out = resultChecker(t, due.state, 9000, true);
    const next = nextDeadline(out.state) ?? 0;
    expect(next).toBeGreaterThan(9000);
    expect(next).toBeLessThan(9001);
  });
  test("changed is set only when the verdict flips", () => {
    const t: CheckerTiming = { ...base, kind: "misc", retry: 0 };
    const due = dueChecker(startChecker(t, 0, 0), 1000);
    const first = resultChecker(t, due.state, 1001, true);
    expect(first.report).toBe("up");
    expect(first.changed).toBe(false);
    const due2 = dueChecker(first.state, nextDeadline(first.state) ?? 0);
    const down = resultChecker(t, due2.state, 8000, false);
    expect(down.changed).toBe(true);
  });
});

describe("checker timing from the config model", () => {
  test("seconds to ms, kind by keyword, URL count", () => {
    const c = { delay_loop: 6, delay_before_retry: 2, retry: 3, warmup: 0.5, url: [{}, {}] };
    expect(checkerTiming("HTTP_GET", c)).toEqual({
      kind: "http",
      delayLoopMs: 6000,
      delayBeforeRetryMs: 2000,
      retry: 3,
      warmupMs: 500,
      alpha: false,
      urlCount: 2,
      fastRecovery: false,
    });
    expect(checkerTiming("TCP_CHECK", { ...c, alpha: true })).toMatchObject({
      kind: "tcp",
      alpha: true,
    });
    expect(checkerTiming("TCP_CHECK", c).urlCount).toBeUndefined();
    expect(checkerTiming("MISC_CHECK", c).kind).toBe("misc");
  });
});
