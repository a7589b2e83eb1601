/**
 * Benchmark: how late a MASTER sends its adverts, and false failovers under CPU load, the
 * agent beside keepalived 2.2.7 in the same run (one cluster after the other).
 *
 * Two hosts, VRRPv3: h1 MASTER priority 150, h2 BACKUP priority 100, VIP 192.0.2.100/24.
 * After the election settles, h1's adverts are captured on the bridge (tcpdump, kernel
 * timestamps, decoded afterwards) for a window:
 *   idle  advert_int 0.1 s for BENCH_LATENESS_SECONDS (default 60);
 *   load  advert_int 0.05 s for BENCH_LOAD_SECONDS (default 300) with BENCH_HOGS (default
 *         2: both cores) busy loops started when the window opens and killed by PID when it
 *         closes; the same for each implementation.
 * Lateness, primary figure: successive-interval error, gap_i − interval (gap_i = t_i −
 * t_{i−1}). Why: keepalived re-arms its advert timer from the time it sent (its schedule
 * drifts by its own latency every interval), so t_i − (t_0 + i × interval) would charge it
 * accumulated drift that no receiver sees, while the backup restarts its Master_Down timer
 * on each advert: the gap is what makes (three intervals of it) a false failover. The
 * anchored lateness t_i − (t_0 + i × interval) is reported too; it is the true send
 * lateness for a drift-free scheduler (the agent's: next due = previous due + interval),
 * and for keepalived it grows with its drift (also reported, per advert).
 * False failovers: h2 entering MASTER during the window (its log), h2's adverts on the
 * wire, and the VIP appearing on h2 (ip monitor).
 * Writes bench/results/lateness.json.
 */
import { type Lab, masterDownMs, vrrpConf } from "../test/helpers/lab.ts";
import {
  cpuTicksMs,
  envNumber,
  fmt,
  IMPLS,
  type Impl,
  log,
  nowMs,
  percentile,
  ratio,
  startHogs,
  startNode,
  startVersions,
  stopHogs,
  table,
  withLab,
  writeResult,
} from "./lib/common.ts";
import { isAdvert, PcapCapture } from "./lib/wire.ts";

const VIP = "192.0.2.100";
const BOUND_MS = 15_000;

interface Phase {
  readonly name: "idle" | "load";
  readonly advertInt: number;
  readonly seconds: number;
  readonly hogs: number;
}
const PHASES: readonly Phase[] = [
  { name: "idle", advertInt: 0.1, seconds: envNumber("BENCH_LATENESS_SECONDS", 60), hogs: 0 },
  {
    name: "load",
    advertInt: 0.05,
    seconds: envNumber("BENCH_LOAD_SECONDS", 300),
    hogs: envNumber("BENCH_HOGS", 2),
  },
];

interface Dist {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly min: number;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
function dist(xs: readonly number[]): Dist {
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: round3(percentile(s, 50)),
    p99: round3(percentile(s, 99)),
    max: round3(s.at(-1) ?? Number.NaN),
    min: round3(s[0] ?? Number.NaN),
  };
}

/** Least-squares slope of ys against their index. */
function lsSlope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return Number.NaN;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, i) => {
    num += (i - mx) * (y - my);
    den += (i - mx) ** 2;
  });
  return num / den;
}

interface Window {
  readonly impl: Impl;
  readonly phase: Phase["name"];
  readonly advertIntMs: number;
  readonly seconds: number;
  readonly hogs: number;
  readonly adverts: number;
  readonly expectedAdverts: number;
  /** gap − interval, ms. */
  readonly intervalError: Dist;
  /** t_i − (φ + i × interval), ms, φ the phase of the least late advert. */
  readonly anchoredLateness: Dist;
  /** Least-squares slope of t_i − i × interval: how far the schedule slips per advert, µs. */
  readonly driftUsPerAdvert: number;
  readonly gapsOver1_5x: number;
  readonly gapsOver2x: number;
  readonly maxGapMs: number;
  readonly masterDownMs: number;
  /** The five longest gaps: seconds into the window, and their length. */
  readonly worstGaps: readonly { readonly atS: number; readonly gapMs: number }[];
  readonly falseFailovers: {
    readonly backupEnteredMaster: number;
    readonly backupAdverts: number;
    readonly vipAddedOnBackup: number;
    readonly masterLeftMaster: number;
  };
  /** CPU used over the window (utime+stime, all threads), ms. */
  readonly cpuMs: { readonly master: number; readonly backup: number };
  readonly captureDropped: number | undefined;
  /** What the master logged during the window (warnings, say). */
  readonly masterLog: readonly string[];
}

async function window(lab: Lab, impl: Impl, ph: Phase): Promise<Window> {
  const [h1, h2] = [lab.h(1), lab.h(2)];
  const T = ph.advertInt * 1000;
  log(`== ${impl} ${ph.name}: advert_int ${ph.advertInt} s, ${ph.seconds} s, ${ph.hogs} hog(s)`);
  await lab.reset();
  const cap = await PcapCapture.start(lab, `${impl}-${ph.name}`);
  const [m1, m2] = await Promise.all([lab.monitor(h1), lab.monitor(h2)]);
  const base = { version: 3, advertInt: ph.advertInt, vips: [`${VIP}/24`] } as const;
  const n2 = await startNode(lab, impl, h2, vrrpConf({ ...base, priority: 100 }, "h2"));
  const n1 = await startNode(
    lab,
    impl,
    h1,
    vrrpConf({ ...base, state: "MASTER", priority: 150 }, "h1"),
  );
  await m1.added(VIP, BOUND_MS);
  await n2.proc.waitLine(/\(VI_1\) Entering BACKUP STATE/, BOUND_MS);
  if (lab.hasAddr(h2, VIP)) await m2.deleted(VIP, BOUND_MS);
  await Bun.sleep(1000);
  const [l1, l2, mk2] = [n1.proc.lines.mark, n2.proc.lines.mark, m2.events.mark];
  const cpu0 = [...n1.pids, ...n2.pids].map(cpuTicksMs);
  const hogs = startHogs(ph.hogs);
  const tStart = nowMs();
  try {
    await Bun.sleep(ph.seconds * 1000);
  } finally {
    stopHogs(hogs);
  }
  const tEnd = nowMs();
  const cpu1 = [...n1.pids, ...n2.pids].map(cpuTicksMs);
  const used = cpu1.map((c, i) => c - (cpu0[i] ?? 0));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const k = n1.pids.length;
  const entered2 = n2.proc.lines.filter((l) => /Entering MASTER STATE/.test(l.text), l2);
  const left1 = n1.proc.lines.filter((l) => /Entering (BACKUP|FAULT) STATE/.test(l.text), l1);
  const masterLog = n1.proc.lines.items.slice(l1).map((l) => l.text);
  const vipOn2 = m2.events.filter((e) => !e.deleted && e.address.startsWith(`${VIP}/`), mk2);
  await Promise.all([n1.term(), n2.term()]);
  const frames = await cap.stop();

  const inWin = frames.filter((f) => f.t >= tStart && f.t <= tEnd);
  const ts = inWin.filter(isAdvert(h1.mac, 150)).map((f) => f.t);
  // Residuals against a drift-free schedule of period T; its phase is that of the least
  // late advert (anchoring at t_0 would charge every advert with t_0's own lateness).
  const resid = ts.map((t, i) => t - i * T);
  const phase = Math.min(...resid);
  const slope = lsSlope(resid);
  const gaps = ts.slice(1).map((t, i) => t - (ts[i] as number));
  const worst = gaps
    .map((g, i) => ({ atS: round3(((ts[i + 1] as number) - tStart) / 1000), gapMs: round3(g) }))
    .sort((a, b) => b.gapMs - a.gapMs)
    .slice(0, 5);
  const w: Window = {
    impl,
    phase: ph.name,
    advertIntMs: T,
    seconds: ph.seconds,
    hogs: ph.hogs,
    adverts: ts.length,
    expectedAdverts: Math.floor(((tEnd - tStart) / T) | 0),
    intervalError: dist(gaps.map((g) => g - T)),
    anchoredLateness: dist(resid.map((r) => r - phase)),
    driftUsPerAdvert: round3(slope * 1000),
    gapsOver1_5x: gaps.filter((g) => g > 1.5 * T).length,
    gapsOver2x: gaps.filter((g) => g > 2 * T).length,
    maxGapMs: round3(Math.max(...gaps)),
    masterDownMs: round3(masterDownMs(100, 3, ph.advertInt)),
    worstGaps: worst,
    falseFailovers: {
      backupEnteredMaster: entered2.length,
      backupAdverts: inWin.filter(isAdvert(h2.mac)).length,
      vipAddedOnBackup: vipOn2.length,
      masterLeftMaster: left1.length,
    },
    cpuMs: { master: sum(used.slice(0, k)), backup: sum(used.slice(k)) },
    captureDropped: cap.dropped,
    masterLog: masterLog.slice(0, 50),
  };
  log(
    `   ${w.adverts} adverts (expected ~${w.expectedAdverts}); interval error p50 ${fmt(w.intervalError.p50, 3)} p99 ${fmt(w.intervalError.p99, 3)} max ${fmt(w.intervalError.max, 3)} ms; ` +
      `false failovers ${w.falseFailovers.backupEnteredMaster} (backup adverts ${w.falseFailovers.backupAdverts})`,
  );
  return w;
}

await withLab("blt", 2, async (lab) => {
  const all: Window[] = [];
  for (const ph of PHASES) for (const impl of IMPLS) all.push(await window(lab, impl, ph));

  const rows: string[][] = [["window", "metric", "agent", "keepalived", "ratio a/k"]];
  const comparisons = [];
  for (const ph of PHASES) {
    const a = all.find((w) => w.impl === "agent" && w.phase === ph.name);
    const k = all.find((w) => w.impl === "keepalived" && w.phase === ph.name);
    if (!a || !k) continue;
    const label = `${ph.name} ${ph.advertInt} s × ${ph.seconds} s${ph.hogs ? `, ${ph.hogs} hogs` : ""}`;
    const d = (x: Dist) => `${fmt(x.p50, 3)} / ${fmt(x.p99, 3)} / ${fmt(x.max, 3)}`;
    const r = (x: number, y: number) => fmt(ratio(x, y), 2);
    rows.push([
      label,
      "interval error p50/p99/max ms",
      d(a.intervalError),
      d(k.intervalError),
      r(a.intervalError.p99, k.intervalError.p99),
    ]);
    rows.push([
      "",
      "anchored lateness p50/p99/max ms",
      d(a.anchoredLateness),
      d(k.anchoredLateness),
      r(a.anchoredLateness.p99, k.anchoredLateness.p99),
    ]);
    rows.push(["", "drift µs/advert", fmt(a.driftUsPerAdvert, 2), fmt(k.driftUsPerAdvert, 2), ""]);
    rows.push([
      "",
      "adverts sent / expected",
      `${a.adverts}/${a.expectedAdverts}`,
      `${k.adverts}/${k.expectedAdverts}`,
      "",
    ]);
    rows.push([
      "",
      "gaps > 1.5× / > 2× interval",
      `${a.gapsOver1_5x} / ${a.gapsOver2x}`,
      `${k.gapsOver1_5x} / ${k.gapsOver2x}`,
      "",
    ]);
    rows.push([
      "",
      `max gap ms (Master_Down ${fmt(a.masterDownMs)})`,
      fmt(a.maxGapMs, 3),
      fmt(k.maxGapMs, 3),
      r(a.maxGapMs, k.maxGapMs),
    ]);
    rows.push([
      "",
      "false failovers (backup → MASTER)",
      String(a.falseFailovers.backupEnteredMaster),
      String(k.falseFailovers.backupEnteredMaster),
      "",
    ]);
    rows.push([
      "",
      "backup adverts on the wire",
      String(a.falseFailovers.backupAdverts),
      String(k.falseFailovers.backupAdverts),
      "",
    ]);
    rows.push([
      "",
      "CPU ms master / backup",
      `${a.cpuMs.master} / ${a.cpuMs.backup}`,
      `${k.cpuMs.master} / ${k.cpuMs.backup}`,
      r(a.cpuMs.master, k.cpuMs.master),
    ]);
    comparisons.push({
      window: label,
      agent_interval_error_p99_ms: a.intervalError.p99,
      keepalived_interval_error_p99_ms: k.intervalError.p99,
      ratio_p99: ratio(a.intervalError.p99, k.intervalError.p99),
      agent_max_gap_ms: a.maxGapMs,
      keepalived_max_gap_ms: k.maxGapMs,
      agent_false_failovers: a.falseFailovers.backupEnteredMaster,
      keepalived_false_failovers: k.falseFailovers.backupEnteredMaster,
    });
  }
  const path = writeResult(
    "lateness",
    {
      bench: "lateness",
      date: new Date().toISOString(),
      method:
        "tcpdump on br0 (kernel timestamps); interval error = (t_i − t_{i−1}) − interval (primary); anchored lateness = t_i − (φ + i × interval), φ = min_i(t_i − i × interval)",
      comparisons,
      windows: all,
    },
    startVersions,
  );
  process.stdout.write(`${table(rows)}\n\nresults in ${path}\n`);
});
