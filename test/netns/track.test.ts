/**
 * Trackers and hooks with the compiled agent on real sockets between namespaces (a
 * two-host lab, test/helpers/lab.ts): h1 runs the node under test at priority 100, h2 a
 * plain agent at 90, VRRPv3 at 0.1 s. Each scenario checks VIP placement with `ip addr`,
 * and what the hooks wrote (notify script log, FIFO lines) byte for byte.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { REPO } from "../helpers/env.ts";
import {
  ensureAgentBinary,
  type Host,
  Lab,
  labMissing,
  type Proc,
  pidAlive,
  until,
  vrrpConf,
} from "../helpers/lab.ts";

const VIP = "192.0.2.100";
const BASE = { version: 3, advertInt: 0.1, vips: [`${VIP}/24`] } as const;

function dut(body: { globals?: string; blocks?: string; extra: string }): string {
  return `global_defs {
    router_id h1
    vrrp_version 3
${body.globals ?? ""}
}
${body.blocks ?? ""}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 0.1
${body.extra}
    virtual_ipaddress {
        ${VIP}/24
    }
}
`;
}

const why = labMissing();
describe.skipIf(why !== undefined)(
  `trackers and hooks between namespaces${why ? ` (skipped: ${why})` : ""}`,
  () => {
    let lab: Lab;
    let h1: Host;
    let h2: Host;
    let dir: string;

    beforeAll(async () => {
      ensureAgentBinary();
      lab = await Lab.create("track", 2);
      [h1, h2] = [lab.h(1), lab.h(2)];
      dir = lab.dir;
      writeFileSync(`${dir}/log.sh`, `#!/bin/sh\nprintf '%s\\n' "$*" >> "${dir}/notify.log"\n`);
      chmodSync(`${dir}/log.sh`, 0o755);
    }, 120_000);

    afterAll(async () => {
      await lab?.destroy();
    }, 30_000);

    const peer = (): Proc => lab.agent(h2, vrrpConf({ ...BASE, priority: 90 }, "h2"));
    const vipOn = (h: Host) => () => lab.hasAddr(h, VIP);
    const log = () =>
      existsSync(`${dir}/notify.log`)
        ? readFileSync(`${dir}/notify.log`, "utf8").split("\n").filter(Boolean)
        : [];

    /** On failure, what every process of this test printed (the agents log at debug). */
    let started = 0;
    const dumpOnFailure = (body: () => Promise<void>) => async () => {
      try {
        await body();
      } catch (e) {
        console.log(lab.dump(started));
        throw e;
      }
    };

    async function fresh(): Promise<void> {
      await lab.reset();
      started = lab.started;
      rmSync(`${dir}/notify.log`, { force: true });
      rmSync(`${dir}/fail`, { force: true });
    }

    test(
      "vrrp_script failing while a file exists moves the VIP to the peer and back; notify lines as keepalived writes them",
      dumpOnFailure(async () => {
        await fresh();
        const p = peer();
        await p.waitLine(/Entering MASTER STATE/, 5000);
        const a = lab.agent(
          h1,
          dut({
            blocks: `vrrp_script chk {\n    script "/bin/sh -c '! test -e ${dir}/fail'"\n    interval 0.2\n    weight -20\n}`,
            extra: `    track_script {\n        chk\n    }\n    notify_master "${dir}/log.sh master"\n    notify "${dir}/log.sh notify"`,
          }),
        );
        await until(vipOn(h1), 5000, "VIP on h1");
        writeFileSync(`${dir}/fail`, "");
        await until(() => vipOn(h2)() && !vipOn(h1)(), 5000, "VIP moved to h2");
        rmSync(`${dir}/fail`);
        await until(() => vipOn(h1)() && !vipOn(h2)(), 5000, "VIP back on h1");
        await until(() => log().length >= 6, 3000, "six notify lines");
        await a.stop("SIGTERM", 5000);
        await until(() => log().includes("notify INSTANCE VI_1 STOP 100"), 3000, "the STOP line");
        const lines = log();
        // Scripts started together race; each kind's own order is exact.
        expect(lines.filter((l) => l.startsWith("notify "))).toEqual([
          "notify INSTANCE VI_1 BACKUP 100",
          "notify INSTANCE VI_1 MASTER 100",
          "notify INSTANCE VI_1 BACKUP 80",
          "notify INSTANCE VI_1 MASTER 100",
          "notify INSTANCE VI_1 STOP 100",
        ]);
        expect(lines.filter((l) => l === "master")).toHaveLength(2);
        expect(a.text).toMatch(/VRRP_Script\(chk\) now returning failure/);
        expect(a.text).toMatch(/Changing effective priority from 100 to 80/);
      }),
      40_000,
    );

    test(
      "track_interface: link down → FAULT, the VIP moves; up → back",
      dumpOnFailure(async () => {
        await fresh();
        lab.ip(h1, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1");
        lab.ip(h1, "link", "set", "trk1", "up");
        lab.ip(h1, "link", "set", "trk0", "up");
        const p = peer();
        await p.waitLine(/Entering MASTER STATE/, 5000);
        const a = lab.agent(h1, dut({ extra: "    track_interface {\n        trk0\n    }" }));
        await until(vipOn(h1), 5000, "VIP on h1");
        const m = a.lines.mark;
        lab.ip(h1, "link", "set", "trk0", "down");
        await a.waitLine(/Entering FAULT STATE/, 3000, m);
        await until(() => vipOn(h2)() && !vipOn(h1)(), 3000, "VIP moved to h2");
        lab.ip(h1, "link", "set", "trk0", "up");
        await until(() => vipOn(h1)() && !vipOn(h2)(), 5000, "VIP back on h1");
        expect(a.text).toMatch(/Entering BACKUP STATE/);
      }),
      30_000,
    );

    test(
      "track_process: a stand-in daemon started and killed by the test; the FIFO reader gets the exact lines",
      dumpOnFailure(async () => {
        await fresh();
        const daemon = `${dir}/edge-standin`;
        copyFileSync("/bin/sleep", daemon);
        chmodSync(daemon, 0o755);
        const fifo = `${dir}/agent.fifo`;
        rmSync(fifo, { force: true });
        Bun.spawnSync(["mkfifo", fifo]);
        const reader = lab.spawn("fifo reader", h1, ["cat", fifo]);
        const d = lab.spawn("stand-in daemon", h1, [daemon, "3600"]);
        const p = peer();
        await p.waitLine(/Entering MASTER STATE/, 5000);
        const a = lab.agent(
          h1,
          dut({
            globals: `    notify_fifo ${fifo}\n    vrrp_notify_priority_changes true`,
            blocks: "vrrp_track_process standin {\n    process edge-standin\n    weight -30\n}",
            extra: "    track_process {\n        standin\n    }",
          }),
        );
        await until(vipOn(h1), 5000, "VIP on h1");
        await d.kill9();
        await until(() => vipOn(h2)() && !vipOn(h1)(), 5000, "VIP moved to h2");
        await a.stop("SIGTERM", 5000);
        await reader.exited;
        expect(reader.lines.items.map((l) => l.text)).toEqual([
          'INSTANCE "VI_1" BACKUP 100',
          'INSTANCE "VI_1" MASTER 100',
          'INSTANCE "VI_1" MASTER_PRIORITY 70',
          'INSTANCE "VI_1" BACKUP 70',
          'INSTANCE "VI_1" STOP 70',
        ]);
      }),
      30_000,
    );

    test(
      "notify_fifo_script: the agent creates the FIFO, starts the reader with the path appended, removes the FIFO at exit",
      dumpOnFailure(async () => {
        await fresh();
        const fifo = `${dir}/made-by-agent.fifo`;
        const out = `${dir}/fifo-reader.out`;
        rmSync(fifo, { force: true });
        rmSync(out, { force: true });
        const reader = `${dir}/fifo-reader.sh`;
        writeFileSync(reader, `#!/bin/sh\necho "path $1" >> ${out}\nexec cat "$1" >> ${out}\n`);
        chmodSync(reader, 0o755);
        const a = lab.agent(
          h1,
          dut({ globals: `    notify_fifo ${fifo}\n    notify_fifo_script ${reader}`, extra: "" }),
        );
        const text = () => (existsSync(out) ? readFileSync(out, "utf8") : "");
        await until(() => text().includes('INSTANCE "VI_1" MASTER 100'), 5000, "the MASTER line");
        expect(text().split("\n").slice(0, 3)).toEqual([
          `path ${fifo}`,
          'INSTANCE "VI_1" BACKUP 100',
          'INSTANCE "VI_1" MASTER 100',
        ]);
        await a.stop("SIGTERM", 5000);
        expect(existsSync(fifo)).toBe(false);
      }),
      30_000,
    );

    test(
      "SMTP alerts on state changes reach a server the test runs (in h1's namespace, on its loopback)",
      dumpOnFailure(async () => {
        await fresh();
        const smtp = lab.spawn("smtp server", h1, [
          process.execPath,
          `${REPO}/test/helpers/smtp-serve.ts`,
        ]);
        const port = Number(
          /port (\d+)/.exec((await smtp.waitLine(/^port \d+/, 10_000)).text)?.[1],
        );
        const a = lab.agent(
          h1,
          dut({
            globals: `    notification_email {\n        ops@example.org\n    }\n    notification_email_from agent@example.org\n    smtp_server 127.0.0.1 ${port}\n    smtp_connect_timeout 5\n    smtp_alert`,
            extra: "",
          }),
        );
        const mail = async (subject: string) => {
          const l = await smtp.waitLine(new RegExp(subject.replace(/[[\]]/g, "\\$&")), 10_000);
          return JSON.parse(l.text) as { commands: string[]; received: string };
        };
        const backup = await mail("[h1] VRRP Instance VI_1 - Entering BACKUP state");
        expect(backup.commands.slice(0, 3)).toEqual([
          `HELO ${backup.commands[0]?.slice(5)}`,
          "MAIL FROM:<agent@example.org>",
          "RCPT TO:<ops@example.org>",
        ]);
        expect(backup.received).toContain("=> VRRP Instance is no longer owning VRRP VIPs <=");
        const master = await mail("[h1] VRRP Instance VI_1 - Entering MASTER state");
        expect(master.received).toContain("=> VRRP Instance is now owning VRRP VIPs <=");
        await a.stop("SIGTERM", 5000);
        await mail("[h1] VRRP Instance VI_1 - Stopping");
      }),
      30_000,
    );

    test(
      "a script that ignores SIGTERM is killed timeout + 2 s after it started, and counted as a failure",
      dumpOnFailure(async () => {
        await fresh();
        const script = `${dir}/stubborn.sh`;
        writeFileSync(
          script,
          `#!/bin/sh\ntrap '' TERM\necho $$ > ${dir}/stubborn.pid\nwhile :; do sleep 0.05; done\n`,
        );
        chmodSync(script, 0o755);
        const a = lab.agent(
          h1,
          dut({
            blocks: `vrrp_script stubborn {\n    script "${script}"\n    interval 10\n    timeout 1\n    weight -10\n}`,
            extra: "    track_script {\n        stubborn\n    }",
          }),
        );
        await until(() => existsSync(`${dir}/stubborn.pid`), 3000, "the script started");
        const t0 = Date.now();
        const pid = Number(readFileSync(`${dir}/stubborn.pid`, "utf8"));
        await a.waitLine(/timed out/, 3000);
        await until(() => !pidAlive(pid), 5000, "the script killed");
        const killedAfter = Date.now() - t0;
        console.log(
          `    stubborn script gone ${killedAfter} ms after it started (timeout 1 s + 2 s)`,
        );
        expect(killedAfter).toBeGreaterThan(2500);
        expect(killedAfter).toBeLessThan(4000);
        await a.waitLine(/Changing effective priority from 100 to 90/, 2000);
        await a.stop("SIGTERM", 5000);
      }),
      30_000,
    );

    test(
      "a hung notify script and a hung vrrp_script never delay a takeover",
      dumpOnFailure(async () => {
        await fresh();
        const hang = `${dir}/hang.sh`;
        writeFileSync(hang, "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n");
        chmodSync(hang, 0o755);
        // h2 is the master this time; h1 (priority 80) waits as BACKUP with hung hooks.
        const p = lab.agent(h2, vrrpConf({ ...BASE, priority: 150 }, "h2"));
        await p.waitLine(/Entering MASTER STATE/, 5000);
        const a = lab.agent(
          h1,
          dut({
            blocks: `vrrp_script hung {\n    script "${hang}"\n    interval 1\n    timeout 30\n    weight 2\n}`,
            extra: `    track_script {\n        hung\n    }\n    notify_backup "${hang}"\n    notify "${hang}"`,
          }).replace("priority 100", "priority 80"),
        );
        await a.waitLine(/Entering BACKUP STATE/, 3000);
        await Bun.sleep(1500); // let the hung scripts pile up (skipped runs logged)
        const t0 = Date.now();
        await p.kill9();
        await until(vipOn(h1), 2000, "VIP taken over by h1");
        const took = Date.now() - t0;
        // Master_Down at 0.1 s and priority 80: 3 × 100 + (256 − 80) × 100 / 256 ≈ 369 ms.
        console.log(
          `    takeover with hung hooks: ${took} ms after the kill (Master_Down ≈ 369 ms)`,
        );
        expect(took).toBeLessThan(369 + 300);
        expect(a.text).toMatch(/skipping run/);
        await a.stop("SIGTERM", 8000);
        expect(a.exitCode).toBe(0);
      }),
      40_000,
    );
  },
);
