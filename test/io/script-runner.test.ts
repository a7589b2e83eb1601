/**
 * Scripts started as keepalived's system_call_script() starts them (keepalived/core/
 * notify.c): exact argv, cleaned environment, /dev/null stdio and no other fd, own process
 * group, run-as ids and groups, TERM/KILL to the whole group, and every child reaped.
 * What a running child got is read from /proc/<pid>; scripts that must report something
 * write it to a file in a temporary directory.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import type { ScriptCommand } from "../../src/config/lines/shell.ts";
import { spawnPlan } from "../../src/io/script-prepare.ts";
import {
  type ScriptExit,
  type ScriptHandle,
  type ScriptLog,
  ScriptRunner,
  type StartOptions,
} from "../../src/io/script-runner.ts";
import { securityViolation } from "../../src/io/script-security.ts";
import { filesUserDb, systemUserDb } from "../../src/io/script-users.ts";
import { missing, REPO } from "../helpers/env.ts";

const SH = realpathSync("/bin/sh");
const SLEEP = realpathSync("/bin/sleep");
const ROOT = { uid: 0, gid: 0 };
const needRoot = missing({ root: true, commands: ["getent", "setpriv"] });
const rootOnly = needRoot ? ` (skipped: ${needRoot})` : "";

let dir = "";
let out = "";
beforeAll(() => {
  dir = mkdtempSync(`${tmpdir()}/ka-run-`);
  chmodSync(dir, 0o755);
  out = `${dir}/out`;
  mkdirSync(out);
  chmodSync(out, 0o777); // scripts run as nobody write here
});

const runners: ScriptRunner[] = [];
afterAll(async () => {
  for (const r of runners) r.terminateAll(0);
  await Promise.all(runners.map((r) => r.drain(5000)));
  rmSync(dir, { recursive: true, force: true });
});

interface Logged {
  readonly level: string;
  readonly msg: string;
}

function runner(opts: Partial<ConstructorParameters<typeof ScriptRunner>[0]> = {}) {
  const lines: Logged[] = [];
  const at = (level: string) => (msg: string) => lines.push({ level, msg });
  const log: ScriptLog = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  const r = new ScriptRunner({ log, defaultUser: ROOT, ...opts });
  runners.push(r);
  return { r, lines };
}

async function until<T>(get: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(2);
  }
}

/** Starts `cmd`; `exit` settles when onExit is called. */
function start(
  r: ScriptRunner,
  cmd: ScriptCommand,
  extra: readonly string[] = [],
  opts: Partial<StartOptions> = {},
): { handle: ScriptHandle; exit: Promise<ScriptExit> } {
  let done: (x: ScriptExit) => void = () => {};
  const exit = new Promise<ScriptExit>((res) => {
    done = res;
  });
  const handle = r.start(cmd, extra, { why: "test", ...opts, onExit: done });
  if (!handle) throw new Error(`${cmd.command[0]} did not start`);
  return { handle, exit };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Stat {
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
}

/** /proc/<pid>/stat, or undefined once the process is gone. */
function procStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: f[0]!, ppid: +f[1]!, pgrp: +f[2]!, session: +f[3]! };
}

function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const dead = (pid: number) => {
  const s = procStat(pid);
  return s === undefined || s.state === "Z" || s.state === "X";
};

/** Our zombie children: none may ever be left. */
function zombieChildren(): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      const s = procStat(pid);
      return s !== undefined && s.ppid === process.pid && s.state === "Z";
    });
}

/**
 * A running child's argv, once it has exec'ed `exe`. The kernel switches /proc/<pid>/exe
 * before it lays out the new argv and environment, so wait for the argv too.
 */
async function argvOf(pid: number, exe: string): Promise<string[]> {
  const raw = await until(
    () => {
      if (readlinkSync(`/proc/${pid}/exe`) !== exe) return undefined;
      return readFileSync(`/proc/${pid}/cmdline`, "utf8") || undefined;
    },
    2000,
    `pid ${pid} to exec ${exe}`,
  );
  return raw.slice(0, -1).split("\0");
}

function script(name: string, body: string, mode = 0o755): string {
  const path = `${dir}/${name}`;
  writeFileSync(path, body);
  chmodSync(path, mode);
  return path;
}

const WEIRD = [
  "",
  "two words",
  "it's",
  '"quoted"',
  "$HOME",
  "*",
  "back\\slash",
  "new\nline",
  "ünï",
];

describe("exit status", () => {
  test("exit 0 is success, any other status a failure", async () => {
    const { r } = runner();
    const ok = await within(start(r, { command: [SH, "-c", "exit 0"] }).exit, 5000, "exit 0");
    expect(ok).toMatchObject({ code: 0, signal: null, success: true, timedOut: false });
    const bad = await within(start(r, { command: [SH, "-c", "exit 3"] }).exit, 5000, "exit 3");
    expect(bad).toMatchObject({ code: 3, signal: null, success: false });
    expect(bad.runMs).toBeGreaterThanOrEqual(0);
  });

  test("death by a signal is a failure", async () => {
    const { r } = runner();
    const x = await within(start(r, { command: [SH, "-c", "kill -USR1 $$"] }).exit, 5000, "USR1");
    expect(x).toMatchObject({ code: null, signal: "SIGUSR1", success: false });
  });

  test("an exit handler that throws is logged, not thrown", async () => {
    const { r, lines } = runner();
    let called!: () => void;
    const seen = new Promise<void>((res) => {
      called = res;
    });
    r.start({ command: [SH, "-c", "exit 0"] }, [], {
      why: "bad handler",
      onExit: () => {
        called();
        throw new Error("boom");
      },
    });
    await within(seen, 5000, "the handler");
    expect(lines.some((l) => l.level === "error" && l.msg.includes("boom"))).toBe(true);
  });
});

describe("what the program is given", () => {
  test("argv is exact: configured words, then the extra arguments", async () => {
    const { r } = runner();
    const cmd = { command: [SH, "-c", "sleep 30; :", "name", ...WEIRD] };
    const { handle, exit } = start(r, cmd, ["INSTANCE", "VI_1", "MASTER", "100"]);
    expect(await argvOf(handle.pid, SH)).toEqual([
      ...cmd.command,
      "INSTANCE",
      "VI_1",
      "MASTER",
      "100",
    ]);
    handle.signal("SIGTERM");
    expect((await within(exit, 5000, "SIGTERM")).signal).toBe("SIGTERM");
  });

  test("a #! script gets its arguments exactly (written NUL-separated)", async () => {
    const { r } = runner();
    const file = `${out}/argv-shebang`;
    const path = script("args.sh", `#!/bin/sh\nprintf '%s\\0' "$@" > ${file}\n`);
    await within(start(r, { command: [path, ...WEIRD] }, ["GROUP", "G1"]).exit, 5000, "args.sh");
    expect(readFileSync(file, "utf8").split("\0").slice(0, -1)).toEqual([...WEIRD, "GROUP", "G1"]);
  });

  test("argv[0] is the configured path (cleaned); the resolved file is exec'ed", async () => {
    const { r } = runner();
    symlinkSync(SH, `${dir}/shlink`);
    const { handle, exit } = start(r, { command: [`${dir}//./shlink`, "-c", "sleep 30; :"] });
    const argv = await argvOf(handle.pid, SH);
    expect(argv[0]).toBe(`${dir}/shlink`);
    handle.signal("SIGKILL");
    await within(exit, 5000, "SIGKILL");
  });

  test("a file without #! runs through /bin/sh -c, each argument quoted", async () => {
    const { r, lines } = runner();
    const file = `${out}/argv-plain`;
    const path = script("plain.sh", `printf '%s\\0' "$0" "$@" > ${file}\nexit 4\n`);
    const prep = r.prepare({ command: [path, ...WEIRD] });
    expect(prep.ok && prep.script.mode).toBe("system");
    expect(lines.some((l) => l.level === "warn" && l.msg.includes("#!"))).toBe(true);
    const x = await within(start(r, { command: [path, ...WEIRD] }, ["x'y"]).exit, 5000, "plain");
    expect(x.code).toBe(4);
    expect(readFileSync(file, "utf8").split("\0").slice(0, -1)).toEqual([path, ...WEIRD, "x'y"]);
  });

  test('"</file" tests that a file can be opened, through the shell', async () => {
    const { r } = runner();
    writeFileSync(`${dir}/ready`, "");
    const yes = await within(start(r, { command: [`<${dir}/ready`] }).exit, 5000, "<ready");
    expect(yes.success).toBe(true);
    const no = await within(start(r, { command: [`< ${dir}/absent`] }).exit, 5000, "<absent");
    expect(no.success).toBe(false);
  });

  test("the environment is ours minus IFS, LD_PRELOAD and LD_LIBRARY_PATH", async () => {
    const env = {
      PATH: "/usr/bin:/bin",
      FOO: "bar baz",
      IFS: ":",
      LD_PRELOAD: "/nonexistent/preload.so",
      LD_LIBRARY_PATH: "/nonexistent",
      EMPTY: "",
    };
    const { r } = runner({ env });
    const { handle, exit } = start(r, { command: [SLEEP, "30"] });
    await argvOf(handle.pid, SLEEP);
    const got = readFileSync(`/proc/${handle.pid}/environ`, "utf8").split("\0").filter(Boolean);
    expect(got.sort()).toEqual(["EMPTY=", "FOO=bar baz", "PATH=/usr/bin:/bin"]);
    handle.signal("SIGTERM");
    await within(exit, 5000, "SIGTERM");
  });

  test("stdin, stdout, stderr on /dev/null, no other fd, default signal handling", async () => {
    const { r } = runner();
    const held = openSync(`${dir}/held`, "w");
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const { handle, exit } = start(r, { command: [SLEEP, "30"] });
      await argvOf(handle.pid, SLEEP);
      // Right after exec, sleep itself may briefly hold a file it reads while starting
      // (locale data): wait, bounded, for it to settle. A leaked descriptor never goes.
      const fdsNow = () => readdirSync(`/proc/${handle.pid}/fd`).sort();
      for (let i = 0; i < 100 && fdsNow().length > 3; i++) await Bun.sleep(10);
      const fds = fdsNow();
      expect(fds).toEqual(["0", "1", "2"]);
      for (const fd of fds) expect(readlinkSync(`/proc/${handle.pid}/fd/${fd}`)).toBe("/dev/null");
      const st = procStatus(handle.pid);
      expect([st.SigIgn, st.SigBlk]).toEqual(["0000000000000000", "0000000000000000"]);
      handle.signal("SIGTERM");
      await within(exit, 5000, "SIGTERM");
    } finally {
      closeSync(held);
      server.stop(true);
    }
  });

  test("the script leads its own process group (and session)", async () => {
    const { r } = runner();
    const { handle, exit } = start(r, { command: [SLEEP, "30"] });
    await argvOf(handle.pid, SLEEP);
    const st = procStat(handle.pid)!;
    expect([st.pgrp, st.session]).toEqual([handle.pid, handle.pid]);
    expect(st.ppid).toBe(process.pid);
    handle.signal("SIGTERM");
    await within(exit, 5000, "SIGTERM");
  });
});

describe(`run-as user and groups${rootOnly}`, () => {
  test.skipIf(needRoot !== undefined)(
    "user nobody, group nogroup, no supplementary groups",
    async () => {
      const { r } = runner();
      const cmd = { command: [SLEEP, "30"], user: "nobody", group: "nogroup" };
      const { handle, exit } = start(r, cmd);
      await argvOf(handle.pid, SLEEP);
      const st = procStatus(handle.pid);
      expect(st.Uid).toBe("65534\t65534\t65534\t65534");
      expect(st.Gid).toBe("65534\t65534\t65534\t65534");
      expect(st.Groups).toBe("");
      handle.signal("SIGTERM");
      await within(exit, 5000, "SIGTERM");
    },
  );

  test.skipIf(needRoot !== undefined)(
    '":group" adds the user\'s supplementary groups',
    async () => {
      const userDb = filesUserDb(
        "root:x:0:0::/root:/bin/sh\nsvc:x:65534:65534::/:/bin/false\n",
        "nogroup:x:65534:\nadm:x:4:syslog,svc\ncdrom:x:24:other\ntty:x:5:svc\n",
      );
      const { r } = runner({ userDb });
      const cmd = { command: [SLEEP, "30"], user: "svc", group: "tty", supplementary: true };
      expect(r.resolveRunAs(cmd)).toEqual({
        ok: true,
        runAs: { uid: 65534, gid: 5, groups: [65534, 4, 5] },
      });
      const { handle, exit } = start(r, cmd);
      await argvOf(handle.pid, SLEEP); // after setpriv has exec'ed sleep
      const st = procStatus(handle.pid);
      expect(st.Uid).toBe("65534\t65534\t65534\t65534");
      expect(st.Gid).toBe("5\t5\t5\t5");
      expect(
        st.Groups?.split(" ")
          .map(Number)
          .sort((a, b) => a - b),
      ).toEqual([4, 5, 65534]);
      handle.signal("SIGTERM");
      await within(exit, 5000, "SIGTERM");
    },
  );

  test.skipIf(needRoot !== undefined)("names are looked up by name only, never as numbers", () => {
    const db = systemUserDb();
    expect(db.user("nobody")).toEqual({ uid: 65534, gid: 65534 });
    expect(db.group("nogroup")).toBe(65534);
    // getent would answer "0" with root; keepalived's getpwnam_r would not.
    expect(db.user("0")).toBeUndefined();
    expect(db.group("0")).toBeUndefined();
    expect(db.user("no-such-user-here")).toBeUndefined();
    expect(db.groupList("nobody", 65534)).toEqual([65534]);
  });

  test("unknown user or group: a typed error naming it, and the script is not run", () => {
    const userDb = filesUserDb("svc:x:1000:1000::/:/bin/false\n", "svc:x:1000:\n");
    const { r, lines } = runner({ userDb });
    expect(r.resolveRunAs({ command: [SLEEP], user: "ghost" })).toMatchObject({
      ok: false,
      code: "unknown-user",
      subject: "ghost",
    });
    expect(r.resolveRunAs({ command: [SLEEP], user: "svc", group: "ghosts" })).toMatchObject({
      ok: false,
      code: "unknown-group",
      subject: "ghosts",
    });
    // ":" alone: no group named, the user's supplementary groups set.
    expect(
      r.resolveRunAs({ command: [SLEEP], user: "svc", group: "", supplementary: true }),
    ).toEqual({
      ok: true,
      runAs: { uid: 1000, gid: 1000, groups: [1000] },
    });
    expect(r.start({ command: [SLEEP, "1"], user: "ghost" }, [], { why: "t" })).toBeUndefined();
    expect(
      lines
        .filter((l) => l.level === "error")
        .map((l) => l.msg)
        .join(),
    ).toContain("'ghost'");
  });

  test("the default user: script_user, else keepalived_script, else ourselves", () => {
    const db = (extra: string) =>
      filesUserDb(`svc:x:1000:1000::/:/bin/false\n${extra}`, "svc:x:1000:\n");
    const self = { uid: process.geteuid!(), gid: process.getegid!() };
    const log: ScriptLog = { debug() {}, info() {}, warn() {}, error() {} };
    const make = (userDb: ReturnType<typeof db>, p = {}) => new ScriptRunner({ log, userDb, ...p });
    const plain = { command: [SLEEP] };
    expect(make(db("")).resolveRunAs(plain)).toEqual({ ok: true, runAs: { ...self, groups: [] } });
    const ka = db("keepalived_script:x:999:998::/:/bin/false\n");
    expect(make(ka).resolveRunAs(plain)).toEqual({
      ok: true,
      runAs: { uid: 999, gid: 998, groups: [] },
    });
    expect(make(ka, { scriptUser: { user: "svc" } }).resolveRunAs(plain)).toMatchObject({
      runAs: { uid: 1000 },
    });
    expect(make(db(""), { scriptSecurity: true }).resolveRunAs(plain)).toMatchObject({
      ok: false,
      code: "no-default-user",
      subject: "keepalived_script",
    });
    // A script's own user needs no default.
    expect(make(db(""), { scriptSecurity: true }).resolveRunAs({ ...plain, user: "svc" }).ok).toBe(
      true,
    );
  });

  test("setpriv carries the groups and, for exec'ed scripts, the parent-death signal", () => {
    const prep = {
      runAs: { uid: 7, gid: 8, groups: [8, 9] },
      mode: "exec",
      execPath: SLEEP,
      argv: ["s", "1"],
    } as const;
    expect(spawnPlan(prep, ["x"], ROOT, "/usr/bin/setpriv").cmd).toEqual([
      "/usr/bin/setpriv",
      "--reuid=7",
      "--regid=8",
      "--groups=8,9",
      "--pdeathsig=TERM",
      "--",
      SLEEP,
      "1",
      "x",
    ]);
    const plain = spawnPlan({ ...prep, runAs: { uid: 7, gid: 8 } }, [], ROOT, "/usr/bin/setpriv");
    expect(plain).toEqual({ cmd: [SLEEP, "1"], argv0: "s", uid: 7, gid: 8 });
  });
});

describe("scripts that cannot run", () => {
  test("a file that is not executable: undefined, one log line, no onExit", () => {
    const { r, lines } = runner();
    const path = script("noexec.sh", "#!/bin/sh\nexit 0\n", 0o644);
    let exits = 0;
    const opts = { why: "vrrp_script chk", onExit: () => exits++ };
    expect(r.start({ command: [path] }, [], opts)).toBeUndefined();
    const cmd = { command: [path] };
    expect(r.start(cmd, [], opts)).toBeUndefined();
    expect(r.start(cmd, [], opts)).toBeUndefined();
    const errors = lines.filter((l) => l.level === "error");
    expect(errors.length).toBe(2); // one per script, not one per attempt
    expect(errors[0]?.msg).toContain(path);
    expect(errors[0]?.msg).toContain("not executable");
    expect(exits).toBe(0);
    expect(r.running()).toBe(0);
  });

  test("enable_script_security refuses a root script in a world-writable directory", () => {
    mkdirSync(`${dir}/open`);
    chmodSync(`${dir}/open`, 0o777);
    const path = script("open/check.sh", "#!/bin/sh\nexit 0\n");
    const cmd = { command: [path] };
    const lax = runner();
    const p = lax.r.prepare(cmd, "vrrp_script chk");
    expect(p.ok).toBe(true);
    expect(p.security).toMatchObject({ ok: false, code: "insecure", path: `${dir}/open` });
    expect(lax.lines.find((l) => l.level === "warn")?.msg).toContain(`vrrp_script chk: unsafe`);
    expect(securityViolation([p.security!], false)).toContain("insecure");
    const strict = runner({ scriptSecurity: true });
    expect(strict.r.prepare(cmd)).toMatchObject({ ok: false, error: { code: "insecure" } });
    expect(strict.r.start(cmd, [], { why: "vrrp_script chk" })).toBeUndefined();
    expect(strict.lines.find((l) => l.level === "error")?.msg).toContain(`${dir}/open`);
    // Run as nobody, the same script is not walked at all.
    const asNobody = runner({ scriptSecurity: true, defaultUser: { uid: 65534, gid: 65534 } });
    expect(asNobody.r.prepare(cmd).ok).toBe(true);
  });

  test("a missing program, or one removed after prepare: undefined and a log line", () => {
    const { r, lines } = runner();
    expect(r.start({ command: ["/nonexistent/check"] }, [], { why: "t" })).toBeUndefined();
    expect(r.start({ command: [""] }, [], { why: "t" })).toBeUndefined();
    const path = script("gone.sh", "#!/bin/sh\n");
    const cmd = { command: [path] };
    expect(r.prepare(cmd).ok).toBe(true);
    rmSync(path);
    expect(r.start(cmd, [], { why: "t" })).toBeUndefined();
    expect(lines.filter((l) => l.level === "error").length).toBe(3);
    expect(lines.at(-1)?.msg).toContain(path);
  });
});

describe("signals, timeouts and reaping", () => {
  test("SIGTERM to the group reaches a grandchild", async () => {
    const { r } = runner();
    const file = `${out}/grandchild`;
    const { handle, exit } = start(r, {
      command: [SH, "-c", `sleep 30 & echo $! > ${file}; wait`],
    });
    const gpid = await until(
      () => existsSync(file) && Number(readFileSync(file, "utf8")),
      5000,
      "pid",
    );
    await until(() => procStat(gpid)?.pgrp === handle.pid, 2000, "grandchild in the group");
    handle.signal("SIGTERM");
    expect((await within(exit, 5000, "exit")).signal).toBe("SIGTERM");
    await until(() => dead(gpid), 5000, "the grandchild to die");
  });

  test("a script ignoring SIGTERM is SIGKILLed after the timeout; nothing left behind", async () => {
    const { r } = runner({ killAfterMs: 300 });
    const file = `${out}/ignorer`;
    const body = `trap '' TERM; sleep 30 & echo $! > ${file}; while :; do sleep 0.05; done`;
    const { exit } = start(r, { command: [SH, "-c", body] }, [], { timeoutMs: 100 });
    const gpid = await until(
      () => existsSync(file) && Number(readFileSync(file, "utf8")),
      5000,
      "pid",
    );
    const x = await within(exit, 5000, "SIGKILL");
    expect(x).toMatchObject({ signal: "SIGKILL", success: false, timedOut: true });
    expect(x.runMs).toBeGreaterThanOrEqual(390);
    await until(() => dead(gpid), 5000, "the grandchild to die");
    expect(zombieChildren()).toEqual([]);
  });

  test("a timed-out script killed by SIGTERM takes its TERM-proof children with it", async () => {
    const { r } = runner({ killAfterMs: 10_000 });
    const file = `${out}/leftover`;
    const body = `(trap '' TERM; exec sleep 30) & echo $! > ${file}; wait`;
    const { exit } = start(r, { command: [SH, "-c", body] }, [], { timeoutMs: 100 });
    const gpid = await until(
      () => existsSync(file) && Number(readFileSync(file, "utf8")),
      5000,
      "pid",
    );
    const x = await within(exit, 5000, "SIGTERM");
    expect(x).toMatchObject({ signal: "SIGTERM", timedOut: true });
    await until(() => dead(gpid), 2000, "the TERM-proof child to be SIGKILLed");
  });

  test("a handle's SIGTERM can be ignored, its SIGKILL cannot", async () => {
    const { r } = runner();
    const file = `${out}/ignorer2`;
    const { handle, exit } = start(r, {
      command: [SH, "-c", `trap '' TERM; echo > ${file}; while :; do sleep 0.05; done`],
    });
    await until(() => existsSync(file), 5000, "the trap");
    handle.signal("SIGTERM");
    // Still running a while later: it ignored SIGTERM.
    const later = await Promise.race([
      exit.then(() => "exited"),
      Bun.sleep(200).then(() => "running"),
    ]);
    expect(later).toBe("running");
    expect(r.running()).toBe(1);
    handle.signal("SIGKILL");
    expect((await within(exit, 5000, "SIGKILL")).signal).toBe("SIGKILL");
  });

  test("after the script is gone, its handle still reaches what it left in its group", async () => {
    const { r } = runner();
    const file = `${out}/left`;
    const { handle, exit } = start(r, { command: [SH, "-c", `sleep 30 & echo $! > ${file}`] });
    expect((await within(exit, 5000, "exit")).success).toBe(true);
    const gpid = Number(readFileSync(file, "utf8"));
    expect(procStat(gpid)?.pgrp).toBe(handle.pid);
    handle.signal("SIGKILL");
    await until(() => dead(gpid), 5000, "the left-behind child to die");
  });

  test("no zombies: every child is reaped by the time onExit runs", async () => {
    const { r } = runner();
    const runs = Array.from({ length: 25 }, (_, i) =>
      start(r, { command: [SH, "-c", `exit ${i % 3}`] }),
    );
    const exits = await within(Promise.all(runs.map((x) => x.exit)), 10_000, "25 exits");
    expect(exits.map((x) => x.code)).toEqual(runs.map((_, i) => i % 3));
    for (const { handle } of runs) {
      const st = procStat(handle.pid);
      expect(st === undefined || st.ppid !== process.pid).toBe(true);
    }
    expect(zombieChildren()).toEqual([]);
    expect(r.running()).toBe(0);
  });

  test("terminateAll: SIGTERM, then SIGKILL for those that stay; drain waits, bounded", async () => {
    const { r } = runner();
    expect(await r.drain(10)).toBe(true);
    const file = `${out}/stubborn`;
    const polite = start(r, { command: [SLEEP, "30"] });
    const stubborn = start(r, {
      command: [SH, "-c", `trap '' TERM; echo > ${file}; while :; do sleep 0.05; done`],
    });
    await until(() => existsSync(file), 5000, "the trap");
    expect(r.running()).toBe(2);
    expect(await r.drain(50)).toBe(false);
    r.terminateAll(200);
    expect(await r.drain(5000)).toBe(true);
    expect((await polite.exit).signal).toBe("SIGTERM");
    expect((await stubborn.exit).signal).toBe("SIGKILL");
    expect(r.running()).toBe(0);
    expect(zombieChildren()).toEqual([]);
  });

  test("scripts still running when this process exits get SIGTERM", async () => {
    const code = `
      import { ScriptRunner } from "${REPO}/src/io/script-runner.ts";
      const log = { debug() {}, info() {}, warn() {}, error() {} };
      const r = new ScriptRunner({ log, defaultUser: { uid: ${process.geteuid!()}, gid: ${process.getegid!()} } });
      const h = r.start({ command: ["${SLEEP}", "30"] }, [], { why: "t" });
      process.stdout.write(String(h?.pid) + "\\n");
      process.exit(0);
    `;
    const p = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "inherit" });
    const text = await within(new Response(p.stdout).text(), 10_000, "the child's output");
    await within(p.exited, 10_000, "the child to exit");
    const pid = Number(text.trim());
    expect(pid).toBeGreaterThan(0);
    await until(() => dead(pid), 5000, "the orphaned script to get SIGTERM");
  });
});
