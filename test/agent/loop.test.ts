/**
 * The whole shell without root: real configs → plans → Agent loop → effects encoding real
 * adverts → a simulated segment → decode → receive checks → step. Timings are the RFC's.
 */
import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import { Hooks } from "../../src/agent/hooks.ts";
import { Agent } from "../../src/agent/loop.ts";
import { planInstances } from "../../src/agent/params.ts";
import { type SimHost, SimNet } from "../../src/agent/sim-io.ts";
import { loadText } from "../../src/config/load.ts";

const quiet = createConsola({ level: -999 });

function conf(state: string, prio: number, extra = "", instance = ""): string {
  return `
global_defs {
    router_id test
}
vrrp_instance VI_1 {
    state ${state}
    interface eth0
    virtual_router_id 51
    priority ${prio}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        192.0.2.100/24 dev eth0
    }
    notify "/usr/local/bin/notify.sh"
    ${extra}
}
${instance}`;
}

async function node(
  net: SimNet,
  name: string,
  n: number,
  text: string,
): Promise<{ host: SimHost; agent: Agent }> {
  const host = net.host(name, [
    { name: "eth0", ipv4: `192.0.2.${10 + n}`, ipv6: `fe80::${n}` },
    { name: "eth1", ipv4: `198.51.100.${10 + n}`, ipv6: `fe80::1:${n}` },
  ]);
  const loaded = loadText(text, `/${name}.conf`, "keepalived", { offline: true });
  if (!loaded.model) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
  const agent = new Agent(planInstances(loaded.model, host), host, quiet, {
    hooks: new Hooks(loaded.model, host),
  });
  await agent.start();
  return { host, agent };
}

const state = (a: Agent, name = "VI_1") => a.running.get(name)?.state.state;

describe("agent loop on a simulated segment", () => {
  test("election, kill -9 failover at Master_Down, recovery by preemption", async () => {
    const net = new SimNet();
    const a = await node(net, "lb1", 1, conf("MASTER", 150));
    const b = await node(net, "lb2", 2, conf("BACKUP", 100));
    net.run(5000);
    expect([state(a.agent), state(b.agent)]).toEqual(["MASTER", "BACKUP"]);
    expect(a.host.held.has("192.0.2.100/24")).toBe(true);
    expect(b.host.held.size).toBe(0);
    // Crash lb1 (its VIP stays, as after kill -9); lb2 takes over Master_Down after the last advert.
    const lastAdvert = a.agent.running.get("VI_1")!.state.stats.advert_sent;
    expect(lastAdvert).toBeGreaterThan(0);
    a.host.crash();
    net.run(5000 + 3700);
    expect(state(b.agent)).toBe("MASTER");
    expect(b.host.garps.length).toBe(1);
    expect(b.host.scripts.map((s) => s.argv.join(" "))).toContain(
      "/usr/local/bin/notify.sh INSTANCE VI_1 MASTER 100",
    );
  });

  test("graceful stop: priority-0 advert, the peer takes over after Skew_Time", async () => {
    const net = new SimNet();
    const a = await node(net, "lb1", 1, conf("MASTER", 150));
    const b = await node(net, "lb2", 2, conf("BACKUP", 100));
    net.run(5000);
    await a.agent.stop();
    expect(a.host.held.size).toBe(0);
    expect(a.agent.running.get("VI_1")?.state.stats.pri_zero_sent).toBe(1);
    net.run(5000 + 600);
    expect(state(b.agent)).toBe("BACKUP");
    net.run(5000 + 620);
    expect(state(b.agent)).toBe("MASTER");
    expect(b.agent.running.get("VI_1")?.state.stats.pri_zero_rcvd).toBe(1);
  });

  test("a wrong password is refused and counted; the backup takes over as if alone", async () => {
    const net = new SimNet();
    const a = await node(net, "lb1", 1, conf("MASTER", 150));
    const b = await node(
      net,
      "lb2",
      2,
      conf("BACKUP", 100).replace("auth_pass secret", "auth_pass other"),
    );
    net.run(8000);
    expect(state(b.agent)).toBe("MASTER");
    expect(b.agent.running.get("VI_1")?.state.stats.auth_failure).toBeGreaterThan(0);
    expect(state(a.agent)).toBe("MASTER");
  });

  test("VRRPv3 at 0.1 s with unicast peers", async () => {
    const net = new SimNet();
    const v3 = (st: string, p: number, self: number, peer: number) =>
      conf(
        st,
        p,
        `unicast_src_ip 192.0.2.${self}\n    unicast_peer {\n        192.0.2.${peer}\n    }`,
      )
        .replace("advert_int 1", "advert_int 0.1\n    version 3")
        .replace(/authentication \{[^}]*\}/, "");
    const a = await node(net, "lb1", 1, v3("MASTER", 150, 11, 12));
    const b = await node(net, "lb2", 2, v3("BACKUP", 100, 12, 11));
    net.run(1000);
    expect([state(a.agent), state(b.agent)]).toEqual(["MASTER", "BACKUP"]);
    a.host.crash();
    net.run(1000 + 400);
    expect(state(b.agent)).toBe("MASTER");
  });

  test("link down puts the master in FAULT; the backup takes over; link up brings it back", async () => {
    const net = new SimNet();
    const a = await node(net, "lb1", 1, conf("MASTER", 150));
    const b = await node(net, "lb2", 2, conf("BACKUP", 100));
    net.run(5000);
    a.host.setLink("eth0", false);
    expect(state(a.agent)).toBe("FAULT");
    expect(a.host.held.size).toBe(0);
    net.run(9000);
    expect(state(b.agent)).toBe("MASTER");
    a.host.setLink("eth0", true);
    net.run(15_000);
    expect([state(a.agent), state(b.agent)]).toEqual(["MASTER", "BACKUP"]);
  });

  test("a sync group moves both instances together, though only eth1 failed", async () => {
    const second = (p: number) => `
vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 52
    priority ${p}
    virtual_ipaddress {
        198.51.100.100/24 dev eth1
    }
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
}`;
    const net = new SimNet();
    const a = await node(net, "lb1", 1, conf("MASTER", 150, "", second(150)));
    const b = await node(net, "lb2", 2, conf("BACKUP", 100, "", second(100)));
    net.run(6000);
    expect([
      state(a.agent, "VI_1"),
      state(a.agent, "VI_2"),
      state(b.agent, "VI_1"),
      state(b.agent, "VI_2"),
    ]).toEqual(["MASTER", "MASTER", "BACKUP", "BACKUP"]);
    a.host.setLink("eth1", false);
    expect([state(a.agent, "VI_1"), state(a.agent, "VI_2")]).toEqual(["FAULT", "FAULT"]);
    net.run(12_000);
    expect([state(b.agent, "VI_1"), state(b.agent, "VI_2")]).toEqual(["MASTER", "MASTER"]);
    expect(b.host.held).toEqual(new Set(["192.0.2.100/24", "198.51.100.100/24"]));
  });
});
