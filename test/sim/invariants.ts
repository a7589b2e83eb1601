/**
 * What must always hold, checked after every simulated event, and what must hold once the
 * network and the nodes are healthy again (design §5, issue 3).
 */
import { masterDownUs } from "../../src/core/vrrp/timers.ts";
import type { VrrpState } from "../../src/core/vrrp/types.ts";
import type { Sim, SimNode } from "./sim.ts";

const LEGAL = new Set([
  "INIT→BACKUP",
  "INIT→FAULT",
  "INIT→STOP",
  "BACKUP→MASTER",
  "BACKUP→FAULT",
  "BACKUP→STOP",
  "MASTER→BACKUP",
  "MASTER→FAULT",
  "MASTER→STOP",
  "FAULT→BACKUP",
  "FAULT→STOP",
]);

export class InvariantError extends Error {}

export function fail(sim: Sim, msg: string): never {
  throw new InvariantError(
    `t=${sim.now.toFixed(3)} ms: ${msg}\n--- trace (last 60) ---\n${sim.log.slice(-60).join("\n")}`,
  );
}

/** VIPs held ⇔ MASTER, for every running node. */
export function vipsFollowState(sim: Sim): void {
  for (const n of sim.nodes) {
    if (n.running && n.vips !== (n.state.state === "MASTER"))
      fail(
        sim,
        `${n.spec.name} is ${n.state.state} but ${n.vips ? "holds" : "does not hold"} the VIPs`,
      );
  }
}

/** Only the transitions of the state diagram (RFC 5798 §6.4 plus keepalived's FAULT/STOP). */
export function legalTransitions(): (sim: Sim) => void {
  const seen = new Map<SimNode, number>();
  return (sim) => {
    for (const n of sim.nodes) {
      for (let k = seen.get(n) ?? 0; k < n.transitions.length; k++) {
        const t = n.transitions[k] as { from: VrrpState; to: VrrpState };
        if (!LEGAL.has(`${t.from}→${t.to}`))
          fail(sim, `${n.spec.name}: illegal transition ${t.from}→${t.to}`);
      }
      seen.set(n, n.transitions.length);
    }
  };
}

/**
 * Whether BACKUP `a` would take over from MASTER `b`: only with a strictly higher priority.
 * A BACKUP accepts an equal-priority master (RFC 5798 §6.4.2, "greater than or equal");
 * addresses only break ties between two MASTERs (§6.4.3).
 */
function wouldPreempt(a: SimNode, b: SimNode): boolean {
  return a.state.effectivePriority > b.state.effectivePriority && !a.state.params.nopreempt;
}

/**
 * Converged: exactly one MASTER among the running nodes, and no BACKUP that would preempt
 * it (a better node that is not nopreempt) — so it is the best, unless nopreempt says
 * otherwise.
 */
export function converged(sim: Sim): void {
  const masters = sim.masters();
  const states = sim.nodes
    .map((n) => `${n.spec.name}=${n.running ? n.state.state : "down"}`)
    .join(" ");
  if (masters.length !== 1)
    fail(sim, `expected exactly one MASTER, have ${masters.length}: ${states}`);
  const m = masters[0] as SimNode;
  for (const n of sim.nodes) {
    if (n === m || !n.running || n.state.state !== "BACKUP") continue;
    if (wouldPreempt(n, m))
      fail(
        sim,
        `${n.spec.name} (${n.state.effectivePriority}) would preempt ${m.spec.name}: ${states}`,
      );
  }
}

/**
 * How long healing may take: the slowest Master_Down + one interval (issue 3). With
 * preempt_delay it can stack: first some master must appear (one Master_Down), then the
 * better node's delay window opens at its first lower advert and a Master_Down follows.
 */
export function settleMs(sim: Sim): number {
  let mdi = 0;
  let delay = 0;
  for (const n of sim.nodes) {
    const p = n.state.params;
    mdi = Math.max(mdi, masterDownUs(p, 1, p.advertIntervalCs) / 1000 + p.advertIntervalCs * 10);
    delay = Math.max(delay, p.preemptDelayMs);
  }
  return (delay > 0 ? 2 * mdi + delay : mdi) + sim.net.delayMaxMs + 1;
}
