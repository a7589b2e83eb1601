/**
 * SdNotify against a notification socket the test binds where systemd's would be: what
 * arrives, byte for byte, from which process, and what the process's environment keeps.
 * Senders in a child process get NOTIFY_SOCKET / WATCHDOG_* the way systemd passes them; a
 * datagram is queued when sendto returns, so once the child has exited everything it sent
 * is there to read. systemd-notify(1), when installed, checks the receiver against
 * systemd's own sender.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { close, monotonicMs } from "../../native/libc.ts";
import {
  SOCKADDR_UN,
  SUN_PATH_BYTES,
  sendDgram,
  sockaddrUn,
  unixDgramSocket,
} from "../../native/unix-dgram.ts";
import { SdNotify } from "../../src/io/sd-notify.ts";
import { missing, REPO } from "../helpers/env.ts";
import { abstractAddress, NotifySocket } from "../helpers/notify-socket.ts";

let dir = "";
let script = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sd-notify-test-"));
  script = join(dir, "notifier.ts");
  // The tiny program under test: constructs SdNotify from its real environment, reports
  // what it saw, then performs each argv step ("ready:text", "watchdog", …) in order.
  writeFileSync(
    script,
    `import { readdirSync, readlinkSync } from "node:fs";
import { SdNotify } from ${JSON.stringify(`${REPO}/src/io/sd-notify.ts`)};
const sockets = () =>
  readdirSync("/proc/self/fd").filter((f) => {
    try { return readlinkSync("/proc/self/fd/" + f).startsWith("socket:"); } catch { return false; }
  }).length;
const socketsBefore = sockets();
const warnings = [];
const n = new SdNotify({ log: { warn: (m) => warnings.push(m) } });
const openedByConstructor = sockets() - socketsBefore;
const vars = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];
const child = Bun.spawnSync(["sh", "-c", vars.map((v) => "echo \${" + v + "-unset}").join(";")], { env: process.env });
// Bun's spawnSync may keep its stdio socketpairs open: count only what the steps open.
const socketsBeforeSteps = sockets();
for (const step of process.argv.slice(2)) {
  const i = step.indexOf(":");
  const [op, arg] = i < 0 ? [step, undefined] : [step.slice(0, i), step.slice(i + 1)];
  if (op === "startWatchdog") n.startWatchdog()();
  else n[op](arg);
}
console.log(JSON.stringify({
  pid: process.pid,
  enabled: n.enabled,
  intervalMs: n.watchdogIntervalMs() ?? null,
  env: Object.fromEntries(vars.map((v) => [v, process.env[v] ?? null])),
  childSees: child.stdout.toString().trim().split("\\n"),
  newSockets: openedByConstructor + sockets() - socketsBeforeSteps,
  failures: n.failures,
  warnings,
}));
`,
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface ChildReport {
  pid: number;
  enabled: boolean;
  intervalMs: number | null;
  env: Record<string, string | null>;
  childSees: string[];
  newSockets: number;
  failures: number;
  warnings: string[];
}

/** Runs the notifier with `env` added (and NOTIFY_SOCKET etc. removed unless given). */
async function notifier(
  env: Record<string, string>,
  steps: string[],
  opts: { watchdogPidIsSelf?: boolean } = {},
): Promise<ChildReport & { spawnedPid: number }> {
  const base = { ...process.env };
  for (const v of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) delete base[v];
  // systemd sets WATCHDOG_PID to the pid it forked; `exec` keeps the shell's pid for bun.
  const cmd = opts.watchdogPidIsSelf
    ? ["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"', process.execPath, script, ...steps]
    : [process.execPath, script, ...steps];
  const p = Bun.spawn(cmd, { env: { ...base, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) throw new Error(`notifier exited ${code}: ${err}`);
  return { ...(JSON.parse(out) as ChildReport), spawnedPid: p.pid };
}

const texts = (s: NotifySocket) => s.drain().map((n) => n.text);

describe("SdNotify in a process systemd started (NOTIFY_SOCKET set)", () => {
  test("sends each message exactly, from the main pid, and pings the watchdog", async () => {
    const sock = NotifySocket.bind(abstractAddress("main"));
    try {
      const beforeUs = Math.floor(monotonicMs() * 1000);
      const r = await notifier(
        { NOTIFY_SOCKET: sock.address, WATCHDOG_USEC: "10000000" },
        [
          "ready:starting 2 instances",
          "status:2 instances, 1 MASTER",
          "watchdog",
          "reloading",
          "ready",
          "stopping",
        ],
        { watchdogPidIsSelf: true },
      );
      const afterUs = Math.ceil(monotonicMs() * 1000);
      const got = sock.drain();
      expect(r.pid).toBe(r.spawnedPid);
      expect(got.map((n) => n.pid)).toEqual(got.map(() => r.pid));
      const reloading = got[3]?.lines ?? [];
      expect(reloading[0]).toBe("RELOADING=1");
      const m = /^MONOTONIC_USEC=(\d+)$/.exec(reloading[1] ?? "");
      expect(m).not.toBeNull();
      // CLOCK_MONOTONIC is one clock for every process: the child's stamp lies between ours.
      const us = Number(m?.[1]);
      expect(us).toBeGreaterThanOrEqual(beforeUs - 1);
      expect(us).toBeLessThanOrEqual(afterUs + 1);
      expect(got.map((n) => n.text)).toEqual([
        "READY=1\nSTATUS=starting 2 instances",
        "STATUS=2 instances, 1 MASTER",
        "WATCHDOG=1",
        `RELOADING=1\nMONOTONIC_USEC=${us}`,
        "READY=1",
        "STOPPING=1",
      ]);
      expect(r.intervalMs).toBe(5000);
      expect(r.enabled).toBe(true);
      expect(r.warnings).toEqual([]);
    } finally {
      sock.close();
    }
  });

  test("the scripts it starts do not inherit NOTIFY_SOCKET or WATCHDOG_*", async () => {
    const sock = NotifySocket.bind(abstractAddress("env"));
    try {
      const r = await notifier(
        { NOTIFY_SOCKET: sock.address, WATCHDOG_USEC: "4000000" },
        ["ready"],
        { watchdogPidIsSelf: true },
      );
      expect(r.env).toEqual({ NOTIFY_SOCKET: null, WATCHDOG_USEC: null, WATCHDOG_PID: null });
      expect(r.childSees).toEqual(["unset", "unset", "unset"]);
      // …and it still knows where to send after forgetting the variables.
      expect(texts(sock)).toEqual(["READY=1"]);
      expect(r.intervalMs).toBe(2000);
    } finally {
      sock.close();
    }
  });

  test("a file-system socket path works as well as an abstract name", async () => {
    const sock = NotifySocket.bind(join(dir, "notify"));
    try {
      const r = await notifier({ NOTIFY_SOCKET: sock.address }, ["ready:up", "stopping"]);
      expect(texts(sock)).toEqual(["READY=1\nSTATUS=up", "STOPPING=1"]);
      expect(r.intervalMs).toBeNull(); // no WATCHDOG_USEC: no watchdog
    } finally {
      sock.close();
    }
  });

  test("WATCHDOG_PID naming another process: no pings, other messages still go", async () => {
    const sock = NotifySocket.bind(abstractAddress("otherpid"));
    try {
      const r = await notifier(
        { NOTIFY_SOCKET: sock.address, WATCHDOG_USEC: "10000000", WATCHDOG_PID: "1" },
        ["watchdog", "startWatchdog", "ready", "watchdog"],
      );
      expect(r.intervalMs).toBeNull();
      expect(texts(sock)).toEqual(["READY=1"]);
    } finally {
      sock.close();
    }
  });
});

describe("SdNotify without NOTIFY_SOCKET", () => {
  test("every call is a no-op: no socket opened, no watchdog, nothing logged", async () => {
    const r = await notifier({ WATCHDOG_USEC: "10000000" }, [
      "ready:x",
      "status:y",
      "watchdog",
      "startWatchdog",
      "reloading",
      "stopping",
    ]);
    expect(r).toMatchObject({ enabled: false, intervalMs: null, failures: 0, warnings: [] });
    // Bun's own stdio socketpairs come and go asynchronously: none may be added by us.
    expect(r.newSockets).toBeLessThanOrEqual(0);
    // Unset anyway: a script still must not see a watchdog meant for someone.
    expect(r.childSees).toEqual(["unset", "unset", "unset"]);
  });
});

function quiet(): { warn: (m: string) => void; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (m) => warnings.push(m) };
}

describe("SdNotify edge cases (in process, injected environment)", () => {
  test("the watchdog timer pings every half WATCHDOG_USEC until stopped", async () => {
    const sock = NotifySocket.bind(abstractAddress("timer"));
    const log = quiet();
    const n = new SdNotify({ env: { NOTIFY_SOCKET: sock.address, WATCHDOG_USEC: "40000" }, log });
    const t0 = performance.now();
    const stop = n.startWatchdog();
    try {
      expect(n.watchdogIntervalMs()).toBe(20);
      const got = await sock.waitFor(4, 3000);
      const elapsedMs = performance.now() - t0;
      expect(got.map((m) => m.text)).toEqual([
        "WATCHDOG=1",
        "WATCHDOG=1",
        "WATCHDOG=1",
        "WATCHDOG=1",
      ]);
      expect(got.map((m) => m.pid)).toEqual([process.pid, process.pid, process.pid, process.pid]);
      // One at once, then three intervals of 20 ms.
      expect(elapsedMs).toBeGreaterThanOrEqual(3 * 20 - 2);
    } finally {
      stop();
      n.close();
      sock.close();
    }
    expect(log.warnings).toEqual([]);
  });

  test("a STATUS text cannot inject other assignments", () => {
    const sock = NotifySocket.bind(abstractAddress("status"));
    const n = new SdNotify({ env: { NOTIFY_SOCKET: sock.address }, log: quiet() });
    n.status("fine\nREADY=1\r\nWATCHDOG=trigger");
    n.ready("a\0b");
    expect(texts(sock)).toEqual(["STATUS=fine READY=1 WATCHDOG=trigger", "READY=1\nSTATUS=a b"]);
    n.close();
    sock.close();
  });

  test("a send that fails never throws and is logged once", () => {
    const log = quiet();
    const n = new SdNotify({ env: { NOTIFY_SOCKET: join(dir, "nobody-listens") }, log });
    expect(n.enabled).toBe(true);
    n.ready();
    n.status("x");
    n.stopping();
    expect(n.failures).toBe(3);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain("READY=1");
    expect(log.warnings[0]).toContain("ENOENT");
    n.close();
  });

  test("a receiver that stops reading makes sends fail (EAGAIN), never block", () => {
    const sock = NotifySocket.bind(abstractAddress("full"));
    const log = quiet();
    const n = new SdNotify({ env: { NOTIFY_SOCKET: sock.address, WATCHDOG_USEC: "1000000" }, log });
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) n.watchdog();
    const elapsedMs = performance.now() - t0;
    const queued = sock.drain().length;
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThan(200);
    expect(n.failures).toBe(200 - queued);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain("EAGAIN");
    expect(elapsedMs).toBeLessThan(1000);
    // Once drained, it goes through again.
    n.ready();
    expect(texts(sock)).toEqual(["READY=1"]);
    n.close();
    sock.close();
  });

  for (const usec of ["0", "-5", "abc", "1e6", "", "99999999999999999999"])
    test(`WATCHDOG_USEC="${usec}" means no watchdog`, () => {
      const sock = NotifySocket.bind(abstractAddress("bad-usec"));
      const log = quiet();
      const n = new SdNotify({ env: { NOTIFY_SOCKET: sock.address, WATCHDOG_USEC: usec }, log });
      n.watchdog();
      n.ready();
      expect(n.watchdogIntervalMs()).toBeUndefined();
      expect(texts(sock)).toEqual(["READY=1"]);
      expect(log.warnings).toHaveLength(1);
      n.close();
      sock.close();
    });

  for (const addr of ["relative/notify", "vsock:2:1234", "@", `/${"x".repeat(107)}`])
    test(`NOTIFY_SOCKET="${addr.slice(0, 20)}…" is refused with one warning, then ignored`, () => {
      const log = quiet();
      const n = new SdNotify({ env: { NOTIFY_SOCKET: addr, WATCHDOG_USEC: "1000000" }, log });
      expect(n.enabled).toBe(false);
      expect(n.watchdogIntervalMs()).toBeUndefined();
      n.ready();
      expect(n.failures).toBe(0);
      expect(log.warnings).toHaveLength(1);
    });

  test("unsetEnvironment: deletes the variables by default, keeps them when false", () => {
    const env = { NOTIFY_SOCKET: "@x", WATCHDOG_USEC: "1", WATCHDOG_PID: "1", OTHER: "y" };
    new SdNotify({ env: { ...env }, unsetEnvironment: false, log: quiet() });
    const e1: Record<string, string | undefined> = { ...env };
    new SdNotify({ env: e1, log: quiet() });
    expect(e1).toEqual({ OTHER: "y" });
    const e2: Record<string, string | undefined> = { ...env };
    new SdNotify({ env: e2, unsetEnvironment: false, log: quiet() });
    expect(e2).toEqual(env);
  });
});

describe("native/unix-dgram addresses", () => {
  const family = (b: Uint8Array) => new DataView(b.buffer).getUint16(SOCKADDR_UN.family, true);
  const path = (b: Uint8Array) => [...b.subarray(SOCKADDR_UN.path)];
  const bytes = (s: string) => [...new TextEncoder().encode(s)];

  test("a path counts its NUL; an abstract name starts with NUL and has none after", () => {
    const p = sockaddrUn("/run/systemd/notify");
    expect(family(p)).toBe(1);
    expect(p.length).toBe(2 + 19 + 1);
    expect(path(p)).toEqual([...bytes("/run/systemd/notify"), 0]);
    const a = sockaddrUn("@edge/notify");
    expect(family(a)).toBe(1);
    expect(a.length).toBe(2 + 12);
    expect(path(a)).toEqual([0, ...bytes("edge/notify")]);
  });

  test("sun_path's 108 bytes are the limit, as the kernel has it", () => {
    const longest = join(dir, "p".repeat(SUN_PATH_BYTES - 1 - dir.length - 1));
    expect(longest.length).toBe(SUN_PATH_BYTES - 1);
    const sock = NotifySocket.bind(longest); // the kernel takes it
    sock.close();
    expect(() => sockaddrUn(`${longest}p`)).toThrow(/does not fit sun_path/);
    const abstract = `@${"a".repeat(SUN_PATH_BYTES - 1)}`;
    const a = NotifySocket.bind(abstract);
    const fd = unixDgramSocket();
    sendDgram(fd, new TextEncoder().encode("WATCHDOG=1"), sockaddrUn(abstract), abstract);
    close(fd);
    expect(a.drain().map((n) => n.text)).toEqual(["WATCHDOG=1"]);
    a.close();
    expect(() => sockaddrUn(`${abstract}a`)).toThrow(/does not fit sun_path/);
    expect(() => sockaddrUn("/a\0b")).toThrow(/NUL/);
  });

  test("a send to a socket nobody bound names the address and ECONNREFUSED/ENOENT", () => {
    const fd = unixDgramSocket();
    const addr = abstractAddress("unbound");
    expect(() => sendDgram(fd, new Uint8Array([1]), sockaddrUn(addr), addr)).toThrow(
      /ECONNREFUSED/,
    );
    const file = join(dir, "absent");
    expect(() => sendDgram(fd, new Uint8Array([1]), sockaddrUn(file), file)).toThrow(/ENOENT/);
    close(fd);
  });
});

const noNotify = missing({ commands: ["systemd-notify"] });
describe.skipIf(noNotify !== undefined)(
  `systemd's own sender reaches the same addresses${noNotify ? ` (skipped: ${noNotify})` : ""}`,
  () => {
    for (const kind of ["abstract", "path"] as const)
      test(`systemd-notify → ${kind} socket: the receiver reads what SdNotify would send`, async () => {
        const sock = NotifySocket.bind(
          kind === "abstract" ? abstractAddress("systemd-notify") : join(dir, "sn"),
        );
        try {
          const env = { ...process.env, NOTIFY_SOCKET: sock.address };
          // --no-block: no barrier round trip (systemd-notify would wait for pid 1 to answer).
          const p = Bun.spawn(["systemd-notify", "--no-block", "--ready", "--status=up"], {
            env,
            stderr: "pipe",
          });
          expect(await p.exited).toBe(0);
          const ours = new SdNotify({ env: { NOTIFY_SOCKET: sock.address }, log: quiet() });
          ours.ready("up");
          ours.close();
          const [theirs, mine] = sock.drain();
          // systemd-notify puts the assignments in its own order; the set is the same.
          expect([...(theirs?.lines ?? [])].sort()).toEqual([...(mine?.lines ?? [])].sort());
          expect(mine?.text).toBe("READY=1\nSTATUS=up");
        } finally {
          sock.close();
        }
      });
  },
);
