/**
 * The demo's story, told the same way on a real lab and in the simulator: election, a
 * crash of the master, takeover, recovery with preemption, and a graceful hand-over —
 * each step timed against what the RFC says it should take.
 */
export interface DemoCluster {
  readonly kind: "namespaces" | "simulator";
  nowMs(): number;
  start(host: string): Promise<void>;
  /** kill -9: no hand-over, the VIP stays on the dead node. */
  crash(host: string): void;
  /** SIGTERM: priority-0 advert, VIP removed, exit. */
  stop(host: string): Promise<void>;
  /** Resolves with the time it happened, or rejects after timeoutMs. */
  waitMaster(host: string, timeoutMs: number): Promise<number>;
  holders(): string[];
  /** What `agent status` says on a node (real lab only). */
  status?(host: string, json?: boolean): Promise<string>;
  close(): Promise<void>;
}

export interface Printer {
  say(text: string): void;
}

export const VIP = "192.0.2.100";
export const NODES = [
  { name: "h1", priority: 150 },
  { name: "h2", priority: 100 },
  { name: "h3", priority: 50 },
] as const;

/** keepalived.conf for one demo node: VRRPv2, advert_int 1, PASS auth, one VIP. */
export function demoConfig(priority: number): string {
  return `! edge-agent demo node (priority ${priority})
vrrp_instance VI_DEMO {
    state ${priority === 150 ? "MASTER" : "BACKUP"}
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass demo
    }
    virtual_ipaddress {
        ${VIP}/24 dev eth0
    }
}
`;
}

/** RFC 3768 §6.1: Master_Down = 3 × Advertisement_Interval + (256 − Priority)/256 s. */
const masterDownMs = (p: number) => 3000 + ((256 - p) * 1000) / 256;
const skewMs = (p: number) => ((256 - p) * 1000) / 256;
const ms = (x: number) => `${Math.round(x)} ms`;

export async function tell(c: DemoCluster, out: Printer): Promise<void> {
  out.say(
    `Three agents on one L2 segment (${c.kind}): h1 priority 150, h2 100, h3 50; VIP ${VIP}; VRRPv2, advert_int 1 s.`,
  );
  out.say(
    "1. Election: everyone starts as BACKUP and waits one Master_Down_Interval for a better master.",
  );
  const t0 = c.nowMs();
  await Promise.all(NODES.map((n) => c.start(n.name)));
  const elected = await c.waitMaster("h1", 10_000);
  out.say(
    `   h1 is MASTER after ${ms(elected - t0)} (RFC: ${ms(masterDownMs(150))}); the VIP is on ${c.holders().join(", ")}.`,
  );
  if (c.status) {
    for (const line of (await c.status("h1")).split("\n")) out.say(`   ${line}`);
    for (const line of (await c.status("h2", true)).split("\n")) out.say(`   ${line}`);
  }

  out.say("2. Crash: kill -9 h1 — no goodbye, its VIP stays on its interface.");
  const t1 = c.nowMs();
  c.crash("h1");
  const took = await c.waitMaster("h2", 10_000);
  out.say(
    `   h2 took over ${ms(took - t1)} after the kill (at most ${ms(masterDownMs(100))} after h1's last advert). The VIP is on ${c.holders().join(", ")} — the dead h1 still has it until it restarts.`,
  );

  out.say(
    "3. Recovery: h1 restarts, removes the VIP it left behind, and preempts h2 (higher priority).",
  );
  const t2 = c.nowMs();
  await c.start("h1");
  const back = await c.waitMaster("h1", 15_000);
  out.say(
    `   h1 is MASTER again after ${ms(back - t2)} (it waits one Master_Down, ${ms(masterDownMs(150))}, ignoring h2's lower adverts). VIP on ${c.holders().join(", ")}.`,
  );

  out.say(
    "4. Graceful hand-over: SIGTERM to h1 — it sends a priority-0 advert and removes the VIP.",
  );
  const t3 = c.nowMs();
  await c.stop("h1");
  const handed = await c.waitMaster("h2", 5_000);
  out.say(
    `   h2 is MASTER ${ms(handed - t3)} after the signal (RFC: skew, ${ms(skewMs(100))}). VIP on ${c.holders().join(", ")}.`,
  );
  out.say("Done: election, failover, recovery and hand-over, each at the protocol's timing.");
}
