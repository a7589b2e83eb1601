/**
 * Trackers and hooks through the whole shell, deterministically: real configs → plans →
 * Agent with Tracking and Hooks → a simulated segment and simulated scripts, processes and
 * files (src/agent/sim-io.ts). Checks the priority arithmetic as the instances see it, the
 * INIT hold of weight-0 scripts, FAULT rules, the TERM → KILL path of a hung script, and the
 * notify lines in keepalived's order (reference §2.6, §2.15).
 */
import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import { Hooks } from "../../src/agent/hooks.ts";
import { Agent } from "../../src/agent/loop.ts";
import { planInstances } from "../../src/agent/params.ts";
import { type SimHost, SimNet } from "../../src/agent/sim-io.ts";
import { planTracking } from "../../src/agent/track-plan.ts";
import { loadText } from "../../src/config/load.ts";

const quiet = createConsola({ level: -999 });

async function node(
  net: SimNet,
  name: string,
  n: number,
  text: string,
  setup?: (h: SimHost) => void,
) {
  const host = net.host(name, [
    { name: "eth0", ipv4: `192.0.2.${10 + n}`, ipv6: `fe80::${n}` },
    { name: "eth1", ipv4: `198.51.100.${10 + n}`, ipv6: `fe80::1:${n}` },
  ]);
  setup?.(host);
  const loaded = loadText(text, `/${name}.conf`, "keepalived", { offline: true });
  if (!loaded.model) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
  const m = loaded.model;
  const agent = new Agent(planInstances(m, host), host, quiet, {
    hooks: new Hooks(m, host),
    tracking: { model: m, plan: planTracking(m), io: host, linkUp: (i) => host.isUp(i) },
  });
  await agent.start();
  return { host, agent };
}

const inst = (prio: number, extra: string, name = "VI_1", vrid = 51) => `
vrrp_instance ${name} {
    state BACKUP
    interface eth0
    virtual_router_id ${vrid}
    priority ${prio}
    advert_int 1
    virtual_ipaddress {
        192.0.2.${vrid + 50}/24
    }
    notify "/n.sh"
    ${extra}
}`;

const global = "global_defs {\n    router_id t\n    vrrp_notify_priority_changes true\n}\n";
const chk = (extra: string) =>
  `vrrp_script chk {\n    script "/chk"\n    interval 1\n    ${extra}\n}\n`;

const stateOf = (a: Agent, n = "VI_1") => a.running.get(n)?.state;

describe("trackers move priority and state, hooks tell", () => {
  test("a weighted script: failure lowers priority, the peer preempts, recovery preempts back", async () => {
    const net = new SimNet();
    let failing = false;
    const a = await node(
      net,
      "a",
      1,
      global + chk("weight -30") + inst(100, "track_script {\n chk\n}"),
      (h) => {
        h.outcome = () => ({ success: !failing });
      },
    );
    const b = await node(net, "b", 2, global + inst(90, ""));
    net.run(6000);
    expect(stateOf(a.agent)?.state).toBe("MASTER");
    expect(stateOf(b.agent)?.state).toBe("BACKUP");
    failing = true;
    net.run(12_000);
    expect(stateOf(a.agent)?.effectivePriority).toBe(70);
    expect(stateOf(a.agent)?.state).toBe("BACKUP");
    expect(stateOf(b.agent)?.state).toBe("MASTER");
    failing = false;
    net.run(20_000);
    expect(stateOf(a.agent)?.effectivePriority).toBe(100);
    expect(stateOf(a.agent)?.state).toBe("MASTER");
    expect(a.host.fifoLines).toEqual([
      'INSTANCE "VI_1" BACKUP 100\n',
      'INSTANCE "VI_1" MASTER 100\n',
      'INSTANCE "VI_1" MASTER_PRIORITY 70\n',
      'INSTANCE "VI_1" BACKUP 70\n',
      'INSTANCE "VI_1" BACKUP_PRIORITY 100\n',
      'INSTANCE "VI_1" MASTER 100\n',
    ]);
    expect(a.host.scripts.map((s) => s.argv.join(" "))).toEqual([
      "/n.sh INSTANCE VI_1 BACKUP 100",
      "/n.sh INSTANCE VI_1 MASTER 100",
      "/n.sh INSTANCE VI_1 BACKUP 70",
      "/n.sh INSTANCE VI_1 MASTER 100",
    ]);
    // First run at once, then one per interval.
    expect(a.host.trackerRuns[0]?.at).toBe(0);
    expect(a.host.trackerRuns.length).toBeGreaterThanOrEqual(19);
  });

  test("weight 0: the instance waits in INIT for the first result; a failure is FAULT, with its notify", async () => {
    const net = new SimNet();
    let ok = false;
    const a = await node(
      net,
      "a",
      1,
      global + chk("weight 0") + inst(100, "track_script {\n chk\n}"),
      (h) => {
        h.outcome = () => ({ success: ok, runMs: 400 });
      },
    );
    net.run(300);
    expect(stateOf(a.agent)?.state).toBe("INIT");
    expect(a.host.fifoLines).toEqual([]);
    net.run(500);
    expect(stateOf(a.agent)?.state).toBe("FAULT");
    expect(stateOf(a.agent)?.faults).toEqual(["track_script chk"]);
    ok = true;
    net.run(2000);
    expect(stateOf(a.agent)?.state).toBe("BACKUP");
    net.run(6000);
    expect(stateOf(a.agent)?.state).toBe("MASTER");
    expect(a.host.fifoLines).toEqual([
      'INSTANCE "VI_1" FAULT 100\n',
      'INSTANCE "VI_1" BACKUP 100\n',
      'INSTANCE "VI_1" MASTER 100\n',
    ]);
  });

  test("a script that ignores SIGTERM: TERM at the timeout, KILL 2 s later, counted as a failure once", async () => {
    const net = new SimNet();
    const a = await node(
      net,
      "a",
      1,
      `${global}vrrp_script chk {\n script "/hang"\n interval 5\n timeout 1\n weight -10\n}\n${inst(100, "track_script {\n chk\n}")}`,
      (h) => {
        h.outcome = () => ({ hang: "kill" });
      },
    );
    net.run(2500);
    expect(stateOf(a.agent)?.effectivePriority).toBe(100);
    net.run(3100);
    expect(stateOf(a.agent)?.effectivePriority).toBe(90);
    const runs = a.host.trackerRuns.filter((r) => r.what === "/hang");
    expect(runs.map((r) => r.at)).toEqual([0]);
    net.run(5100);
    expect(a.host.trackerRuns.filter((r) => r.what === "/hang").map((r) => r.at)).toEqual([
      0, 5000,
    ]);
  });

  test("track_interface: weight 0 → FAULT while down; a weighted one moves priority", async () => {
    const net = new SimNet();
    const a = await node(
      net,
      "a",
      1,
      global +
        inst(100, "track_interface {\n eth1\n}") +
        inst(100, "track_interface {\n eth1 weight -20\n}", "VI_2", 52),
    );
    net.run(5000);
    expect(stateOf(a.agent)?.state).toBe("MASTER");
    a.host.setLink("eth1", false);
    net.run(5100);
    expect(stateOf(a.agent)?.state).toBe("FAULT");
    expect(stateOf(a.agent, "VI_2")?.state).toBe("MASTER");
    expect(stateOf(a.agent, "VI_2")?.effectivePriority).toBe(80);
    expect(a.host.held.has("192.0.2.101/24")).toBe(false);
    a.host.setLink("eth1", true);
    net.run(5200);
    expect(stateOf(a.agent)?.state).toBe("BACKUP");
    expect(stateOf(a.agent, "VI_2")?.effectivePriority).toBe(100);
  });

  test("track_process quorum and track_file value × weight", async () => {
    const net = new SimNet();
    const conf = `${global}vrrp_track_process nginx {\n process nginx\n weight 0\n}\ntrack_file f {\n file /run/f\n weight -5\n}\n${inst(
      100,
      "track_process {\n nginx\n}\ntrack_file {\n f\n}",
    )}`;
    const a = await node(net, "a", 1, conf);
    a.host.setProcessCount("nginx", 1);
    net.run(5000);
    expect(stateOf(a.agent)?.state).toBe("MASTER");
    a.host.setFile("/run/f", 4);
    net.run(5100);
    expect(stateOf(a.agent)?.effectivePriority).toBe(80);
    a.host.setProcessCount("nginx", 0);
    net.run(5200);
    expect(stateOf(a.agent)?.state).toBe("FAULT");
    expect(stateOf(a.agent)?.faults).toEqual(["track_process nginx"]);
  });

  test("sync group: the group notifies before its members at start, after them later", async () => {
    const net = new SimNet();
    const group = `vrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n notify "/g.sh"\n}\n`;
    const a = await node(net, "a", 1, global + group + inst(100, "") + inst(100, "", "VI_2", 52));
    net.run(6000);
    expect(a.host.fifoLines).toEqual([
      'GROUP "G" BACKUP 0\n',
      'INSTANCE "VI_1" BACKUP 100\n',
      'INSTANCE "VI_2" BACKUP 100\n',
      'INSTANCE "VI_1" MASTER 100\n',
      'INSTANCE "VI_2" MASTER 100\n',
      'GROUP "G" MASTER 0\n',
    ]);
    expect(
      a.host.scripts.filter((s) => s.argv[0] === "/g.sh").map((s) => s.argv.slice(1).join(" ")),
    ).toEqual(["GROUP G BACKUP 0", "GROUP G MASTER 0"]);
  });
});
