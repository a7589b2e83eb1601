/**
 * What the lab benchmarks share: the two implementations behind one interface, CPU hogs
 * started and stopped by PID, /proc sampling, statistics, results, and a wrapper that
 * removes the lab and every process it started even when the benchmark fails or is
 * interrupted.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  AGENT,
  ensureAgentBinary,
  type Host,
  Lab,
  labMissing,
  type Proc,
  pidAlive,
  type VrrpOpts,
  vrrpConf,
} from "../../test/helpers/lab.ts";

export type Impl = "agent" | "keepalived";
export const IMPLS: readonly Impl[] = ["agent", "keepalived"];

/** Epoch ms with sub-ms resolution (Date.now() has whole ms); same clock as tcpdump's stamps. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

// ─── nodes ──────────────────────────────────────────────────────────────────────────────

/** One VRRP node: the agent (one process) or keepalived (parent + VRRP child). */
export interface Node {
  readonly impl: Impl;
  readonly host: Host;
  /** The agent, or keepalived's parent: its output carries "(VI_n) Entering … STATE". */
  readonly proc: Proc;
  /** Every process of the node: [agent] or [parent, VRRP child]. */
  readonly pids: readonly number[];
  /** kill -9 (keepalived: the VRRP child, then the parent, which cannot respawn it). */
  crash(): Promise<void>;
  /** SIGTERM: a priority-0 advert, then exit. */
  term(): Promise<void>;
}

let seq = 0;

/**
 * Starts `impl` in `host` with `conf` (keepalived syntax; both read it). The agent runs at
 * its default log level (info), as an operator would run it, unlike Lab.agent's debug.
 */
export async function startNode(lab: Lab, impl: Impl, host: Host, conf: string): Promise<Node> {
  if (impl === "keepalived") {
    const ka = await lab.keepalived(host, conf);
    return {
      impl,
      host,
      proc: ka.proc,
      pids: [ka.proc.pid, ka.childPid],
      crash: () => ka.crash(),
      term: async () => {
        await ka.stop();
      },
    };
  }
  const name = `${host.name}-bench-agent-${seq++}`;
  const path = `${lab.dir}/${name}.conf`;
  writeFileSync(path, conf);
  const proc = lab.spawn(name, host, [
    AGENT,
    ...["run", "--config", path, "--control", `${lab.dir}/${name}.sock`],
  ]);
  return {
    impl,
    host,
    proc,
    pids: [proc.pid],
    crash: () => proc.kill9(),
    term: async () => {
      await proc.stop("SIGTERM", 8000);
    },
  };
}

/** `n` instances VI_v (VRIDs first…first+n−1); one VIP each unless `vips` is given for n = 1. */
export function multiConf(
  o: Omit<VrrpOpts, "vips" | "name" | "vrid"> & { readonly vips?: readonly string[] },
  n: number,
  first: number,
  routerId: string,
): string {
  const parts: string[] = [];
  for (let k = 0; k < n; k++) {
    const vrid = first + k;
    const vips = n === 1 && o.vips ? o.vips : [`198.51.100.${vrid}/24`];
    const text = vrrpConf({ ...o, name: `VI_${vrid}`, vrid, vips }, routerId);
    // Keep global_defs (its first four lines) once.
    parts.push(k === 0 ? text : text.split("\n").slice(4).join("\n"));
  }
  return parts.join("");
}

// ─── CPU hogs ───────────────────────────────────────────────────────────────────────────

const hogPids = new Set<number>();

/** Starts `n` busy loops (`sh -c 'while :; do :; done'`); returns their PIDs. */
export function startHogs(n: number): number[] {
  const pids: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = Bun.spawn(["sh", "-c", "while :; do :; done"], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    hogPids.add(p.pid);
    pids.push(p.pid);
  }
  return pids;
}

/** Kills the hogs we started, by PID. */
export function stopHogs(pids: readonly number[] = [...hogPids]): void {
  for (const pid of pids) {
    if (hogPids.delete(pid) && pidAlive(pid)) process.kill(pid, "SIGKILL");
  }
}

// ─── /proc ──────────────────────────────────────────────────────────────────────────────

const CLK_TCK = 100;

/** utime + stime of the whole process (all threads, also those that exited), in ms. */
export function cpuTicksMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** On-CPU ns (schedstat) and name of each thread of `pid`, by TID. */
function threadCpu(pid: number): Map<number, { comm: string; ns: number }> {
  const out = new Map<number, { comm: string; ns: number }>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${t}/comm`, "utf8").trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
      out.set(Number(t), { comm, ns });
    } catch {
      // the thread exited meanwhile
    }
  }
  return out;
}

/**
 * On-CPU time of every thread of some processes over a window, in ns (schedstat), which
 * the 10 ms ticks of /proc/PID/stat cannot resolve. A runtime's threads come and go (JIT,
 * GC helpers), and an exited thread's schedstat is gone: sampling every `periodMs` bounds
 * what such a thread's time is missed by; a thread born in the window counts from 0.
 */
export class CpuTracker {
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, { pid: number; comm: string; ns: number }>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly pids: readonly number[],
    periodMs = 250,
  ) {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), periodMs);
  }

  private sample(initial: boolean): void {
    for (const pid of this.pids)
      for (const [tid, t] of threadCpu(pid)) {
        const key = `${pid}/${tid}`;
        if (!this.first.has(key)) this.first.set(key, initial ? t.ns : 0);
        this.last.set(key, { pid, comm: t.comm, ns: t.ns });
      }
  }

  /** Ends the window: ms per process, and per thread ("TID comm", busiest first). */
  stop(): { byPid: Map<number, number>; byThread: Record<string, number> } {
    clearInterval(this.timer);
    this.sample(false);
    const byPid = new Map<number, number>();
    const threads: [string, number][] = [];
    for (const [key, t] of this.last) {
      const ms = (t.ns - (this.first.get(key) ?? 0)) / 1e6;
      byPid.set(t.pid, (byPid.get(t.pid) ?? 0) + ms);
      threads.push([`${key.split("/")[1]} ${t.comm}`, Math.round(ms * 100) / 100]);
    }
    return { byPid, byThread: Object.fromEntries(threads.sort((x, y) => y[1] - x[1])) };
  }
}

export interface Memory {
  readonly rssKb: number;
  readonly pssKb: number;
  readonly threads: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (re: RegExp, s: string) => Number(re.exec(s)?.[1] ?? Number.NaN);
  return {
    rssKb: kb(/^VmRSS:\s+(\d+)/m, status),
    pssKb: kb(/^Pss:\s+(\d+)/m, rollup),
    threads: kb(/^Threads:\s+(\d+)/m, status),
  };
}

// ─── statistics ─────────────────────────────────────────────────────────────────────────

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly p99: number;
  readonly mean: number;
}

const r2 = (x: number): number => Math.round(x * 1000) / 1000;

/** Nearest-rank percentile of sorted `xs` (p in 0…100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k] as number;
}

export function summarize(xs: readonly number[]): Summary {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = s.length;
  const median =
    n === 0
      ? Number.NaN
      : n % 2
        ? (s[(n - 1) / 2] as number)
        : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
  return {
    n,
    median: r2(median),
    min: r2(s[0] ?? Number.NaN),
    max: r2(s[n - 1] ?? Number.NaN),
    p99: r2(percentile(s, 99)),
    mean: r2(n ? s.reduce((a, b) => a + b, 0) / n : Number.NaN),
  };
}

export const ratio = (a: number, b: number): number | null =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? Math.round((a / b) * 1000) / 1000 : null;

/** A seeded PRNG (mulberry32), so a run's random phases can be replayed with BENCH_SEED. */
export { mulberry32 as prng } from "../../src/core/prng.ts";

export const envNumber = (name: string, fallback: number): number => {
  const v = process.env[name];
  const n = v === undefined || v === "" ? fallback : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};

// ─── output and lifetime ────────────────────────────────────────────────────────────────

export const RESULTS = resolve(import.meta.dir, "../results");

/** What was measured: the agent binary (its version line and build time) and keepalived. */
export function versions(): Record<string, string> {
  const out = (cmd: string[]) => {
    const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return (r.stdout.toString() || r.stderr.toString()).split("\n")[0] ?? "";
  };
  return {
    agent: out([AGENT, "version"]),
    agent_binary_mtime: statSync(AGENT).mtime.toISOString(),
    keepalived: out(["keepalived", "--version"]),
  };
}

/** Writes bench/results/NAME.json, with the versions measured (the binary may be rebuilt meanwhile). */
export function writeResult(name: string, result: object, startVersions?: object): string {
  mkdirSync(RESULTS, { recursive: true });
  const path = `${RESULTS}/${name}.json`;
  const v = { versions_at_start: startVersions ?? null, versions_at_end: versions() };
  writeFileSync(path, `${JSON.stringify({ ...result, ...v }, null, 2)}\n`);
  return path;
}

export const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

/** Left-aligned text table. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows)
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")).join("\n");
}

export const fmt = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(digits);

/** The versions withLab found when the benchmark started. */
export let startVersions: Record<string, string> | undefined;

/**
 * Builds the agent if needed, creates a lab of `hosts` hosts, runs `body`, and always
 * stops the hogs and destroys the lab (also on SIGINT/SIGTERM). Exits 1 on failure.
 */
export async function withLab(
  tag: string,
  hosts: number,
  body: (lab: Lab) => Promise<void>,
): Promise<void> {
  const why = labMissing(["tcpdump", "keepalived"]);
  if (why) {
    log(`bench ${tag}: cannot run: ${why}`);
    process.exit(2);
  }
  ensureAgentBinary();
  startVersions = versions();
  log(
    `bench ${tag}: ${startVersions.agent} (built ${startVersions.agent_binary_mtime}); ${startVersions.keepalived}`,
  );
  let lab: Lab | undefined;
  const cleanup = async () => {
    stopHogs();
    await lab?.destroy().catch((e: unknown) => log(`cleanup: ${String(e)}`));
    lab = undefined;
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.on(sig, () => {
      log(`bench ${tag}: ${sig}, cleaning up`);
      void cleanup().then(() => process.exit(130));
    });
  let failed = false;
  try {
    lab = await Lab.create(tag, hosts);
    await body(lab);
  } catch (e) {
    failed = true;
    log(`bench ${tag} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    await cleanup();
  }
  process.exit(failed ? 1 : 0);
}
