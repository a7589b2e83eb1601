/**
 * Reload, maintenance and hand-over through the whole shell on the simulator
 * (reference §2.16): instances are matched as keepalived matches them, a MASTER whose
 * configuration is unchanged sends no priority-0 advert, drops no VIP and runs no notify,
 * address changes are applied as a diff, removed instances hand over as on FAULT.
 */
import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import { Hooks } from "../../src/agent/hooks.ts";
import { Agent, type AgentOptions } from "../../src/agent/loop.ts";
import { planInstances } from "../../src/agent/params.ts";
import { type SimHost, SimNet } from "../../src/agent/sim-io.ts";
import { planTracking } from "../../src/agent/track-plan.ts";
import { loadText } from "../../src/config/load.ts";
import type { Model } from "../../src/config/model.ts";

const quiet = createConsola({ level: -999 });

function model(text: string): Model {
  const loaded = loadText(text, "/r.conf", "keepalived", { offline: true });
  if (!loaded.model) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
  return loaded.model;
}

function options(m: Model, host: SimHost): AgentOptions {
  return {
    hooks: new Hooks(m, host),
    tracking: { model: m, plan: planTracking(m), io: host, linkUp: (i) => host.isUp(i) },
  };
}

async function node(net: SimNet, name: string, n: number, text: string) {
  const host = net.host(name, [{ name: "eth0", ipv4: `192.0.2.${10 + n}`, ipv6: `fe80::${n}` }]);
  const m = model(text);
  const agent = new Agent(planInstances(m, host), host, quiet, options(m, host));
  await agent.start();
  const reload = (t: string) => {
    const next = model(t);
    return agent.reload(planInstances(next, host), options(next, host));
  };
  return { host, agent, reload };
}

const inst = (name: string, prio: number, vips: string[], vrid = 51, extra = "") => `
vrrp_instance ${name} {
    state BACKUP
    interface eth0
    virtual_router_id ${vrid}
    priority ${prio}
    advert_int 0.1
    version 3
    virtual_ipaddress {
${vips.map((v) => `        ${v}`).join("\n")}
    }
    notify "/n.sh"
    ${extra}
}`;

const chk = `vrrp_script chk {\n    script "/chk"\n    interval 0.5\n    weight -20\n}\n`;
const global = "global_defs {\n    router_id r\n    vrrp_notify_priority_changes true\n}\n";

describe("reload", () => {
  test("1,000 reloads of an unchanged config: no transition, no VIP removed, no priority-0 advert, no notify", async () => {
    const net = new SimNet();
    const text =
      global +
      chk +
      inst("VI_1", 150, ["192.0.2.100/24"], 51, "track_script {\n chk\n}") +
      inst("VI_2", 100, ["192.0.2.101/24"], 52);
    const a = await node(net, "a", 1, text);
    a.host.outcome = () => ({ success: false, runMs: 5 });
    const b = await node(
      net,
      "b",
      2,
      global + inst("VI_1", 120, ["192.0.2.100/24"]) + inst("VI_2", 120, ["192.0.2.101/24"], 52),
    );
    net.run(3000);
    const st = (n: string) => a.agent.running.get(n)?.state;
    expect([st("VI_1")?.state, st("VI_1")?.effectivePriority, st("VI_2")?.state]).toEqual([
      "MASTER",
      130,
      "BACKUP",
    ]);
    const before = {
      fifo: a.host.fifoLines.length,
      scripts: a.host.scripts.length,
      deletions: a.host.vipDeletions,
      p0: st("VI_1")?.stats.pri_zero_sent,
      transitions: st("VI_1")?.lastTransition,
    };
    for (let i = 0; i < 1000; i++) {
      const rep = await a.reload(text);
      expect(rep).toEqual({ kept: 2, changed: 0, added: 0, removed: 0 });
      net.run(3000 + (i + 1) * 7); // reloads every 7 ms of virtual time, adverts every 100
    }
    net.run(12_000);
    expect(st("VI_1")?.state).toBe("MASTER");
    expect(st("VI_1")?.effectivePriority).toBe(130);
    expect(st("VI_1")?.lastTransition).toEqual(before.transitions);
    expect(st("VI_1")?.stats.pri_zero_sent).toBe(before.p0);
    expect(a.host.vipDeletions).toBe(before.deletions);
    expect(a.host.fifoLines.length).toBe(before.fifo);
    expect(a.host.scripts.length).toBe(before.scripts);
    expect(b.agent.running.get("VI_1")?.state.state).toBe("BACKUP");
    // The script kept its schedule across reloads: one run per 500 ms, not one per reload.
    const runs = a.host.trackerRuns.filter(
      (r) => r.what === "/chk" && r.at > 3000 && r.at <= 10_000,
    );
    expect(runs.length).toBeGreaterThanOrEqual(13);
    expect(runs.length).toBeLessThanOrEqual(15);
  });

  test("a MASTER's addresses change as a diff; a renamed instance is the same instance", async () => {
    const net = new SimNet();
    const a = await node(
      net,
      "a",
      1,
      global + inst("VI_1", 150, ["192.0.2.100/24", "192.0.2.102/24"]),
    );
    net.run(2000);
    expect(a.agent.running.get("VI_1")?.state.state).toBe("MASTER");
    const rep = await a.reload(global + inst("WEB", 150, ["192.0.2.100/24", "192.0.2.103/24"]));
    expect(rep).toEqual({ kept: 0, changed: 1, added: 0, removed: 0 });
    expect([...a.host.held].sort()).toEqual(["192.0.2.100/24", "192.0.2.103/24"]);
    expect(a.host.vipDeletions).toBe(1);
    expect(a.agent.running.get("WEB")?.state.state).toBe("MASTER");
    expect(a.host.fifoLines.filter((l) => l.includes("WEB"))).toEqual([]);
  });

  test("a removed instance hands over as on FAULT; an added one starts", async () => {
    const net = new SimNet();
    const a = await node(net, "a", 1, global + inst("VI_1", 150, ["192.0.2.100/24"]));
    net.run(2000);
    const rep = await a.reload(global + inst("VI_2", 150, ["192.0.2.101/24"], 52));
    expect(rep).toEqual({ kept: 0, changed: 0, added: 1, removed: 1 });
    net.run(4000);
    expect(a.host.fifoLines.slice(-3)).toEqual([
      'INSTANCE "VI_1" FAULT 150\n',
      'INSTANCE "VI_2" BACKUP 150\n',
      'INSTANCE "VI_2" MASTER 150\n',
    ]);
    expect([...a.host.held]).toEqual(["192.0.2.101/24"]);
    expect(a.agent.running.has("VI_1")).toBe(false);
  });
});

describe("maintenance and failover", () => {
  test("maintenance on: the MASTER hands over and stays BACKUP; off: it preempts back", async () => {
    const net = new SimNet();
    const a = await node(net, "a", 1, global + inst("VI_1", 150, ["192.0.2.100/24"]));
    const b = await node(net, "b", 2, global + inst("VI_1", 100, ["192.0.2.100/24"]));
    net.run(2000);
    a.agent.maintenance(true);
    net.run(2100);
    expect(b.agent.running.get("VI_1")?.state.state).toBe("MASTER");
    expect(a.agent.running.get("VI_1")?.state.state).toBe("BACKUP");
    net.run(10_000);
    expect(a.agent.running.get("VI_1")?.state.state).toBe("BACKUP");
    b.host.crash();
    net.run(14_000);
    expect(a.agent.running.get("VI_1")?.state.state).toBe("BACKUP");
    expect(a.host.held.size).toBe(0);
    a.agent.maintenance(false);
    net.run(15_000);
    expect(a.agent.running.get("VI_1")?.state.state).toBe("MASTER");
  });

  test("failover: priority 0 from the MASTER, the peer takes over; with preempt it comes back after Master_Down", async () => {
    const net = new SimNet();
    const a = await node(net, "a", 1, global + inst("VI_1", 150, ["192.0.2.100/24"]));
    const b = await node(net, "b", 2, global + inst("VI_1", 100, ["192.0.2.100/24"]));
    net.run(2000);
    expect(a.agent.failover()).toEqual(["VI_1"]);
    expect(a.agent.running.get("VI_1")?.state.stats.pri_zero_sent).toBe(1);
    net.run(2100);
    expect(b.agent.running.get("VI_1")?.state.state).toBe("MASTER");
    expect(a.agent.running.get("VI_1")?.state.drain).toBeUndefined();
    net.run(3000);
    expect(a.agent.running.get("VI_1")?.state.state).toBe("MASTER");
    expect(a.agent.failover("nope")).toEqual([]);
  });
});
