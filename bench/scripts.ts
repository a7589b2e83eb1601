/**
 * Benchmark: 200 vrrp_scripts at interval 1 s, the agent beside keepalived 2.2.7 in the
 * same run (one after the other, same config, same script).
 *
 * One host h1, VRRPv2, advert_int 1, state MASTER priority 150, VIP 192.0.2.100/24, no
 * peer, plus BENCH_SCRIPT_COUNT (default 200) `vrrp_script sN` blocks (interval 1, timeout
 * 1, weight −1), all in the instance's track_script. Weight −1, not 0: a failed or
 * timed-out run then lowers the priority (visible in the log) instead of sending the
 * instance to FAULT, and with no peer a lower priority cannot take MASTER away; every run
 * succeeds anyway, so the priority stays 150. Each script is the same bash file, given the
 * path of its own record file: it appends `$EPOCHREALTIME` (CLOCK_REALTIME, µs; a bash
 * variable, so no fork) to it. So a start's stamp is taken after exec and bash's start-up
 * (~1 ms, the same for both daemons).
 * Once the VIP is up and BENCH_SCRIPT_WARMUP_SECONDS (default 10) have passed (GARP burst
 * after 5 s, the scripts' first runs), over BENCH_SCRIPT_SECONDS (default 60):
 *   CPU  of the daemon only — keepalived's parent + VRRP child, the agent's one process:
 *        the on-CPU ns of each of their threads (/proc/PID/task/T/schedstat, sampled every
 *        250 ms) and utime+stime (/proc/PID/stat). A script is another process, with its
 *        own /proc/PID/task, so neither figure contains its time; it reaches the daemon
 *        only as cutime/cstime when reaped, which is reported apart ("scripts' CPU") and
 *        never added. What the daemon spends to fork/spawn, reap and schedule is its own.
 *   lateness  per script, successive-start error: (t_i − t_{i−1}) − 1000 ms, both starts in
 *        the window. Both daemons re-arm a script's timer `interval` after it fired, so a
 *        run's delay shifts the next one's schedule: the gap is what counts, and the mean
 *        error is the drift per run. Also per 10 s slice (does it grow?). Note "after it
 *        fired": keepalived reads the clock again for each script, just before its fork
 *        (vrrp_script_thread → thread_add_timer → set_time_now, lib/scheduler.c); the agent
 *        re-arms every script due in one loop turn from that turn's one clock read
 *        (agent/trackers.ts onTimer → core/track/script-run.ts runTimer).
 *   spread  the starts of the 200 scripts bunch into one cluster a second (all first runs
 *        are due at once and keep the same interval); clusters are cut at gaps > 500 ms,
 *        and each complete one's max − min start is its spread.
 *   runs  starts seen / window × count; missed runs (a gap of ~k s misses k − 1);
 *        "skipping run", "timed out" and failure lines in the daemon's log.
 *   memory  VmRSS and Pss at the end; MASTER throughout: no "Entering" line other than
 *        MASTER and no deletion of the VIP from the first MASTER on, VIP still there.
 * BENCH_SCRIPT_KEEP=DIR copies the raw start files there (one epoch-seconds line per run).
 * Writes bench/results/scripts.json.
 */
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type Lab, vrrpConf } from "../test/helpers/lab.ts";
import {
  CpuTracker,
  cpuTicksMs,
  envNumber,
  fmt,
  IMPLS,
  type Impl,
  log,
  memory,
  type Node,
  ratio,
  type Summary,
  startNode,
  startVersions,
  summarize,
  table,
  withLab,
  writeResult,
} from "./lib/common.ts";

const COUNT = envNumber("BENCH_SCRIPT_COUNT", 200);
const WINDOW_S = envNumber("BENCH_SCRIPT_SECONDS", 60);
const WARMUP_S = envNumber("BENCH_SCRIPT_WARMUP_SECONDS", 10);
const INTERVAL_MS = 1000;
const WEIGHT = -1;
const SLICE_S = 10;
const VIP = "192.0.2.100";
const BOUND_MS = 30_000;
/** If set, a directory the raw start files are copied to (for a closer look). */
const KEEP = process.env.BENCH_SCRIPT_KEEP;
const NAMES = Array.from({ length: COUNT }, (_, i) => `s${i + 1}`);

/** The one script every vrrp_script runs: its start time appended to the file in $1. */
const RECORDER = `#!/bin/bash
# A vrrp_script run records when it started: CLOCK_REALTIME in µs, without a fork.
printf '%s\\n' "$EPOCHREALTIME" >>"$1"
`;

function config(recorder: string, outDir: string): string {
  const base = vrrpConf(
    { version: 2, advertInt: 1, state: "MASTER", priority: 150, vips: [`${VIP}/24`] },
    "h1",
  ).split("\n");
  const scripts = NAMES.map((n) =>
    [
      `vrrp_script ${n} {`,
      `    script "${recorder} ${outDir}/${n}"`,
      "    interval 1",
      "    timeout 1",
      `    weight ${WEIGHT}`,
      "}",
    ].join("\n"),
  );
  const track = ["    track_script {", ...NAMES.map((n) => `        ${n}`), "    }"];
  const vipAt = base.indexOf("    virtual_ipaddress {");
  // vrrpConf: global_defs is its first four lines; script_user spares both a lookup of
  // the absent keepalived_script user (and its warning).
  return [
    ...base.slice(0, 3),
    "    script_user root",
    base[3] as string,
    ...scripts,
    ...base.slice(4, vipAt),
    ...track,
    ...base.slice(vipAt),
  ].join("\n");
}

/** Start times (epoch ms) one script recorded; bash prints the locale's decimal mark. */
function starts(file: string): number[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => Number(l.replace(",", ".")) * 1000);
}

/** cutime + cstime: the CPU of reaped children (the scripts), in ms. */
function childTicksMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
}

interface Lateness {
  readonly starts: number;
  readonly expectedStarts: number;
  readonly scriptsWithoutStart: number;
  /** (t_i − t_{i−1}) − interval over every script, ms. */
  readonly intervalError: Summary;
  /** The same per SLICE_S slice of the window (by t_i): does it grow? */
  readonly intervalErrorBySlice: readonly Summary[];
  readonly missedRuns: number;
  readonly gapsOver1_5s: number;
  /** max − min start of each complete once-a-second cluster, ms. */
  readonly spread: Summary;
  readonly clusters: number;
  readonly incompleteClusters: number;
}

function lateness(all: readonly (readonly number[])[], t0: number, t1: number): Lateness {
  const inWin = (t: number) => t >= t0 && t < t1;
  const errs: { t: number; e: number }[] = [];
  let missed = 0;
  let over = 0;
  for (const ts of all)
    for (let i = 1; i < ts.length; i++) {
      const [a, b] = [ts[i - 1] as number, ts[i] as number];
      if (!inWin(a) || !inWin(b)) continue;
      errs.push({ t: b, e: b - a - INTERVAL_MS });
      missed += Math.max(0, Math.round((b - a) / INTERVAL_MS) - 1);
      if (b - a > 1.5 * INTERVAL_MS) over++;
    }
  const slices = Array.from({ length: Math.ceil(WINDOW_S / SLICE_S) }, (_, k) =>
    summarize(
      errs
        .filter((x) => x.t >= t0 + k * SLICE_S * 1000 && x.t < t0 + (k + 1) * SLICE_S * 1000)
        .map((x) => x.e),
    ),
  );
  // Once-a-second clusters over the whole run; only those wholly inside the window count.
  const sorted = all.flat().sort((a, b) => a - b);
  const clusters: number[][] = [];
  for (const t of sorted) {
    const c = clusters.at(-1);
    if (c && t - (c.at(-1) as number) <= INTERVAL_MS / 2) c.push(t);
    else clusters.push([t]);
  }
  const inside = clusters.filter((c) => inWin(c[0] as number) && inWin(c.at(-1) as number));
  return {
    starts: sorted.filter(inWin).length,
    expectedStarts: Math.round(((t1 - t0) / INTERVAL_MS) * COUNT),
    scriptsWithoutStart: all.filter((ts) => !ts.some(inWin)).length,
    intervalError: summarize(errs.map((x) => x.e)),
    intervalErrorBySlice: slices,
    missedRuns: missed,
    gapsOver1_5s: over,
    spread: summarize(inside.map((c) => (c.at(-1) as number) - (c[0] as number))),
    clusters: inside.length,
    incompleteClusters: inside.filter((c) => c.length !== COUNT).length,
  };
}

interface Run {
  readonly impl: Impl;
  readonly pids: readonly number[];
  readonly windowS: number;
  /** Daemon on-CPU ms over the window, all threads (schedstat). */
  readonly cpuMs: number;
  /** Daemon utime+stime over the window, ms (10 ms ticks). */
  readonly cpuTicksMs: number;
  readonly percentOfCore: number;
  /** The scripts' own CPU (cutime+cstime of the reaping process): not in cpuMs. */
  readonly scriptsCpuMs: number;
  readonly cpuUsPerStart: number;
  readonly perThreadMs: Record<string, number>;
  readonly rssKb: number;
  readonly pssKb: number;
  readonly threads: number;
  readonly lateness: Lateness;
  readonly log: {
    readonly skipping: number;
    readonly timedOut: number;
    readonly failures: number;
    readonly priorityChanges: number;
  };
  readonly stayedMaster: boolean;
  readonly transitions: readonly string[];
  /** Up to 30 daemon lines of the window (warnings, say). */
  readonly windowLog: readonly string[];
}

/** What the daemon did over the window: CPU, memory at its end, and its log lines. */
async function observe(node: Node) {
  const winLine = node.proc.lines.mark;
  const tracker = new CpuTracker(node.pids);
  const ticks0 = node.pids.map(cpuTicksMs);
  const child0 = node.pids.map(childTicksMs);
  const t0 = Date.now();
  await Bun.sleep(WINDOW_S * 1000);
  const t1 = Date.now();
  const { byPid, byThread } = tracker.stop();
  const delta = (f: (pid: number) => number, from: number[]) =>
    node.pids.reduce((a, pid, j) => a + f(pid) - (from[j] ?? 0), 0);
  const mem = node.pids.map(memory);
  const sum = (f: (m: (typeof mem)[number]) => number) => mem.reduce((a, m) => a + f(m), 0);
  const cpuMs = Math.round([...byPid.values()].reduce((a, b) => a + b, 0) * 100) / 100;
  return {
    t0,
    t1,
    cpuMs,
    cpuTicksMs: delta(cpuTicksMs, ticks0),
    scriptsCpuMs: delta(childTicksMs, child0),
    perThreadMs: byThread,
    rssKb: sum((m) => m.rssKb),
    pssKb: sum((m) => m.pssKb),
    threads: sum((m) => m.threads),
    lines: node.proc.lines.items.slice(winLine).map((l) => l.text),
  };
}

async function measure(lab: Lab, impl: Impl): Promise<Run> {
  const h1 = lab.h(1);
  log(`== ${impl}: ${COUNT} vrrp_scripts, ${WARMUP_S} s warm-up, ${WINDOW_S} s window`);
  await lab.reset();
  const recorder = `${lab.dir}/record-start.sh`;
  writeFileSync(recorder, RECORDER);
  chmodSync(recorder, 0o755);
  const outDir = `${lab.dir}/starts-${impl}`;
  mkdirSync(outDir, { recursive: true });
  const m1 = await lab.monitor(h1);
  const node = await startNode(lab, impl, h1, config(recorder, outDir));
  const master = await node.proc.waitLine(/\(VI_1\) Entering MASTER STATE/, BOUND_MS);
  const fromLine = node.proc.lines.items.indexOf(master) + 1;
  await m1.added(VIP, BOUND_MS);
  const fromAddr = m1.events.mark;
  await Bun.sleep(WARMUP_S * 1000);
  const { t0, t1, lines, ...o } = await observe(node);
  const vipHeld = lab.hasAddr(h1, VIP);
  const transitions = [
    ...node.proc.lines.items
      .slice(fromLine)
      .map((l) => l.text)
      .filter((l) => /Entering (?!MASTER)\w+ STATE/.test(l)),
    ...m1.events
      .filter((e) => e.deleted && e.address.startsWith(`${VIP}/`), fromAddr)
      .map((e) => `${VIP} deleted at ${new Date(e.t).toISOString()}`),
  ];
  await node.term();
  if (KEEP) cpSync(outDir, `${KEEP}/${impl}`, { recursive: true });
  const late = lateness(
    NAMES.map((n) => starts(`${outDir}/${n}`)),
    t0,
    t1,
  );
  const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
  const run: Run = {
    impl,
    pids: node.pids,
    windowS: (t1 - t0) / 1000,
    ...o,
    percentOfCore: Math.round((o.cpuMs / (t1 - t0)) * 1e6) / 1e4,
    cpuUsPerStart: Math.round((o.cpuMs * 1000) / Math.max(1, late.starts)),
    lateness: late,
    log: {
      skipping: count(/skipping run/),
      timedOut: count(/timed out/i),
      failures: count(/returning failure|failed/i),
      priorityChanges: count(/Changing effective priority/),
    },
    stayedMaster: transitions.length === 0 && vipHeld,
    transitions,
    windowLog: lines.slice(0, 30),
  };
  const e = late.intervalError;
  log(
    `   CPU ${fmt(run.cpuMs, 1)} ms (scripts ${run.scriptsCpuMs} ms apart), RSS ${fmt(run.rssKb / 1024)} MB; ` +
      `${late.starts}/${late.expectedStarts} starts, missed ${late.missedRuns}; ` +
      `interval error p50 ${fmt(e.median, 3)} p99 ${fmt(e.p99, 3)} max ${fmt(e.max, 3)} ms; ` +
      `spread p50 ${fmt(late.spread.median, 1)} max ${fmt(late.spread.max, 1)} ms; MASTER throughout: ${run.stayedMaster}`,
  );
  return run;
}

const dist = (s: Summary) => `${fmt(s.median, 3)} / ${fmt(s.p99, 3)} / ${fmt(s.max, 3)}`;

/** The table: a label, how to show a run's value, and the number the ratio compares. */
const ROWS: readonly (readonly [string, (r: Run) => string, ((r: Run) => number)?])[] = [
  [`daemon CPU ms / ${WINDOW_S} s (schedstat)`, (r) => fmt(r.cpuMs, 1), (r) => r.cpuMs],
  ["daemon CPU % of a core", (r) => fmt(r.percentOfCore, 2)],
  ["daemon CPU ms, utime+stime ticks", (r) => fmt(r.cpuTicksMs, 0), (r) => r.cpuTicksMs],
  ["daemon CPU µs per script start", (r) => String(r.cpuUsPerStart), (r) => r.cpuUsPerStart],
  [
    "scripts' CPU ms (cutime+cstime, not above)",
    (r) => fmt(r.scriptsCpuMs, 0),
    (r) => r.scriptsCpuMs,
  ],
  [
    "interval error p50/p99/max ms",
    (r) => dist(r.lateness.intervalError),
    (r) => r.lateness.intervalError.p99,
  ],
  [
    "interval error mean ms (drift/run)",
    (r) => fmt(r.lateness.intervalError.mean, 3),
    (r) => r.lateness.intervalError.mean,
  ],
  [
    `interval error p99 per ${SLICE_S} s`,
    (r) => r.lateness.intervalErrorBySlice.map((s) => fmt(s.p99, 1)).join(" "),
  ],
  [
    "spread of a second's starts p50/p99/max ms",
    (r) => dist(r.lateness.spread),
    (r) => r.lateness.spread.median,
  ],
  [
    "complete clusters (incomplete)",
    (r) => `${r.lateness.clusters} (${r.lateness.incompleteClusters})`,
  ],
  ["starts seen / window × count", (r) => `${r.lateness.starts} / ${r.lateness.expectedStarts}`],
  ["missed runs (gaps > 1.5 s)", (r) => `${r.lateness.missedRuns} (${r.lateness.gapsOver1_5s})`],
  [
    "log: skipping / timed out / failed",
    (r) => `${r.log.skipping} / ${r.log.timedOut} / ${r.log.failures}`,
  ],
  ["RSS MB at end", (r) => fmt(r.rssKb / 1024), (r) => r.rssKb],
  ["PSS MB at end", (r) => fmt(r.pssKb / 1024), (r) => r.pssKb],
  ["threads", (r) => String(r.threads)],
  ["MASTER throughout", (r) => (r.stayedMaster ? "yes" : "NO")],
];

function report(a: Run, k: Run): string[][] {
  return [
    ["metric", "agent", "keepalived", "ratio a/k"],
    ...ROWS.map(([label, show, num]) => [
      label,
      show(a),
      show(k),
      num ? fmt(ratio(num(a), num(k)), 2) : "",
    ]),
  ];
}

await withLab("bscr", 1, async (lab) => {
  const all: Run[] = [];
  for (const impl of IMPLS) all.push(await measure(lab, impl));
  const [a, k] = [all.find((r) => r.impl === "agent"), all.find((r) => r.impl === "keepalived")];
  if (!a || !k) throw new Error("a run is missing");
  const both = (name: string, f: (r: Run) => number | boolean) => ({
    [`agent_${name}`]: f(a),
    [`keepalived_${name}`]: f(k),
  });
  const path = writeResult(
    "scripts",
    {
      bench: "scripts",
      date: new Date().toISOString(),
      window_s: WINDOW_S,
      warmup_s: WARMUP_S,
      scripts: COUNT,
      weight: WEIGHT,
      method:
        "VRRPv2 advert_int 1, one MASTER, no peer; N vrrp_scripts (interval 1, timeout 1, weight −1) run one bash file that appends $EPOCHREALTIME to its own file; daemon CPU = Σ its threads' schedstat (scripts are other processes; their CPU is reported apart, from cutime+cstime); interval error = (t_i − t_{i−1}) − 1000 ms per script; spread = max − min of each once-a-second cluster",
      comparison: {
        ...both("cpu_ms", (r) => r.cpuMs),
        ratio_cpu: ratio(a.cpuMs, k.cpuMs),
        ...both("interval_error_p99_ms", (r) => r.lateness.intervalError.p99),
        ratio_interval_error_p99: ratio(a.lateness.intervalError.p99, k.lateness.intervalError.p99),
        ...both("interval_error_max_ms", (r) => r.lateness.intervalError.max),
        ...both("spread_median_ms", (r) => r.lateness.spread.median),
        ...both("missed_runs", (r) => r.lateness.missedRuns),
        ...both("rss_kb", (r) => r.rssKb),
        ratio_rss: ratio(a.rssKb, k.rssKb),
        ...both("stayed_master", (r) => r.stayedMaster),
      },
      runs: all,
    },
    startVersions,
  );
  process.stdout.write(`${table(report(a, k))}\n\nresults in ${path}\n`);
});
