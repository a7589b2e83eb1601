/**
 * Micro-benchmark: the cost of starting scripts through ScriptRunner (src/io/script-runner.ts).
 * Run by hand (root): `bun bench/scripts-spawn.ts`; not part of `bun test` or bench/run.ts.
 *
 * Phases, each BENCH_SPAWN_SECONDS (default 10) at BENCH_SPAWN_RATE starts/s (default 200),
 * started on a drift-free schedule (start i is due at t0 + i/rate):
 *   idle     the same schedule starting nothing: the loop's own CPU, to subtract;
 *   true     /usr/bin/true through the runner: CPU of this process (user + system, all
 *            threads) over the phase, until every child is reaped;
 *   latency  the delay from the start() call to the child reading CLOCK_MONOTONIC: the
 *            child is `dd if=/proc/timer_list … of=FILE_i` exec'ed directly (no shell),
 *            and /proc/timer_list opens with "now at N nsecs" (CLOCK_MONOTONIC, the clock
 *            the parent stamps with), read when dd first reads the file. So the delay covers
 *            start(), Bun's spawn, the kernel's exec and dd's own start-up (dynamic loader,
 *            libc), which nothing C-free can separate. Starts alternate between three ways:
 *            `runner` (ScriptRunner.start), `bunSpawnAlone` (Bun.spawn with the same options:
 *            the difference is what the runner adds) and `runnerWithSetpriv` (a script with
 *            supplementary groups, which goes through setpriv(1): one more exec).
 * /usr/bin/true, not /bin/true: as root, a /bin/… script is refused on a merged-/usr host
 * (keepalived's walk of the configured path finds /bin is a symlink).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { monotonicMs } from "../src/io/clock.ts";
import { cleanEnv } from "../src/io/script-prepare.ts";
import { ScriptRunner } from "../src/io/script-runner.ts";

const seconds = Number(process.env.BENCH_SPAWN_SECONDS ?? 10);
const rate = Number(process.env.BENCH_SPAWN_RATE ?? 200);
const total = Math.round(seconds * rate);
const self = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
const log = {
  debug() {},
  info() {},
  warn: (m: string) => process.stderr.write(`warn: ${m}\n`),
  error: (m: string) => process.stderr.write(`error: ${m}\n`),
};

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Calls `each(i)` for i in [0, total) at t0 + i/rate; resolves when all are called. */
function schedule(each: (i: number) => void): Promise<void> {
  const t0 = monotonicMs();
  let i = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = monotonicMs();
      while (i < total && t0 + (i * 1000) / rate <= now) each(i++);
      if (i >= total) resolve();
      else setTimeout(tick, Math.max(0, t0 + (i * 1000) / rate - monotonicMs()));
    };
    tick();
  });
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

async function idlePhase() {
  const c0 = cpuMs();
  const w0 = monotonicMs();
  await schedule(() => {});
  return { cpuMs: round(cpuMs() - c0, 1), wallMs: round(monotonicMs() - w0, 1) };
}

async function truePhase(r: ScriptRunner) {
  const cmd = { command: ["/usr/bin/true"] };
  if (!r.prepare(cmd).ok) throw new Error("/usr/bin/true cannot be run");
  let failed = 0;
  let peak = 0;
  const c0 = cpuMs();
  const w0 = monotonicMs();
  await schedule(() => {
    const h = r.start(cmd, [], { why: "bench", onExit: (x) => void (x.success || failed++) });
    if (!h) failed++;
    peak = Math.max(peak, r.running());
  });
  if (!(await r.drain(30_000))) throw new Error("children still running after 30 s");
  const used = cpuMs() - c0;
  return {
    starts: total,
    failed,
    peakRunning: peak,
    cpuMs: round(used, 1),
    wallMs: round(monotonicMs() - w0, 1),
    cpuMsPerStart: round(used / total),
  };
}

const DD = ["/usr/bin/dd", "if=/proc/timer_list", "bs=96", "count=1", "status=none"];

function childMonoMs(file: string): number {
  const m = /now at (\d+) nsecs/.exec(readFileSync(file, "utf8"));
  if (!m) throw new Error(`${file}: no timestamp`);
  return Number(BigInt(m[1]!) / 1000n) / 1000;
}

type Starter = (file: string, done: () => void) => boolean;

/** Start i goes through starters[i mod n] (interleaved, so drift and GC hit all alike). */
async function latencyPhase(dir: string, starters: Record<string, Starter>) {
  const names = Object.keys(starters);
  const startedAt: number[] = [];
  let exited = 0;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      if (++exited === total) resolve();
    };
    void schedule((i) => {
      const start = starters[names[i % names.length]!]!;
      startedAt[i] = monotonicMs();
      if (!start(`${dir}/${i}`, done)) throw new Error(`start ${i} failed`);
    });
  });
  const stats: Record<string, object> = {};
  for (const [k, name] of names.entries()) {
    const delays = startedAt
      .map((t, i) => (i % names.length === k ? childMonoMs(`${dir}/${i}`) - t : Number.NaN))
      .filter((d) => !Number.isNaN(d))
      .sort((a, b) => a - b);
    stats[name] = {
      samples: delays.length,
      medianMs: round(pct(delays, 50)),
      p90Ms: round(pct(delays, 90)),
      p99Ms: round(pct(delays, 99)),
      maxMs: round(delays.at(-1) ?? Number.NaN),
    };
  }
  return stats;
}

async function main(): Promise<void> {
  if (self.uid !== 0) throw new Error("run as root (/proc/timer_list is root-only)");
  const r = new ScriptRunner({ log, defaultUser: self });
  const base = mkdtempSync(`${tmpdir()}/bench-spawn-`);
  try {
    process.stderr.write(`scripts-spawn: ${rate}/s for ${seconds} s per phase\n`);
    const idle = await idlePhase();
    const trueRun = await truePhase(r);
    const ddCmd = { command: DD };
    if (!r.prepare(ddCmd).ok) throw new Error("dd cannot be run");
    const grouped = new ScriptRunner({ log, defaultUser: { ...self, groups: [self.gid] } });
    if (!grouped.prepare(ddCmd).ok) throw new Error("dd cannot be run through setpriv");
    const startToExec = await latencyPhase(base, {
      runner: (file, done) =>
        r.start(ddCmd, [`of=${file}`], { why: "bench", onExit: done }) !== undefined,
      bunSpawnAlone: (file, done) => {
        const p = Bun.spawn([...DD, `of=${file}`], {
          env: cleanEnv(process.env),
          detached: true,
          stdin: "ignore",
          stdout: "ignore",
          stderr: "ignore",
          uid: 0,
          gid: 0,
        });
        p.exited.then(done);
        return true;
      },
      runnerWithSetpriv: (file, done) =>
        grouped.start(ddCmd, [`of=${file}`], { why: "bench", onExit: done }) !== undefined,
    });
    const result = {
      bench: "scripts-spawn",
      bun: Bun.version,
      ratePerS: rate,
      seconds,
      idle,
      true: { ...trueRun, netCpuMs: round(trueRun.cpuMs - idle.cpuMs, 1) },
      startToExec,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    r.terminateAll(0);
    await r.drain(5000);
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
