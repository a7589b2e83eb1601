/**
 * The agent's one timer lives in the receive Worker (a CLOCK_MONOTONIC timerfd): a tick
 * never comes before its deadline, re-arming replaces the deadline, disarming cancels it,
 * and a deadline already past fires at once. (Its precision is a benchmark's business.)
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { monotonicMs } from "../../src/io/clock.ts";
import { Receiver } from "../../src/io/receiver.ts";

let ticks: number[] = [];
const rx = new Receiver(() => {}, { onTick: () => ticks.push(monotonicMs()) });
beforeAll(() => rx.start());
afterAll(() => rx.stop());

async function until(ok: () => boolean, ms: number): Promise<void> {
  const end = monotonicMs() + ms;
  while (!ok() && monotonicMs() < end) await Bun.sleep(1);
}

test("a tick comes at its deadline, never before", async () => {
  ticks = [];
  const at = monotonicMs() + 30;
  rx.setDeadline(at);
  await until(() => ticks.length > 0, 2000);
  expect(ticks).toHaveLength(1);
  expect(ticks[0]).toBeGreaterThanOrEqual(at);
});

test("re-arming replaces the deadline", async () => {
  ticks = [];
  const late = monotonicMs() + 60;
  rx.setDeadline(monotonicMs() + 20);
  rx.setDeadline(late);
  await until(() => ticks.length > 0, 2000);
  expect(ticks[0]).toBeGreaterThanOrEqual(late);
  await Bun.sleep(40);
  expect(ticks).toHaveLength(1);
});

test("disarming cancels it", async () => {
  ticks = [];
  rx.setDeadline(monotonicMs() + 20);
  rx.setDeadline(undefined);
  await Bun.sleep(80);
  expect(ticks).toEqual([]);
});

test("a deadline already past fires at once", async () => {
  ticks = [];
  rx.setDeadline(monotonicMs() - 1000);
  await until(() => ticks.length > 0, 2000);
  expect(ticks).toHaveLength(1);
});
