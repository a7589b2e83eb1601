/** Named scenarios on the simulator, each with its expected timing (reference §2, anchors.md). */
import { describe, expect, test } from "bun:test";
import { converged, legalTransitions, vipsFollowState } from "./invariants.ts";
import { type NodeSpec, Sim } from "./sim.ts";

const A: NodeSpec = { name: "a", address: "192.0.2.11", priority: 150 };
const B: NodeSpec = { name: "b", address: "192.0.2.12", priority: 100 };
const C: NodeSpec = { name: "c", address: "192.0.2.13", priority: 50 };

function sim(nodes: NodeSpec[], version: 2 | 3 = 2, advertIntervalCs = 100): Sim {
  const s = new Sim({
    seed: 1,
    version,
    advertIntervalCs,
    nodes,
    trace: process.env.SIM_TRACE === "1",
  });
  s.checks.push(vipsFollowState, legalTransitions());
  for (let i = 0; i < nodes.length; i++) s.start(i);
  return s;
}

const becameMaster = (s: Sim, name: string) =>
  s.nodes
    .find((n) => n.spec.name === name)
    ?.transitions.filter((t) => t.to === "MASTER")
    .map((t) => t.at) ?? [];
const lastAdvertBefore = (s: Sim, name: string, t: number) => {
  const sent =
    s.nodes.find((n) => n.spec.name === name)?.sent.filter((x) => x.at <= t && x.priority > 0) ??
    [];
  return sent[sent.length - 1]?.at ?? Number.NaN;
};

describe("scenarios", () => {
  test("election: the higher priority wins after its own Master_Down_Interval", () => {
    const s = sim([A, B]);
    s.run(10_000);
    converged(s);
    expect(becameMaster(s, "a")[0]).toBeCloseTo(3000 + 414.0625, 0);
    expect(becameMaster(s, "b")).toEqual([]);
  });

  test("kill -9 of the master: the backup takes over one Master_Down_Interval after the last advert", () => {
    const s = sim([A, B]);
    s.run(10_000);
    s.crash(0);
    s.run(20_000);
    converged(s);
    const took = becameMaster(s, "b")[0] as number;
    expect(took - lastAdvertBefore(s, "a", 10_000)).toBeCloseTo(3609.375, 0);
  });

  test("graceful stop: priority 0, the backup takes over after Skew_Time", () => {
    const s = sim([A, B]);
    s.run(10_000);
    s.deliver(0, { type: "shutdown" });
    s.nodes[0]!.running = false;
    s.run(12_000);
    const took = becameMaster(s, "b")[0] as number;
    expect(took - 10_000).toBeGreaterThan(609);
    expect(took - 10_000).toBeLessThan(611);
  });

  test("preempt: a restarted higher-priority node takes the VIP back", () => {
    const s = sim([A, B]);
    s.run(10_000);
    s.crash(0);
    s.run(20_000);
    s.start(0);
    s.run(30_000);
    converged(s);
    expect(s.masters()[0]?.spec.name).toBe("a");
  });

  test("nopreempt: the restarted node stays BACKUP", () => {
    const s = sim([
      { ...A, nopreempt: true },
      { ...B, nopreempt: true },
    ]);
    s.run(10_000);
    s.crash(0);
    s.run(20_000);
    s.start(0);
    s.run(40_000);
    converged(s);
    expect(s.masters()[0]?.spec.name).toBe("b");
  });

  test("preempt_delay: takeover ≈ delay + Master_Down_Interval after the first lower advert", () => {
    const s = sim([{ ...A, preemptDelayMs: 8000 }, B]);
    s.run(10_000);
    s.crash(0);
    s.run(20_000);
    s.start(0);
    s.run(60_000);
    converged(s);
    // The window opens at the first lower advert and the last accepted one is at most an
    // interval before it closes: takeover = D + Master_Down ± one interval after restart.
    const back = becameMaster(s, "a")[1] as number;
    expect(back - 20_000).toBeGreaterThan(8000 + 3414.0625 - 1000);
    expect(back - 20_000).toBeLessThan(8000 + 3414.0625 + 1000);
  });

  test("equal priorities: the higher address is MASTER", () => {
    const s = sim([
      { ...A, priority: 100 },
      { ...B, priority: 100 },
    ]);
    s.run(20_000);
    converged(s);
    expect(s.masters()[0]?.spec.name).toBe("b");
  });

  test("a fault on the master hands over after Skew_Time and comes back when it clears", () => {
    const s = sim([A, B]);
    s.run(10_000);
    s.fault(0, "eth0 down", true);
    s.run(15_000);
    expect(s.masters()[0]?.spec.name).toBe("b");
    s.fault(0, "eth0 down", false);
    s.run(25_000);
    converged(s);
    expect(s.masters()[0]?.spec.name).toBe("a");
  });

  test("partition: both become MASTER; after healing exactly one remains", () => {
    const s = sim([A, B, C]);
    s.run(10_000);
    s.cut.add("0-1").add("0-2");
    s.run(20_000);
    expect(
      s
        .masters()
        .map((n) => n.spec.name)
        .sort(),
    ).toEqual(["a", "b"]);
    s.cut.clear();
    s.run(22_000);
    converged(s);
    expect(s.masters()[0]?.spec.name).toBe("a");
  });

  test("VRRPv3 at 0.1 s: Master_Down 360.9 ms for priority 100", () => {
    const s = sim([A, B], 3, 10);
    s.run(5_000);
    s.crash(0);
    s.run(6_000);
    const took = becameMaster(s, "b")[0] as number;
    expect(took - lastAdvertBefore(s, "a", 5_000)).toBeCloseTo(360.937, 0);
  });

  test("an owner (priority 255) with state MASTER is master at once and ignores trackers", () => {
    const s = sim([{ ...A, priority: 255, wantMaster: true }, B]);
    s.run(1);
    expect(s.masters()[0]?.spec.name).toBe("a");
    expect(becameMaster(s, "a")[0]).toBe(0);
  });
});
