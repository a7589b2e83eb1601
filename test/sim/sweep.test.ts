/**
 * Seed sweep: for each seed, a random cluster (2–4 routers, random priorities incl. ties,
 * nopreempt, preempt_delay, an owner; v2 at 1 s or v3 at 0.1–1 s) goes through a random
 * schedule of crashes, restarts, faults, partitions and lossy / duplicating / delaying
 * network storms. Every event is checked against the invariants; after everything heals,
 * the cluster must converge within the settle time and then stay still.
 *
 *   SIM_SEEDS=5000 bun test test/sim/sweep.test.ts    more seeds
 *   SEED=1234 bun test test/sim/sweep.test.ts         replay one seed with its full trace
 */
import { expect, test } from "bun:test";
import { mulberry32 } from "../../src/core/prng.ts";
import { converged, legalTransitions, settleMs, vipsFollowState } from "./invariants.ts";
import { CLEAN, type NodeSpec, pairKey, Sim } from "./sim.ts";

const ONE = process.env.SEED;
const SEEDS = ONE
  ? [Number(ONE)]
  : Array.from({ length: Number(process.env.SIM_SEEDS ?? 1000) }, (_, i) => i + 1);

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function cluster(r: () => number): { nodes: NodeSpec[]; version: 2 | 3; intervalCs: number } {
  const count = 2 + Math.floor(r() * 3);
  let owner = r() < 0.1;
  const nodes: NodeSpec[] = [];
  for (let i = 0; i < count; i++) {
    const isOwner = owner && i === 0;
    owner = owner && !isOwner;
    nodes.push({
      name: `n${i}`,
      address: `192.0.2.${11 + i}`,
      priority: isOwner ? 255 : pick(r, [50, 100, 100, 150, 200, 254]),
      wantMaster: isOwner || r() < 0.1,
      nopreempt: !isOwner && r() < 0.2,
      preemptDelayMs: !isOwner && r() < 0.1 ? Math.floor(r() * 3000) : 0,
    });
  }
  const version = r() < 0.5 ? 2 : 3;
  return { nodes, version, intervalCs: version === 2 ? 100 : pick(r, [10, 20, 50, 100]) };
}

/** A random disruption at time t; returns a description for the trace. */
function disrupt(sim: Sim, r: () => number, intervalMs: number): void {
  const n = sim.nodes.length;
  const i = Math.floor(r() * n);
  const node = sim.nodes[i]!;
  const kind = pick(r, [
    "crash",
    "restart",
    "fault",
    "unfault",
    "cut",
    "heal",
    "storm",
    "calm",
    "stop",
  ] as const);
  switch (kind) {
    case "crash":
      if (node.running) sim.crash(i);
      return;
    case "restart":
      if (!node.running) sim.start(i);
      return;
    case "fault":
      if (node.running) sim.fault(i, pick(r, ["if", "script"]), true);
      return;
    case "unfault":
      if (node.running) sim.fault(i, pick(r, ["if", "script"]), false);
      return;
    case "cut":
      sim.cut.add(pairKey(i, (i + 1 + Math.floor(r() * (n - 1))) % n));
      sim.trace(`cut ${[...sim.cut].join(",")}`);
      return;
    case "heal":
      sim.cut.clear();
      sim.trace("heal");
      return;
    case "storm":
      sim.net = {
        lossRate: r() * 0.5,
        dupRate: r() * 0.2,
        delayMinMs: 0,
        delayMaxMs: r() * intervalMs * 0.5,
      };
      sim.trace(`storm ${JSON.stringify(sim.net)}`);
      return;
    case "calm":
      sim.net = CLEAN;
      sim.trace("calm");
      return;
    case "stop":
      if (!node.running) return;
      sim.deliver(i, { type: "shutdown" });
      node.running = false;
      sim.trace(`${node.spec.name} stopped`);
      return;
  }
}

function runSeed(seed: number): void {
  const r = mulberry32(seed ^ 0x5bd1e995);
  const { nodes, version, intervalCs } = cluster(r);
  const sim = new Sim({
    seed,
    version,
    advertIntervalCs: intervalCs,
    nodes,
    trace: ONE !== undefined,
  });
  sim.checks.push(vipsFollowState, legalTransitions());
  sim.trace(`seed ${seed}: v${version} ${intervalCs} cs ${JSON.stringify(nodes)}`);
  const intervalMs = intervalCs * 10;
  for (let i = 0; i < nodes.length; i++) sim.at(r() * intervalMs * 3, () => sim.start(i));
  const chaosEnd = intervalMs * 60;
  const disruptions = Math.floor(r() * 12);
  for (let k = 0; k < disruptions; k++)
    sim.at(intervalMs * 5 + r() * (chaosEnd - intervalMs * 5), () => disrupt(sim, r, intervalMs));
  sim.run(chaosEnd);
  // Heal everything: clean network, no cuts, no faults, every node running.
  sim.net = CLEAN;
  sim.cut.clear();
  sim.trace("— heal all —");
  sim.nodes.forEach((n, i) => {
    for (const f of [...n.state.faults]) sim.fault(i, f, false);
    if (!n.running) sim.start(i);
  });
  const healed = sim.now;
  sim.run(healed + settleMs(sim));
  converged(sim);
  const transitionsAtSettle = sim.nodes.map((n) => n.transitions.length);
  sim.run(sim.now + intervalMs * 10);
  converged(sim);
  const moved = sim.nodes
    .filter((n, i) => n.transitions.length !== transitionsAtSettle[i])
    .map((n) => n.spec.name);
  if (moved.length)
    throw new Error(
      `not stable after converging: ${moved.join(", ")} changed state\n${sim.log.slice(-40).join("\n")}`,
    );
}

test(`simulator seed sweep (${SEEDS.length} seed${SEEDS.length === 1 ? "" : "s"})`, () => {
  const failures: string[] = [];
  for (const seed of SEEDS) {
    try {
      runSeed(seed);
    } catch (e) {
      failures.push(
        `seed ${seed} (replay: SEED=${seed} bun test test/sim/sweep.test.ts): ${e instanceof Error ? e.message : String(e)}`,
      );
      if (failures.length >= 3) break;
    }
  }
  expect(failures.join("\n\n")).toBe("");
}, 120_000);
