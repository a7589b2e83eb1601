import { afterAll, describe, expect, test } from "bun:test";
import { realpathSync } from "node:fs";
import { judgeMiscExit, probeMisc } from "../../src/io/check-misc.ts";
import { type ScriptLog, ScriptRunner } from "../../src/io/script-runner.ts";
import { driveChecker, whileTicking } from "../helpers/checker-drive.ts";

const SH = realpathSync("/bin/sh");
const lines: string[] = [];
const log: ScriptLog = {
  debug: (m) => lines.push(m),
  info: (m) => lines.push(m),
  warn: (m) => lines.push(m),
  error: (m) => lines.push(m),
};
const runner = new ScriptRunner({ log, defaultUser: { uid: 0, gid: 0 }, killAfterMs: 200 });
afterAll(async () => {
  runner.terminateAll(0);
  await runner.drain(5000);
});

const sh = (body: string) => ({ command: [SH, "-c", body] });

describe("MISC_CHECK exit mapping (check_misc.c)", () => {
  test.each([
    [0, false, true, undefined],
    [1, false, false, undefined],
    [2, false, false, undefined],
    [0, true, true, undefined],
    [1, true, false, undefined],
    [2, true, true, 0],
    [12, true, true, 10],
    [255, true, true, 253],
  ] as const)("exit %d, misc_dynamic %s → ok %s weight %s", (code, dynamic, ok, weight) => {
    const r = judgeMiscExit({ code, signal: null, timedOut: false }, dynamic);
    expect(r.ok).toBe(ok);
    expect(r.weight).toBe(weight);
  });
  test("signals and timeouts are failures", () => {
    expect(judgeMiscExit({ code: null, signal: "SIGSEGV", timedOut: false }, true)).toMatchObject({
      ok: false,
      reason: "ended by SIGSEGV",
    });
    expect(judgeMiscExit({ code: null, signal: "SIGTERM", timedOut: true }, true).ok).toBe(false);
  });
});

describe("MISC_CHECK probe with real scripts", () => {
  test("exit 0 up, exit 1 down, misc_dynamic weight from exit 7", async () => {
    expect(
      await probeMisc({ runner, script: sh("exit 0"), timeoutMs: 5000, dynamic: false }),
    ).toMatchObject({ ok: true });
    const down = await probeMisc({ runner, script: sh("exit 1"), timeoutMs: 5000, dynamic: true });
    expect(down.ok).toBe(false);
    expect(down.reason).toContain("status 1");
    const w = await probeMisc({ runner, script: sh("exit 7"), timeoutMs: 5000, dynamic: true });
    expect(w).toMatchObject({ ok: true, weight: 5 });
  });
  test("misc_timeout: a hanging script is killed and down, the loop keeps running", async () => {
    const t0 = performance.now();
    const { result: r, ticks } = await whileTicking(() =>
      probeMisc({ runner, script: sh("sleep 30"), timeoutMs: 300, dynamic: false }),
    );
    expect(r.ok).toBe(false);
    expect(r.reason).toBe("timed out");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(ticks).toBeGreaterThanOrEqual(15);
  });
  test("a missing script is down, not an exception", async () => {
    const r = await probeMisc({
      runner,
      script: { command: ["/nonexistent/check.sh"] },
      timeoutMs: 1000,
      dynamic: false,
    });
    expect(r.ok).toBe(false);
  });
  test("retries counted by the machine: retry 1 → two runs before down", async () => {
    const { state, reports } = await driveChecker(
      { kind: "misc", delayLoopMs: 100, delayBeforeRetryMs: 10, retry: 1 },
      ["exit 0", "exit 1", "exit 1"],
      async (body) =>
        (await probeMisc({ runner, script: sh(body), timeoutMs: 5000, dynamic: false })).ok,
      { probeTookMs: 1 },
    );
    expect(reports).toEqual(["up", "down"]);
    expect(state.attempts).toBe(3);
  });
});
