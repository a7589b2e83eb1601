/** vrrp_sync_group rules (reference §2.14). */
import { describe, expect, test } from "bun:test";
import { initialState } from "../../../src/core/vrrp/step.ts";
import { type GroupState, groupState, stepGroup } from "../../../src/core/vrrp/sync-group.ts";
import type { Action, Event } from "../../../src/core/vrrp/types.ts";
import { advert, params } from "./fixtures.ts";

function group(): GroupState {
  const a = initialState(params({ name: "VI_A", vrid: 1, inSyncGroup: true }), 0);
  const b = initialState(params({ name: "VI_B", vrid: 2, inSyncGroup: true }), 0);
  return groupState("G1", [a, b]);
}

function feed(
  g0: GroupState,
  steps: [number, number, Event][],
): { g: GroupState; actions: Action[][]; groupMoves: string[] } {
  let g = g0;
  const actions: Action[][] = g.members.map(() => []);
  const groupMoves: string[] = [];
  for (const [t, i, e] of steps) {
    const r = stepGroup(g, i, e, t);
    g = r.group;
    for (const [k, list] of r.actions.entries()) actions[k]?.push(...list);
    if (r.groupTransition) groupMoves.push(`${r.groupTransition.from}→${r.groupTransition.to}`);
  }
  return { g, actions, groupMoves };
}

const states = (g: GroupState) => g.members.map((m) => m.state);
const start: [number, number, Event][] = [
  [0, 0, { type: "start" }],
  [0, 1, { type: "start" }],
];

describe("vrrp_sync_group", () => {
  test("the group becomes MASTER only when every member's timer has expired", () => {
    // B still hears its master until 2000 ms; A's timer runs out at 3609 ms, B's at 5609 ms.
    const { g, groupMoves } = feed(group(), [
      ...start,
      [2000, 1, { type: "advert", advert: advert("192.0.2.12", 150) }],
      [3609.375, 0, { type: "tick" }],
    ]);
    expect(states(g)).toEqual(["BACKUP", "BACKUP"]);
    expect(g.members[0]?.syncReady).toBe(true);
    const r = stepGroup(g, 1, { type: "tick" }, 5609.375);
    expect(states(r.group)).toEqual(["MASTER", "MASTER"]);
    expect(groupMoves).toEqual(["INIT→BACKUP"]);
    expect(r.groupTransition).toEqual({ from: "BACKUP", to: "MASTER" });
  });

  test("if one member still hears its master, the group stays BACKUP (never splits)", () => {
    const steps: [number, number, Event][] = [...start];
    for (let t = 1000; t <= 20_000; t += 1000)
      steps.push([t, 1, { type: "advert", advert: advert("192.0.2.12", 150) }]);
    steps.push([20_000, 0, { type: "tick" }]);
    const { g } = feed(group(), steps);
    expect(states(g)).toEqual(["BACKUP", "BACKUP"]);
    expect(g.members[0]?.syncReady).toBe(true);
  });

  test("a member that backs off from MASTER takes the others with it", () => {
    const { g } = feed(group(), [...start, [3609.375, 0, { type: "tick" }]]);
    expect(states(g)).toEqual(["MASTER", "MASTER"]);
    const r = stepGroup(g, 0, { type: "advert", advert: advert("192.0.2.12", 200) }, 4000);
    expect(states(r.group)).toEqual(["BACKUP", "BACKUP"]);
    expect(r.actions[1]?.map((a) => a.type)).toContain("remove-vips");
    expect(r.actions[1]?.some((a) => a.type === "send-advert")).toBe(false);
  });

  test("a fault in one member puts the whole group in FAULT until it clears", () => {
    const { g } = feed(group(), [...start, [3609.375, 0, { type: "tick" }]]);
    const f = stepGroup(g, 1, { type: "fault", reason: "eth1 down", on: true }, 4000);
    expect(states(f.group)).toEqual(["FAULT", "FAULT"]);
    expect(f.actions[0]?.filter((a) => a.type === "send-advert")).toEqual([
      { type: "send-advert", priority: 0 },
    ]);
    expect(f.groupTransition).toEqual({ from: "MASTER", to: "FAULT" });
    const c = stepGroup(f.group, 1, { type: "fault", reason: "eth1 down", on: false }, 5000);
    expect(states(c.group)).toEqual(["BACKUP", "BACKUP"]);
    expect(c.group.members.every((m) => m.faults.length === 0)).toBe(true);
  });
});
