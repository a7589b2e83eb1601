/**
 * ProcessWatcher (src/io/process-watch.ts) on this machine, with stand-in daemons: copies of
 * /bin/sleep and /bin/true under distinctive names in a temp dir, started here and stopped
 * by PID. Every case runs through the proc connector and through the forced /proc scan;
 * then, inside a network namespace the test creates, a child agent process shows the
 * fallback taking over by itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileMatcher, type ProcessMatchSpec } from "../../src/core/track/process-match.ts";
import { ProcessWatcher, type WatchLog } from "../../src/io/process-watch.ts";
import { missing, REPO, run } from "../helpers/env.ts";

const BOUND_MS = 5000;
const SCAN_MS = 100;
const why = missing({ root: true, commands: ["ip"], paths: ["/bin/sleep", "/bin/true"] });
const skipped = why ? ` (skipped: ${why})` : "";

let dir = "";
let seq = 0;
const hex = () => `${process.pid.toString(16)}${(seq++).toString(16)}`.slice(-6);

/** A copy of `bin` whose name (its comm) nothing else on the machine has; ≤ 15 bytes. */
function standIn(bin: string, tag: string): { path: string; name: string } {
  const name = `ea${tag}${hex()}`;
  const path = join(dir, name);
  copyFileSync(bin, path);
  return { path, name };
}

/** Exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const started: Bun.Subprocess[] = [];
function start(argv: string[], stdin: "ignore" | "pipe" = "ignore"): Bun.Subprocess {
  const p = Bun.spawn(argv, { stdin, stdout: "ignore", stderr: "ignore" });
  started.push(p);
  return p;
}

/** Every count reported, per tracker, in order. */
class Counts {
  readonly history = new Map<string, number[]>();
  readonly onCount = (name: string, n: number) => {
    this.history.set(name, [...(this.history.get(name) ?? []), n]);
  };
  last(name: string): number | undefined {
    return this.history.get(name)?.at(-1);
  }
  async reach(want: Record<string, number>, what: string): Promise<void> {
    const end = performance.now() + BOUND_MS;
    while (!Object.entries(want).every(([k, v]) => this.last(k) === v)) {
      if (performance.now() > end) {
        const now = Object.fromEntries(Object.keys(want).map((k) => [k, this.last(k)]));
        throw new Error(
          `${what}: want ${JSON.stringify(want)}, have ${JSON.stringify(now)} ${JSON.stringify([...this.history])}`,
        );
      }
      await Bun.sleep(10);
    }
  }
}

const quiet: WatchLog = { info: () => {}, warn: () => {}, debug: () => {} };

async function watching(
  mode: "connector" | "scan",
  specs: Record<string, ProcessMatchSpec>,
  body: (c: Counts, w: ProcessWatcher) => Promise<void>,
): Promise<void> {
  const c = new Counts();
  const trackers = Object.entries(specs).map(([name, s]) => ({ name, match: compileMatcher(s) }));
  const w = new ProcessWatcher(trackers, c.onCount, quiet, { mode, scanIntervalMs: SCAN_MS });
  await w.start();
  try {
    expect(w.mode).toBe(mode);
    await body(c, w);
  } finally {
    await w.stop();
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ea-pw-"));
});
afterAll(() => {
  for (const p of started) if (p.exitCode === null) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe.each(["connector", "scan"] as const)("ProcessWatcher (%s)", (mode) => {
  test.skipIf(why !== undefined)(`a daemon started and killed: 0 → 1 → 0${skipped}`, async () => {
    const d = standIn("/bin/sleep", "d");
    await watching(mode, { d: { process: [d.name] } }, async (c) => {
      expect(c.history.get("d")).toEqual([0]); // every tracker reports once at start
      const p = start([d.path, "3600"]);
      await c.reach({ d: 1 }, "daemon started");
      p.kill();
      await p.exited;
      await c.reach({ d: 0 }, "daemon killed");
      expect(c.history.get("d")).toEqual([0, 1, 0]); // only changes are reported
    });
  });

  test.skipIf(why !== undefined)(`parameters: sleep 3600 vs sleep 3601${skipped}`, async () => {
    const d = standIn("/bin/sleep", "p");
    const specs = {
      by3600: { process: [d.path, "3600"] },
      by3601: { process: [d.path, "3601"] },
      byName: { process: [d.name] },
      prefix360: { process: [d.path, "360"], paramMatch: "initial" as const },
      exact360: { process: [d.path, "360"] },
    };
    await watching(mode, specs, async (c) => {
      const a = start([d.path, "3600"]);
      start([d.path, "3601"]);
      const want = { by3600: 1, by3601: 1, byName: 2, prefix360: 2, exact360: 0 };
      await c.reach(want, "both started");
      a.kill();
      await a.exited;
      await c.reach({ ...want, by3600: 0, byName: 1, prefix360: 1 }, "3600 killed");
    });
  });

  test.skipIf(why !== undefined)(
    `exec into a tracked program keeps the pid${skipped}`,
    async () => {
      const d = standIn("/bin/sleep", "x");
      await watching(mode, { d: { process: [d.name] } }, async (c) => {
        const sh = start(["/bin/sh", "-c", `exec '${d.path}' 3600`]);
        await c.reach({ d: 1 }, "sh exec'd the daemon");
        expect(readFileSync(`/proc/${sh.pid}/comm`, "utf8").trim()).toBe(d.name);
        sh.kill();
        await sh.exited;
        await c.reach({ d: 0 }, "daemon killed");
      });
    },
  );

  test.skipIf(why !== undefined)(
    `a renamed process (comm write) and its fork both count${skipped}`,
    async () => {
      const name = `earn${hex()}`;
      await watching(mode, { r: { process: [name] } }, async (c) => {
        // Renames itself, then forks a subshell (same name, no exec); both block reading
        // stdin until it closes.
        const script = `exec 3<&0; printf %s '${name}' > /proc/$$/comm; (read x <&3) & read y`;
        const sh = start(["/bin/sh", "-c", script], "pipe");
        await c.reach({ r: 2 }, "renamed shell and its fork");
        const kids = readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, "utf8").trim();
        (sh.stdin as import("bun").FileSink).end();
        await sh.exited;
        await c.reach({ r: 0 }, "both gone");
        // The subshell was one of the two counted; it is gone (or a zombie) too.
        expect(
          kids
            .split(/\s+/)
            .filter(Boolean)
            .filter((k) => running(Number(k))),
        ).toEqual([]);
      });
    },
  );

  test.skipIf(why !== undefined)(
    `200 processes that exit at once (gone before /proc is read)${skipped}`,
    async () => {
      const t = standIn("/bin/true", "t");
      const d = standIn("/bin/sleep", "q");
      await watching(mode, { t: { process: [t.name] }, d: { process: [d.name] } }, async (c) => {
        for (let i = 0; i < 20; i++)
          await Promise.all(Array.from({ length: 10 }, () => start([t.path]).exited));
        // Still following: a daemon started after the burst is seen, and no true is left.
        const p = start([d.path, "3600"]);
        await c.reach({ d: 1, t: 0 }, "after the burst");
        expect(Math.min(...(c.history.get("t") ?? [0]))).toBe(0);
        p.kill();
        await p.exited;
      });
    },
  );
});

describe("ProcessWatcher (connector) edge cases", () => {
  test.skipIf(why !== undefined)(
    `lost events (tiny receive buffer): warns, re-reads /proc, counts stay right${skipped}`,
    async () => {
      const t = standIn("/bin/true", "o");
      const d = standIn("/bin/sleep", "o");
      const logs: string[] = [];
      const log: WatchLog = { info: () => {}, warn: (m) => logs.push(m), debug: () => {} };
      const c = new Counts();
      const trackers = [{ name: "d", match: compileMatcher({ process: [d.name] }) }];
      // The kernel rounds a 1-byte SO_RCVBUF up to its minimum (a few datagrams), and
      // 300 ms batches let a burst overflow it.
      const w = new ProcessWatcher(trackers, c.onCount, log, {
        mode: "connector",
        rcvbufBytes: 1,
        batchMs: 300,
      });
      await w.start();
      try {
        const p = start([d.path, "3600"]);
        await Promise.all(Array.from({ length: 60 }, () => start([t.path]).exited));
        await c.reach({ d: 1 }, "daemon counted despite the overflow");
        expect(w.stats.overruns).toBeGreaterThan(0);
        expect(logs.join("\n")).toContain("process events were lost");
        p.kill();
        await p.exited;
        await c.reach({ d: 0 }, "daemon killed");
      } finally {
        await w.stop();
      }
    },
  );

  test.skipIf(why !== undefined)(
    `stop() while starting: nothing reported after${skipped}`,
    async () => {
      const c = new Counts();
      const w = new ProcessWatcher(
        [{ name: "x", match: compileMatcher({ process: ["init"] }) }],
        c.onCount,
        quiet,
        { mode: "connector" },
      );
      const starting = w.start();
      await w.stop();
      await starting;
      expect(c.history.size).toBe(0);
      expect(w.mode).toBeUndefined();
    },
  );
});

describe("ProcessWatcher in a network namespace", () => {
  test.skipIf(why !== undefined)(
    `falls back to scanning /proc; mode "connector" refuses with ECONNREFUSED${skipped}`,
    () => {
      const ns = `edge-pw-${process.pid}-${Math.floor(Math.random() * 0xffffff).toString(16)}`;
      const d = standIn("/bin/sleep", "n");
      const script = join(dir, "in-netns.ts");
      writeFileSync(
        script,
        `import { compileMatcher } from "${REPO}/src/core/track/process-match.ts";
import { ProcessWatcher } from "${REPO}/src/io/process-watch.ts";
const logs: string[] = [];
const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), debug: () => {} };
const counts: number[] = [];
const trackers = [{ name: "d", match: compileMatcher({ process: [${JSON.stringify(d.name)}] }) }];
const until = async (ok: () => boolean) => {
  const end = performance.now() + ${BOUND_MS};
  while (!ok()) { if (performance.now() > end) throw new Error("timeout " + counts); await Bun.sleep(10); }
};
const w = new ProcessWatcher(trackers, (_n, c) => counts.push(c), log, { scanIntervalMs: ${SCAN_MS} });
await w.start();
const mode = w.mode;
const p = Bun.spawn([${JSON.stringify(d.path)}, "3600"]);
try {
  await until(() => counts.at(-1) === 1);
} finally {
  p.kill();
  await p.exited;
}
await until(() => counts.at(-1) === 0);
await w.stop();
let refused: unknown;
try {
  await new ProcessWatcher(trackers, () => {}, log, { mode: "connector" }).start();
} catch (e) {
  refused = (e as { cause?: { errno?: string } }).cause?.errno;
}
console.log(JSON.stringify({ mode, counts, logs, refused }));
`,
      );
      expect(run(["ip", "netns", "add", ns]).code).toBe(0);
      try {
        const r = Bun.spawnSync(["ip", "netns", "exec", ns, process.execPath, script], {
          stdout: "pipe",
          stderr: "pipe",
          timeout: 4 * BOUND_MS,
        });
        expect(r.stderr.toString()).toBe("");
        const out = JSON.parse(r.stdout.toString()) as {
          mode: string;
          counts: number[];
          logs: string[];
          refused: string;
        };
        expect(out.mode).toBe("scan");
        expect(out.counts).toEqual([0, 1, 0]);
        expect(out.logs.join("\n")).toContain("ECONNREFUSED");
        expect(out.logs.join("\n")).toContain(`scanning /proc every ${SCAN_MS} ms`);
        expect(out.refused).toBe("ECONNREFUSED");
      } finally {
        run(["ip", "netns", "del", ns]);
      }
    },
  );
});
