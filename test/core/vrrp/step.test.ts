/** The state machine, rule by rule (RFC 5798 §6.4, keepalived reference §2.3–§2.7). */
import { describe, expect, test } from "bun:test";
import { initialState, step } from "../../../src/core/vrrp/step.ts";
import { nextDeadline } from "../../../src/core/vrrp/timers.ts";
import type { Action, Event, InstanceParams, InstanceState } from "../../../src/core/vrrp/types.ts";
import { advert, params } from "./fixtures.ts";

/** Run events in order, collecting every action. */
function run(
  p: InstanceParams,
  events: [number, Event][],
): { s: InstanceState; actions: Action[] } {
  let s = initialState(p, 0);
  const actions: Action[] = [];
  for (const [t, e] of events) {
    const r = step(s, e, t);
    s = r.state;
    actions.push(...r.actions);
  }
  return { s, actions };
}
const kinds = (a: readonly Action[]) =>
  a
    .filter((x) => x.type !== "mark")
    .map((x) =>
      "priority" in x && x.type === "send-advert"
        ? `advert(${x.priority})`
        : x.type === "garp"
          ? `garp(${x.repeat})`
          : x.type === "notify"
            ? `notify(${x.state})`
            : x.type === "transition"
              ? `${x.from}→${x.to}`
              : x.type,
    );

describe("start-up (§2.3)", () => {
  test("a non-owner enters BACKUP and waits a full Master_Down_Interval", () => {
    const { s, actions } = run(params(), [[1000, { type: "start" }]]);
    expect(s.state).toBe("BACKUP");
    expect(s.downAtMs).toBe(1000 + 3609.375);
    expect(kinds(actions)).toEqual(["INIT→BACKUP", "notify(BACKUP)"]);
  });
  test("state MASTER without priority 255 still waits", () => {
    const { s } = run(params({ wantMaster: true, basePriority: 150 }), [[0, { type: "start" }]]);
    expect(s.state).toBe("BACKUP");
  });
  test("an owner that wants MASTER takes over at once: advert, addresses, GARP, notify", () => {
    const { s, actions } = run(params({ wantMaster: true, basePriority: 255 }), [
      [0, { type: "start" }],
    ]);
    expect(s.state).toBe("MASTER");
    expect(kinds(actions)).toEqual([
      "INIT→BACKUP",
      "notify(BACKUP)",
      "advert(255)",
      "add-vips",
      "garp(5)",
      "BACKUP→MASTER",
      "notify(MASTER)",
    ]);
  });
  test("a fault at start goes straight to FAULT", () => {
    const { s } = run(params(), [
      [0, { type: "fault", reason: "eth0 down", on: true }],
      [0, { type: "start" }],
    ]);
    expect(s.state).toBe("FAULT");
  });
});

describe("BACKUP (RFC 5798 §6.4.2)", () => {
  test("no advert for Master_Down_Interval: MASTER, advert first", () => {
    const { s, actions } = run(params(), [
      [0, { type: "start" }],
      [3609.375, { type: "tick" }],
    ]);
    expect(s.state).toBe("MASTER");
    expect(kinds(actions).slice(2)).toEqual([
      "advert(100)",
      "add-vips",
      "garp(5)",
      "BACKUP→MASTER",
      "notify(MASTER)",
    ]);
    expect(s.stats.become_master).toBe(1);
    expect(s.advertAtMs).toBe(3609.375 + 1000);
  });
  test("one tick before the deadline changes nothing", () => {
    const { s } = run(params(), [
      [0, { type: "start" }],
      [3609, { type: "tick" }],
    ]);
    expect(s.state).toBe("BACKUP");
  });
  test("a higher or equal advert restarts the down timer", () => {
    for (const prio of [100, 150]) {
      const { s } = run(params(), [
        [0, { type: "start" }],
        [2000, { type: "advert", advert: advert("192.0.2.12", prio) }],
      ]);
      expect(s.downAtMs).toBe(2000 + 3609.375);
      expect(s.master).toEqual({ address: "192.0.2.12", priority: prio, atMs: 2000 });
    }
  });
  test("a lower advert is discarded: the timer keeps running (preempt)", () => {
    const { s, actions } = run(params(), [
      [0, { type: "start" }],
      [2000, { type: "advert", advert: advert("192.0.2.12", 50) }],
    ]);
    expect(s.downAtMs).toBe(3609.375);
    expect(actions.some((a) => a.type === "mark" && a.what.includes("discarding"))).toBe(true);
  });
  test("nopreempt accepts a lower advert", () => {
    const { s } = run(params({ nopreempt: true }), [
      [0, { type: "start" }],
      [2000, { type: "advert", advert: advert("192.0.2.12", 50) }],
    ]);
    expect(s.downAtMs).toBe(2000 + 3609.375);
  });
  test("preempt_delay accepts lower adverts for the window, then lets the timer run out", () => {
    const p = params({ preemptDelayMs: 10_000 });
    const ev: [number, Event][] = [[0, { type: "start" }]];
    for (let t = 1000; t <= 13_000; t += 1000)
      ev.push([t, { type: "advert", advert: advert("192.0.2.12", 50) }]);
    const { s } = run(p, ev);
    // The window opened at 1000 and closed at 11000: the last accepted advert was at 10000.
    expect(s.preemptUntilMs).toBe(11_000);
    expect(s.downAtMs).toBe(10_000 + 3609.375);
    const after = step(s, { type: "tick" }, 13_609.375);
    expect(after.state.state).toBe("MASTER");
  });
  test("priority 0 from the master: take over after Skew_Time", () => {
    const { s } = run(params(), [
      [0, { type: "start" }],
      [2000, { type: "advert", advert: advert("192.0.2.12", 0) }],
    ]);
    expect(s.downAtMs).toBe(2000 + 609.375);
    expect(s.stats.pri_zero_rcvd).toBe(1);
  });
  test("v3 adopts the master's interval", () => {
    const p = params({ version: 3, advertIntervalCs: 100 });
    const { s } = run(p, [
      [0, { type: "start" }],
      [100, { type: "advert", advert: advert("192.0.2.12", 150, 50) }],
    ]);
    expect(s.masterAdvertIntervalCs).toBe(50);
    expect(s.downAtMs).toBe(100 + 1500 + 304.687);
  });
  test("v2 never changes its interval", () => {
    const { s } = run(params(), [
      [0, { type: "start" }],
      [100, { type: "advert", advert: advert("192.0.2.12", 150, 300) }],
    ]);
    expect(s.masterAdvertIntervalCs).toBe(100);
  });
  test("a priority change moves the running timer by the change in skew", () => {
    const { s } = run(params(), [
      [0, { type: "start" }],
      [100, { type: "priority", effective: 200 }],
    ]);
    expect(s.effectivePriority).toBe(200);
    expect(s.downAtMs).toBeCloseTo(3609.375 - (609.375 - 218.75), 6);
  });
});

describe("MASTER (RFC 5798 §6.4.3)", () => {
  const master = (p: InstanceParams = params()) =>
    run(p, [
      [0, { type: "start" }],
      [3609.375, { type: "tick" }],
    ]).s;
  test("sends an advert every interval, drift-free", () => {
    let s = master();
    const sent: number[] = [];
    for (const t of [4609.375, 5609.375, 6609.375]) {
      const r = step(s, { type: "tick" }, t);
      s = r.state;
      if (r.actions.some((a) => a.type === "send-advert")) sent.push(t);
    }
    expect(sent).toEqual([4609.375, 5609.375, 6609.375]);
    expect(nextDeadline(s)).toBe(7609.375);
  });
  test("second GARP burst after garp_master_delay", () => {
    const s = master();
    const r = step(s, { type: "tick" }, 3609.375 + 5000);
    expect(kinds(r.actions)).toContain("garp(5)");
  });
  test("a higher advert: BACKUP, addresses removed, no priority-0 advert", () => {
    const r = step(master(), { type: "advert", advert: advert("192.0.2.12", 150) }, 4000);
    expect(r.state.state).toBe("BACKUP");
    expect(kinds(r.actions)).toEqual(["remove-vips", "MASTER→BACKUP", "notify(BACKUP)"]);
    expect(r.state.stats.release_master).toBe(1);
  });
  test("equal priority: the higher address wins", () => {
    expect(
      step(master(), { type: "advert", advert: advert("192.0.2.12", 100) }, 4000).state.state,
    ).toBe("BACKUP");
    const r = step(master(), { type: "advert", advert: advert("192.0.2.10", 100) }, 4000);
    expect(r.state.state).toBe("MASTER");
    expect(kinds(r.actions)).toContain("advert(100)");
  });
  test("a lower advert is answered: advert, GARP burst, notify_master_rx_lower_pri", () => {
    const r = step(master(), { type: "advert", advert: advert("192.0.2.12", 50) }, 4000);
    expect(r.state.state).toBe("MASTER");
    expect(kinds(r.actions)).toEqual(["advert(100)", "garp(5)", "notify-master-rx-lower-pri"]);
    expect(r.state.lowerPrioGarpAtMs).toBe(9000);
  });
  test("lower_prio_no_advert keeps quiet", () => {
    const r = step(
      master(params({ lowerPrioNoAdvert: true })),
      { type: "advert", advert: advert("192.0.2.12", 50) },
      4000,
    );
    expect(kinds(r.actions)).not.toContain("advert(100)");
  });
  test("higher_prio_send_advert sends one advert before yielding", () => {
    const r = step(
      master(params({ higherPrioSendAdvert: true })),
      { type: "advert", advert: advert("192.0.2.12", 150) },
      4000,
    );
    expect(kinds(r.actions)).toEqual([
      "advert(100)",
      "remove-vips",
      "MASTER→BACKUP",
      "notify(BACKUP)",
    ]);
  });
  test("a priority-0 advert from another master is answered at once", () => {
    const r = step(master(), { type: "advert", advert: advert("192.0.2.12", 0) }, 4000);
    expect(r.state.state).toBe("MASTER");
    expect(kinds(r.actions)).toEqual(["advert(100)"]);
  });
});

describe("FAULT and STOP (§2.7, §2.17)", () => {
  const master = () =>
    run(params(), [
      [0, { type: "start" }],
      [3609.375, { type: "tick" }],
    ]).s;
  test("a fault while MASTER: priority-0 advert, addresses removed, FAULT", () => {
    const r = step(master(), { type: "fault", reason: "eth0 down", on: true }, 4000);
    expect(r.state.state).toBe("FAULT");
    expect(kinds(r.actions)).toEqual(["advert(0)", "remove-vips", "MASTER→FAULT", "notify(FAULT)"]);
    expect(nextDeadline(r.state)).toBeUndefined();
    expect(r.state.stats.pri_zero_sent).toBe(1);
  });
  test("all faults must clear; then BACKUP with a full Master_Down_Interval", () => {
    let s = step(master(), { type: "fault", reason: "a", on: true }, 4000).state;
    s = step(s, { type: "fault", reason: "b", on: true }, 4100).state;
    s = step(s, { type: "fault", reason: "a", on: false }, 4200).state;
    expect(s.state).toBe("FAULT");
    s = step(s, { type: "fault", reason: "b", on: false }, 4300).state;
    expect(s.state).toBe("BACKUP");
    expect(s.downAtMs).toBe(4300 + 3609.375);
  });
  test("shutdown from MASTER: priority 0, addresses removed, STOP", () => {
    const r = step(master(), { type: "shutdown" }, 5000);
    expect(kinds(r.actions)).toEqual(["advert(0)", "remove-vips", "MASTER→STOP", "notify(STOP)"]);
    expect(nextDeadline(r.state)).toBeUndefined();
  });
  test("shutdown from BACKUP: STOP only", () => {
    const r = step(run(params(), [[0, { type: "start" }]]).s, { type: "shutdown" }, 10);
    expect(kinds(r.actions)).toEqual(["BACKUP→STOP", "notify(STOP)"]);
  });
  test("an owner's priority never changes", () => {
    const { s } = run(params({ basePriority: 255 }), [[0, { type: "priority", effective: 200 }]]);
    expect(s.effectivePriority).toBe(255);
  });
});
