/**
 * Notify FIFOs on a real file system: what a reader gets, what happens with no reader or a
 * full pipe, who removes the FIFO, and the paths that must be refused. Every path is under
 * a mkdtemp directory removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkfifo } from "../../native/fifo.ts";
import { parseIp } from "../../src/core/net/ip.ts";
import { groupFifoLine, instanceFifoLine, vsFifoLine } from "../../src/core/notify/format.ts";
import { AgentError } from "../../src/errors.ts";
import { NotifyFifo, NotifyFifos, planFifos } from "../../src/io/notify-fifo.ts";
import { isRoot } from "../helpers/env.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "notify-fifo-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const fresh = (): string => join(dir, `f${n++}`);

/** Collects log lines so a test can assert what was said. */
function captureLog() {
  const lines: string[] = [];
  return {
    lines,
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
  };
}

/** A reader end opened without blocking; `drain` returns all bytes queued in the pipe. */
function reader(path: string) {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(65536);
  return {
    drain(): Buffer {
      const parts: Buffer[] = [];
      for (;;) {
        try {
          const got = readSync(fd, buf, 0, buf.length, null);
          if (got === 0) break;
          parts.push(Buffer.from(buf.subarray(0, got)));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "EAGAIN") break;
          throw e;
        }
      }
      return Buffer.concat(parts);
    },
    close: () => closeSync(fd),
  };
}

const mode = (p: string): number => lstatSync(p).mode & 0o7777;

describe("NotifyFifo", () => {
  test("creates the FIFO with keepalived's mode, a reader gets the exact lines", () => {
    const path = fresh();
    const log = captureLog();
    const fifo = NotifyFifo.open(path, {}, log);
    expect(fifo.created).toBe(true);
    expect(lstatSync(path).isFIFO()).toBe(true);
    // 0644 & ~0177 (keepalived's default umask), whatever this process's umask is.
    expect(mode(path)).toBe(0o600);
    const r = reader(path);
    const vs = { kind: "fwmark", fwmark: 5, protocol: "none" } as const;
    const lines = [
      instanceFifoLine("VI_1", "MASTER", 100),
      groupFifoLine("G 1", "BACKUP"),
      vsFifoLine(vs, true, { trailingNul: true }),
      instanceFifoLine("VI_ü", "FAULT", 0),
    ];
    for (const l of lines) expect(fifo.write(l)).toBe(true);
    expect(r.drain().toString("latin1")).toBe(
      Buffer.from(lines.join(""), "utf8").toString("latin1"),
    );
    expect(fifo.stats).toEqual({ written: 4, dropped: 0, errors: 0 });
    r.close();
    fifo.close();
    expect(existsSync(path)).toBe(false);
    expect(log.lines).toEqual([`info notify FIFO ${path} created`]);
  });

  test("the FIFO mode follows the configured umask, not the process's", () => {
    const path = fresh();
    const old = process.umask(0o077);
    try {
      const fifo = NotifyFifo.open(path, { umask: 0o022 }, captureLog());
      expect(mode(path)).toBe(0o644);
      fifo.close();
    } finally {
      process.umask(old);
    }
  });

  test("a FIFO that was already there is used and kept at close", () => {
    const path = fresh();
    expect(mkfifo(path, 0o640)).toBe("created");
    const fifo = NotifyFifo.open(path, {}, captureLog());
    expect(fifo.created).toBe(false);
    expect(mode(path)).toBe(0o640 & ~process.umask());
    const r = reader(path);
    fifo.write('INSTANCE "VI_1" BACKUP 90\n');
    expect(r.drain().toString()).toBe('INSTANCE "VI_1" BACKUP 90\n');
    r.close();
    fifo.close();
    fifo.close(); // idempotent
    expect(lstatSync(path).isFIFO()).toBe(true);
    rmSync(path);
  });

  test("an operator's reader process gets the lines, even when it opens late", async () => {
    const path = fresh();
    const fifo = NotifyFifo.open(path, {}, captureLog());
    const text = `${instanceFifoLine("VI_1", "MASTER", 100)}${groupFifoLine("G1", "MASTER")}`;
    fifo.write(instanceFifoLine("VI_1", "MASTER", 100));
    // Lines wait in the pipe: we hold it open read-write, so nothing is lost before the
    // reader arrives. `head -c` exits once it has them all.
    const head = Bun.spawn(["head", "-c", String(text.length), path], { stdout: "pipe" });
    fifo.write(groupFifoLine("G1", "MASTER"));
    const out = await new Response(head.stdout).text();
    expect(await head.exited).toBe(0);
    expect(out).toBe(text);
    fifo.close();
  });

  test("no reader: writes never block or throw; a full pipe drops and counts lines", () => {
    const path = fresh();
    const log = captureLog();
    const fifo = NotifyFifo.open(path, {}, log);
    const line = `${"x".repeat(99)}\n`;
    const t0 = performance.now();
    let accepted = 0;
    for (let i = 0; i < 2000; i++) if (fifo.write(line)) accepted++;
    const elapsedMs = performance.now() - t0;
    // A Linux pipe holds 64 KiB: 655 lines of 100 bytes fit, the rest are dropped.
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(2000);
    expect(fifo.stats).toEqual({ written: accepted, dropped: 2000 - accepted, errors: 0 });
    expect(elapsedMs).toBeLessThan(1000);
    expect(log.lines.filter((l) => l.includes("is full"))).toHaveLength(1);
    // A reader drains it: lines flow again and the loss is reported once.
    const r = reader(path);
    expect(r.drain().length).toBe(accepted * line.length);
    expect(fifo.write("after\n")).toBe(true);
    expect(r.drain().toString()).toBe("after\n");
    expect(log.lines.filter((l) => l.includes(`${2000 - accepted} lines lost`))).toHaveLength(1);
    r.close();
    fifo.close();
    expect(fifo.write("closed\n")).toBe(false);
  });

  test("refuses a path that exists but is not a FIFO, and leaves it alone", () => {
    const file = fresh();
    writeFileSync(file, "precious");
    let err: unknown;
    try {
      NotifyFifo.open(file, {}, captureLog());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe("E_CONFIG_INVALID");
    expect((err as AgentError).message).toContain("is not a FIFO");
    expect(Bun.file(file).size).toBe(8);

    const sub = fresh();
    mkdirSync(sub);
    expect(() => NotifyFifo.open(sub, {}, captureLog())).toThrow(AgentError);
    expect(lstatSync(sub).isDirectory()).toBe(true);
  });

  test("refuses a symlink, even to a FIFO (O_NOFOLLOW)", () => {
    const target = fresh();
    mkfifo(target, 0o600);
    const link = fresh();
    symlinkSync(target, link);
    expect(() => NotifyFifo.open(link, {}, captureLog())).toThrow(/ELOOP/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  test("a missing directory is a clear error naming the path and errno", () => {
    const path = join(dir, "no-such-dir", "fifo");
    expect(() => NotifyFifo.open(path, {}, captureLog())).toThrow(/mkfifo.*ENOENT/);
  });

  const notRoot = isRoot ? undefined : "needs root (chown to other users)";
  test.skipIf(notRoot !== undefined)(
    `ownership: created for the configured owner; a stranger's FIFO refused${notRoot ? ` (skipped: ${notRoot})` : ""}`,
    () => {
      const path = fresh();
      const fifo = NotifyFifo.open(path, { uid: 4242, gid: 4343 }, captureLog());
      const st = lstatSync(path);
      expect([st.uid, st.gid]).toEqual([4242, 4343]);
      fifo.close();

      const planted = fresh();
      mkfifo(planted, 0o600);
      chownSync(planted, 5151, 5151);
      expect(() => NotifyFifo.open(planted, {}, captureLog())).toThrow(/belongs to uid 5151/);
      // Owned by the configured user: accepted.
      NotifyFifo.open(planted, { uid: 5151 }, captureLog()).close();
      expect(existsSync(planted)).toBe(true);
    },
  );
});

describe("NotifyFifos", () => {
  test("VRRP lines go to notify_fifo and vrrp_notify_fifo, LVS lines to notify_fifo and lvs_notify_fifo", () => {
    const [all, vrrp, lvs] = [fresh(), fresh(), fresh()];
    const log = captureLog();
    const plan = planFifos({
      notify_fifo: all,
      vrrp_notify_fifo: vrrp,
      lvs_notify_fifo: lvs,
      vrrp_notify_fifo_script: { command: ["/bin/true"] },
    });
    const fifos = NotifyFifos.open(plan, log);
    expect(fifos.fifos.map((f) => f.plan.role)).toEqual(["global", "vrrp", "lvs"]);
    expect(fifos.fifos[1]?.plan.script?.command).toEqual(["/bin/true", vrrp]);
    const [ra, rv, rl] = [reader(all), reader(vrrp), reader(lvs)];
    const vs = {
      kind: "address",
      address: parseIp("192.0.2.1")!,
      port: 80,
      protocol: "tcp",
    } as const;
    fifos.vrrp(instanceFifoLine("VI_1", "MASTER", 100));
    fifos.lvs(vsFifoLine(vs, false));
    expect(ra.drain().toString()).toBe('INSTANCE "VI_1" MASTER 100\nVS [192.0.2.1]:tcp:80 DOWN\n');
    expect(rv.drain().toString()).toBe('INSTANCE "VI_1" MASTER 100\n');
    expect(rl.drain().toString()).toBe("VS [192.0.2.1]:tcp:80 DOWN\n");
    for (const r of [ra, rv, rl]) r.close();
    fifos.close();
    expect([all, vrrp, lvs].some(existsSync)).toBe(false);
  });

  test("a FIFO that can't be opened is logged and left out; the others work", () => {
    const bad = fresh();
    writeFileSync(bad, "");
    const good = fresh();
    const log = captureLog();
    const fifos = NotifyFifos.open(planFifos({ notify_fifo: bad, vrrp_notify_fifo: good }), log);
    expect(fifos.fifos.map((f) => f.plan.path)).toEqual([good]);
    expect(log.lines.some((l) => l.startsWith(`warn global notify FIFO ${bad} not used`))).toBe(
      true,
    );
    const r = reader(good);
    fifos.vrrp(groupFifoLine("G1", "FAULT"));
    expect(r.drain().toString()).toBe('GROUP "G1" FAULT 0\n');
    r.close();
    fifos.close();
  });
});
