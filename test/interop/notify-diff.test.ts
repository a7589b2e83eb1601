/**
 * Differential test of the hooks (reference §2.15): the same keepalived.conf and the same
 * sequence of events, once with keepalived 2.2.7 and once with the compiled agent as the
 * node under test (h1); keepalived is the peer (h2) both times. Compared, timestamps aside:
 * the notify FIFO lines (written synchronously, so their order is exact), and the lines the
 * notify scripts append to a log (one log per script kind, since scripts started together
 * race each other).
 *
 * Events: h2 (priority 90) is master; h1 (100) starts and preempts; a file makes its
 * vrrp_script fail (weight −20 → 80, h2 preempts back); the file goes (→ 100, h1 preempts);
 * a tracked interface (one end of a veth pair) goes down (weight 0 → FAULT) and comes back; SIGTERM (STOP).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  ensureAgentBinary,
  type Host,
  Lab,
  labMissing,
  type Proc,
  vrrpConf,
} from "../helpers/lab.ts";

interface Run {
  readonly fifo: string[];
  readonly logs: Record<string, string[]>;
}

const KINDS = ["notify", "notify_master", "notify_backup", "notify_fault", "notify_stop"] as const;

function dutConf(dir: string, fifo: string, failFile: string): string {
  const log = (kind: string) => `"${dir}/log.sh ${kind}"`;
  return `global_defs {
    router_id h1
    vrrp_version 3
    notify_fifo ${fifo}
    vrrp_notify_priority_changes true
}
vrrp_script chk {
    script "/bin/sh -c '! test -e ${failFile}'"
    interval 0.2
    weight -20
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 0.1
    track_script {
        chk
    }
    track_interface {
        trk0
    }
    notify_master ${log("notify_master")}
    notify_backup ${log("notify_backup")}
    notify_fault ${log("notify_fault")}
    notify_stop ${log("notify_stop")}
    notify ${log("notify")}
    virtual_ipaddress {
        192.0.2.100/24
    }
}
`;
}

const why = labMissing(["keepalived"]);
describe.skipIf(why !== undefined)(
  `notify lines: keepalived 2.2.7 and the agent${why ? ` (skipped: ${why})` : ""}`,
  () => {
    let lab: Lab;
    let h1: Host;
    let h2: Host;

    beforeAll(async () => {
      ensureAgentBinary();
      lab = await Lab.create("notify", 2);
      [h1, h2] = [lab.h(1), lab.h(2)];
    }, 120_000);

    afterAll(async () => {
      await lab?.destroy();
    }, 30_000);

    async function play(impl: "keepalived" | "agent"): Promise<Run> {
      await lab.reset();
      const dir = `${lab.dir}/${impl}`;
      rmSync(dir, { recursive: true, force: true });
      Bun.spawnSync(["mkdir", "-p", dir]);
      const fifo = `${dir}/notify.fifo`;
      const fail = `${dir}/fail`;
      Bun.spawnSync(["mkfifo", fifo]);
      writeFileSync(`${dir}/log.sh`, `#!/bin/sh\nprintf '%s\\n' "$*" >> "${dir}/$1.log"\n`);
      chmodSync(`${dir}/log.sh`, 0o755);
      // No dummy driver here: a veth pair inside h1 stands in for the tracked interface.
      lab.ip(h1, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1");
      lab.ip(h1, "link", "set", "trk1", "up");
      lab.ip(h1, "link", "set", "trk0", "up");
      const reader = lab.spawn(`${impl} fifo`, h1, ["cat", fifo]);
      // Each wait looks only at lines after the previous one matched.
      let from = 0;
      const line = async (re: RegExp) => {
        const l = await reader.waitLine(re, 10_000, from);
        from = reader.lines.items.indexOf(l) + 1;
      };

      const peer = await lab.keepalived(
        h2,
        vrrpConf({ version: 3, advertInt: 0.1, priority: 90, vips: ["192.0.2.100/24"] }, "h2"),
      );
      await peer.proc.waitLine(/Entering MASTER STATE/, 5000);
      const conf = dutConf(dir, fifo, fail);
      let dut: Proc;
      let stop: () => Promise<unknown>;
      if (impl === "agent") {
        dut = lab.agent(h1, conf);
        stop = () => dut.stop("SIGTERM", 8000);
      } else {
        const k = await lab.keepalived(h1, conf);
        dut = k.proc;
        stop = () => k.stop();
      }
      await line(/INSTANCE "VI_1" MASTER 100/);
      writeFileSync(fail, "");
      await line(/INSTANCE "VI_1" BACKUP 80/);
      rmSync(fail);
      await line(/INSTANCE "VI_1" MASTER 100/);
      lab.ip(h1, "link", "set", "trk0", "down");
      await line(/INSTANCE "VI_1" FAULT/);
      lab.ip(h1, "link", "set", "trk0", "up");
      await line(/INSTANCE "VI_1" MASTER 100/);
      // Scripts run detached: let the last MASTER notify write before SIGTERM kills scripts.
      const notifyLog = `${dir}/notify.log`;
      const count = () =>
        existsSync(notifyLog) ? readFileSync(notifyLog, "utf8").split("\n").length - 1 : 0;
      for (let i = 0; i < 100 && count() < 7; i++) await Bun.sleep(20);
      await stop();
      await peer.stop();
      await reader.stop("SIGTERM", 2000);
      // Scripts run detached: give the last ones (STOP) a bounded moment to write.
      const stopLog = `${dir}/notify_stop.log`;
      for (let i = 0; i < 50 && !existsSync(stopLog); i++) await Bun.sleep(20);
      const logs: Record<string, string[]> = {};
      for (const k of KINDS) {
        const f = `${dir}/${k}.log`;
        logs[k] = existsSync(f) ? readFileSync(f, "utf8").trim().split("\n") : [];
      }
      return { fifo: reader.lines.items.map((l) => l.text).filter((t) => t !== ""), logs };
    }

    test("the same events give the same FIFO lines and notify script lines", async () => {
      const ka = await play("keepalived");
      console.log(`    keepalived FIFO:\n      ${ka.fifo.join("\n      ")}`);
      if (process.env.LAB_VERBOSE) console.log(JSON.stringify(ka.logs, null, 2));
      const ag = await play("agent");
      if (JSON.stringify(ka) !== JSON.stringify(ag))
        console.log(`    agent FIFO:\n      ${ag.fifo.join("\n      ")}`);
      expect(ka.fifo.length).toBeGreaterThan(5);
      expect(ag.fifo).toEqual(ka.fifo);
      for (const k of KINDS) expect({ [k]: ag.logs[k] }).toEqual({ [k]: ka.logs[k] });
    }, 120_000);
  },
);
