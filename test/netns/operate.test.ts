/**
 * Operating a running pair with the compiled agent (namespace lab): `agent status` and
 * `status --json` (checked against docs/status.schema.json), `agent reload` (a refused
 * config keeps the running one, exit 1 with the diagnostics), `agent maintenance on|off`
 * (the VIP moves to the peer and back), `agent failover`, Prometheus metrics scraped from
 * inside the namespace, and SIGUSR2's stats file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { REPO } from "../helpers/env.ts";
import { validate } from "../helpers/json-schema.ts";
import {
  AGENT,
  ensureAgentBinary,
  type Host,
  Lab,
  labMissing,
  until,
  vrrpConf,
} from "../helpers/lab.ts";
import { NotifySocket } from "../helpers/notify-socket.ts";
import { parseProm } from "../helpers/prom-parse.ts";

const VIP = "192.0.2.100";
const BASE = { version: 3, advertInt: 0.1, vips: [`${VIP}/24`] } as const;

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([AGENT, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const why = labMissing();
describe.skipIf(why !== undefined)(
  `operating a running pair${why ? ` (skipped: ${why})` : ""}`,
  () => {
    let lab: Lab;
    let h1: Host;
    let h2: Host;

    beforeAll(async () => {
      ensureAgentBinary();
      lab = await Lab.create("operate", 2);
      [h1, h2] = [lab.h(1), lab.h(2)];
    }, 120_000);

    afterAll(async () => {
      await lab?.destroy();
    }, 30_000);

    test("systemd: READY=1 once running, WATCHDOG=1 from the loop, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM", async () => {
      await lab.reset();
      // A path socket: abstract ones belong to one network namespace, the agent runs in h1's.
      const path = `${lab.dir}/notify.sock`;
      rmSync(path, { force: true });
      const sock = NotifySocket.bind(path);
      try {
        const a1 = lab.agent(h1, vrrpConf({ ...BASE, priority: 150 }, "h1"), "agent", {
          NOTIFY_SOCKET: path,
          WATCHDOG_USEC: "400000",
        });
        const texts = () => sock.received.map((n) => n.lines[0]);
        const ready = await sock.waitFor(1, 5000);
        expect(ready[0]?.lines[0]).toBe("READY=1");
        expect(ready[0]?.lines.some((l) => l.startsWith("STATUS=1 instance(s) from "))).toBe(true);
        // Half of WATCHDOG_USEC: a ping every 200 ms.
        await sock.waitFor(4, 2000);
        expect(texts().filter((t) => t === "WATCHDOG=1").length).toBeGreaterThanOrEqual(3);
        const before = sock.received.length;
        a1.signal("SIGHUP");
        await a1.waitLine(/reloaded /, 3000);
        // The socket is read while waiting: RELOADING and READY (watchdog pings may come between).
        for (let n = before + 2; !texts().slice(before).includes("READY=1"); n++)
          await sock.waitFor(n, 2000);
        const afterHup = sock.received.slice(before).map((n) => n.lines);
        const reloading = afterHup.find((l) => l[0] === "RELOADING=1");
        expect(reloading?.[1]).toMatch(/^MONOTONIC_USEC=\d+$/);
        expect(afterHup.findIndex((l) => l[0] === "RELOADING=1")).toBeLessThan(
          afterHup.findIndex((l) => l[0] === "READY=1"),
        );
        const stopCode = a1.stop("SIGTERM", 5000);
        for (let n = sock.received.length + 1; !texts().includes("STOPPING=1"); n++)
          await sock.waitFor(n, 3000);
        expect(await stopCode).toBe(0);
      } finally {
        sock.close();
      }
    }, 30_000);

    test("status, reload, maintenance, failover, metrics and the stats dump", async () => {
      await lab.reset();
      const conf = vrrpConf({ ...BASE, priority: 150 }, "h1").replace(
        "global_defs {",
        "global_defs {\n    metrics_listen 127.0.0.1:0",
      );
      const a1 = lab.agent(h1, conf);
      const a2 = lab.agent(h2, vrrpConf({ ...BASE, priority: 100 }, "h2"));
      await a1.waitLine(/Entering MASTER STATE/, 5000);
      await a2.waitLine(/Entering BACKUP STATE/, 3000);
      const sock = /--control (\S+)/.exec(a1.cmd.join(" "))?.[1] as string;
      const confPath = /--config (\S+)/.exec(a1.cmd.join(" "))?.[1] as string;
      await until(() => cli(["status", "--control", sock]).code === 0, 3000, "the control socket");

      // status: the table and the versioned document.
      const table = cli(["status", "--control", sock]);
      expect(table.stdout).toMatch(/VI_1\s+MASTER\s+150/);
      const json = cli(["status", "--json", "--control", sock]);
      expect(json.code).toBe(0);
      const doc = JSON.parse(json.stdout);
      const schema = JSON.parse(readFileSync(`${REPO}/docs/status.schema.json`, "utf8"));
      expect(validate(schema, doc)).toEqual([]);
      expect(doc.instances[0]).toMatchObject({ name: "VI_1", state: "MASTER", vrid: 51 });
      expect(doc.instances[0].vips).toEqual([`${VIP}/24`]);
      expect(json.stdout).not.toContain("labpass");

      // metrics, scraped inside h1's namespace.
      const port = Number(
        /metrics: serving http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(a1.text)?.[1],
      );
      expect(port).toBeGreaterThan(0);
      const scrape = lab.spawn("scrape", h1, [
        process.execPath,
        "-e",
        `console.log(await (await fetch("http://127.0.0.1:${port}/metrics")).text())`,
      ]);
      await scrape.exited;
      const families = parseProm(scrape.text);
      const state = families.get("keepalived_vrrp_state");
      expect(state?.samples.map((x) => [x.labels.iname, x.value])).toEqual([["VI_1", 2]]);
      expect(families.has("keepalived_advertisements_sent_total")).toBe(true);

      // reload: a broken file is refused and the running configuration stays.
      writeFileSync(confPath, `${conf}\nvrrp_instance {\n`);
      const refused = cli(["reload", "--control", sock]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/h1-agent-\d+\.conf:\d+:\d+: error/);
      writeFileSync(confPath, conf);
      expect(cli(["reload", "--control", sock]).code).toBe(0);
      expect(lab.hasAddr(h1, VIP)).toBe(true);

      // maintenance: h1 hands over and stays BACKUP; off: it preempts back.
      expect(cli(["maintenance", "on", "--control", sock]).code).toBe(0);
      await until(() => lab.hasAddr(h2, VIP) && !lab.hasAddr(h1, VIP), 3000, "VIP on h2");
      expect(
        JSON.parse(cli(["status", "--json", "--control", sock]).stdout).agent.maintenance,
      ).toBe(true);
      expect(cli(["maintenance", "off", "--control", sock]).code).toBe(0);
      await until(() => lab.hasAddr(h1, VIP) && !lab.hasAddr(h2, VIP), 3000, "VIP back on h1");

      // failover: h1 hands over; with the higher priority it takes the VIP back.
      const m = a2.lines.mark;
      expect(cli(["failover", "--control", sock]).code).toBe(0);
      await a2.waitLine(/Entering MASTER STATE/, 3000, m);
      await until(() => lab.hasAddr(h1, VIP), 3000, "VIP back on h1 after the hand-over");

      // SIGUSR2: keepalived's stats file (TMPDIR of the agent: /tmp).
      a1.signal("SIGUSR2");
      const line = await a1.waitLine(/stats dump written to (\S+)/, 3000);
      const statsPath = /written to (\S+)/.exec(line.text)?.[1] as string;
      expect(readFileSync(statsPath, "utf8")).toMatch(/VRRP Instance: VI_1/);

      // keepalived's JSON signal, SIGRTMIN+2 (36): keepalived.json in keepalived's shape.
      const jsonSig = Number(
        Bun.spawnSync(["keepalived", "--signum=JSON"]).stdout.toString().trim() || 36,
      );
      process.kill(a1.pid, jsonSig);
      const jl = await a1.waitLine(/json dump written to (\S+)/, 3000);
      const kj = JSON.parse(readFileSync(/written to (\S+)/.exec(jl.text)?.[1] as string, "utf8"));
      expect(kj[0]?.data?.iname).toBe("VI_1");
      expect(a1.running).toBe(true);

      await lab.stopAll((p) => p.name.includes("-agent-"));
      expect(cli(["status", "--control", sock]).code).toBe(3);
    }, 60_000);
  },
);
