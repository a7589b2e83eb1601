/**
 * Benchmark: what track_process costs the agent — the CPU of a process running
 * ProcessWatcher (src/io/process-watch.ts) over BENCH_SECONDS (default 60), following
 * processes (a) through the proc connector and (b) by the fallback /proc scan every 1 s,
 * first with the machine's normal process count, then while another process starts
 * BENCH_FORK_RATE (default 100) short processes (/bin/true) per second. A Bun process with
 * no watcher gives the runtime's own idle floor.
 *
 * The watcher tracks three processes the way a typical config does: `nginx` and `sshd` by
 * name, and `haproxy -f /etc/haproxy/haproxy.cfg` by command line (so every exec'd process
 * has its cmdline read too). CPU = Σ threads' schedstat on-CPU ns over the window
 * (bench/lib/common.ts CpuTracker). Needs root (the connector needs CAP_NET_ADMIN).
 * Writes bench/results/track-process.json.
 *
 *   bun bench/track-process.ts            run everything
 *   bun bench/track-process.ts child MODE (internal) the measured process
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { compileMatcher } from "../src/core/track/process-match.ts";
import { ProcessWatcher } from "../src/io/process-watch.ts";
import { CpuTracker, envNumber, fmt, log, RESULTS, table } from "./lib/common.ts";

const WINDOW_S = envNumber("BENCH_SECONDS", 60);
const FORK_RATE = envNumber("BENCH_FORK_RATE", 100);
/** The connector Worker's batching window (ProcessWatcherOptions.batchMs); default if unset. */
const BATCH_MS = process.env.BENCH_BATCH_MS ? envNumber("BENCH_BATCH_MS", 20) : undefined;
const SETTLE_MS = 2000;
const BOUND_MS = 15_000;

type Mode = "none" | "connector" | "scan";

// ─── the measured process ───────────────────────────────────────────────────────────────

async function child(mode: Mode): Promise<void> {
  let reports = 0;
  const trackers = [
    { name: "nginx", match: compileMatcher({ process: ["nginx"] }) },
    { name: "sshd", match: compileMatcher({ process: ["sshd"] }) },
    {
      name: "haproxy",
      match: compileMatcher({ process: ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg"] }),
    },
  ];
  const quiet = { info: log, warn: log, debug: () => {} };
  const w =
    mode === "none"
      ? undefined
      : new ProcessWatcher(trackers, () => reports++, quiet, {
          mode,
          scanIntervalMs: 1000,
          ...(BATCH_MS ? { batchMs: BATCH_MS } : {}),
        });
  await w?.start();
  process.stdout.write(`ready ${w?.mode ?? "none"}\n`);
  // Each line from the parent asks for the counters; end of input stops.
  for await (const _ of Bun.stdin.stream())
    process.stdout.write(`${JSON.stringify({ reports, ...w?.stats })}\n`);
  await w?.stop();
}

// ─── the load ───────────────────────────────────────────────────────────────────────────

/** Starts FORK_RATE /bin/true per second from this (unmeasured) process. */
function forker(): { stop: () => number } {
  let n = 0;
  const perTick = Math.max(1, Math.round(FORK_RATE / 100));
  const timer = setInterval(
    () => {
      for (let i = 0; i < perTick; i++) {
        Bun.spawn(["/bin/true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
        n++;
      }
    },
    1000 / (FORK_RATE / perTick),
  );
  return {
    stop: () => {
      clearInterval(timer);
      return n;
    },
  };
}

// ─── the runner ─────────────────────────────────────────────────────────────────────────

interface Row {
  readonly events_per_s: number | null;
  readonly batches_per_s: number | null;
  readonly proc_reads_per_s: number | null;
  readonly scans: number | null;
  readonly overruns: number | null;
  readonly mode: Mode;
  readonly load: "idle" | "forks";
  readonly cpu_ms: number;
  readonly cpu_percent: number;
  readonly forks_per_s: number | null;
  readonly processes: number;
  readonly threads: Record<string, number>;
}

const processCount = () => readdirSync("/proc").filter((n) => /^[0-9]+$/.test(n)).length;

async function measure(mode: Mode, load: "idle" | "forks"): Promise<Row> {
  const p = Bun.spawn([process.execPath, import.meta.path, "child", mode], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = p.stdout.getReader();
  let buffered = "";
  const line = async (): Promise<string> => {
    const deadline = performance.now() + BOUND_MS;
    while (!buffered.includes("\n")) {
      if (performance.now() > deadline) throw new Error(`child ${mode}: no answer`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`child ${mode} exited: ${buffered}`);
      buffered += new TextDecoder().decode(value);
    }
    const i = buffered.indexOf("\n");
    const l = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    return l;
  };
  const stats = async (): Promise<Record<string, number>> => {
    p.stdin.write("stats\n");
    p.stdin.flush();
    return JSON.parse(await line()) as Record<string, number>;
  };
  const ready = await line();
  if (ready !== `ready ${mode}`) throw new Error(`child ${mode}: ${ready}`);
  try {
    await Bun.sleep(SETTLE_MS); // let start-up work (JIT, the first scan) finish
    const load$ = load === "forks" ? forker() : undefined;
    const before = await stats();
    const t0 = performance.now();
    const cpu = new CpuTracker([p.pid]);
    const processes = processCount();
    await Bun.sleep(WINDOW_S * 1000);
    const { byPid, byThread } = cpu.stop();
    const seconds = (performance.now() - t0) / 1000;
    const after = await stats();
    const forks = load$?.stop();
    const ms = byPid.get(p.pid) ?? 0;
    const rate = (k: string) =>
      after[k] === undefined
        ? null
        : Math.round(((after[k] - (before[k] ?? 0)) / seconds) * 10) / 10;
    return {
      events_per_s: rate("events"),
      batches_per_s: rate("batches"),
      proc_reads_per_s: rate("procReads"),
      scans: after.scans === undefined ? null : after.scans - (before.scans ?? 0),
      overruns: after.overruns ?? null,
      mode,
      load,
      cpu_ms: Math.round(ms * 10) / 10,
      cpu_percent: Math.round((ms / (seconds * 1000)) * 100 * 1000) / 1000,
      forks_per_s: forks === undefined ? null : Math.round((forks / seconds) * 10) / 10,
      processes,
      threads: byThread,
    };
  } finally {
    p.stdin.end();
    const exited = await Promise.race([p.exited, Bun.sleep(BOUND_MS).then(() => "timeout")]);
    if (exited === "timeout") p.kill("SIGKILL");
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    log("bench track-process: needs root (proc connector: CAP_NET_ADMIN)");
    process.exit(2);
  }
  const plan: [Mode, "idle" | "forks"][] = [
    ["none", "idle"],
    ["connector", "idle"],
    ["scan", "idle"],
    ["connector", "forks"],
    ["scan", "forks"],
  ];
  const rows: Row[] = [];
  for (const [mode, load] of plan) {
    log(`bench track-process: ${mode}, ${load}, ${WINDOW_S} s`);
    rows.push(await measure(mode, load));
  }
  const text = table([
    [
      "watcher",
      "load",
      `CPU ms / ${WINDOW_S} s`,
      "CPU %",
      "forks/s",
      "events/s",
      "batches/s",
      "/proc reads/s",
      "processes",
    ],
    ...rows.map((r) => [
      r.mode,
      r.load,
      fmt(r.cpu_ms),
      fmt(r.cpu_percent, 3),
      fmt(r.forks_per_s),
      fmt(r.events_per_s),
      fmt(r.batches_per_s),
      fmt(r.proc_reads_per_s),
      String(r.processes),
    ]),
  ]);
  process.stdout.write(`${text}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const path = `${RESULTS}/track-process.json`;
  const result = {
    bench: "track-process",
    date: new Date().toISOString(),
    window_s: WINDOW_S,
    fork_rate: FORK_RATE,
    batch_ms: BATCH_MS ?? "default",
    bun: Bun.version,
    method:
      "CPU = Σ threads' schedstat on-CPU ns of the watcher process over the window; " +
      "trackers: nginx, sshd (by name), haproxy -f … (by command line); scan period 1000 ms",
    rows,
  };
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  log(`bench track-process: wrote ${path}`);
}

if (process.argv[2] === "child") await child((process.argv[3] ?? "none") as Mode);
else await main();
