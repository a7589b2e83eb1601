/**
 * Benchmark: failover on the wire, the agent beside keepalived 2.2.7 in the same run.
 *
 * Two hosts on one bridge: h1 MASTER priority 150, h2 BACKUP priority 100, VRID 51, VIP
 * 192.0.2.100/24; VRRPv2 advert_int 1 (auth PASS) and VRRPv3 advert_int 0.1. tcpdump on the
 * bridge (kernel timestamps, decoded offline), `ip -ts monitor address` in both hosts.
 * For each configuration, mode and implementation, BENCH_TRIALS (default 10) trials, each
 * after a settle of 1 s + 3 intervals + a random phase within one interval (BENCH_SEED):
 *   kill   kill -9 of h1 (keepalived: its VRRP child, then the parent). Master_Down measured
 *          = h2's first advert − h1's last advert before it, vs 3 × interval + Skew_Time.
 *   term   SIGTERM to h1: skew measured = h2's first advert − h1's priority-0 advert, vs
 *          Skew_Time.
 * In both: kill → VIP on h2 (monitor), and the takeover spread: max − min of {VIP added on
 * h2 (ip -ts: stamped when `ip` reads the netlink event, so a little late), h2's first
 * advert, h2's first gratuitous ARP (capture)}; target ≤ 1 ms. Then h1's VIP is removed (a
 * crash leaves it), h1 restarts and preempts back.
 * Writes bench/results/failover.json.
 */
import type { AddrMonitor } from "../test/helpers/capture.ts";
import { type Host, type Lab, masterDownMs, skewMs, vrrpConf } from "../test/helpers/lab.ts";
import {
  envNumber,
  fmt,
  IMPLS,
  type Impl,
  log,
  type Node,
  nowMs,
  prng,
  RESULTS,
  ratio,
  type Summary,
  startNode,
  startVersions,
  summarize,
  table,
  withLab,
  writeResult,
} from "./lib/common.ts";
import { isAdvert, isGarp, PcapCapture, type WireFrame } from "./lib/wire.ts";

const TRIALS = envNumber("BENCH_TRIALS", 10);
const SEED = envNumber("BENCH_SEED", Date.now() % 2 ** 31);
const VIP = "192.0.2.100";
const BOUND_MS = 15_000;

interface Config {
  readonly version: 2 | 3;
  readonly advertInt: number;
}
const CONFIGS: readonly Config[] = [
  { version: 2, advertInt: 1 },
  { version: 3, advertInt: 0.1 },
];
type Mode = "kill" | "term";
const MODES: readonly Mode[] = ["kill", "term"];

interface TrialTimes {
  readonly t0: number;
  readonly vip: number;
  /** When h1 was restarted: the end of this trial's window. */
  readonly end: number;
}

interface Trial {
  /** kill: Master_Down measured; term: priority 0 → h2's first advert. */
  readonly measured: number | null;
  readonly killToVip: number;
  readonly killToAdvert: number | null;
  /** max − min of VIP added, first advert, first GARP. */
  readonly spread: number | null;
  /** Relative to h2's first advert. */
  readonly vipMinusAdvert: number | null;
  readonly garpMinusAdvert: number | null;
  /** term: SIGTERM → h1's priority-0 advert on the wire. */
  readonly signalToP0: number | null;
}

interface Series {
  readonly impl: Impl;
  readonly version: 2 | 3;
  readonly advertInt: number;
  readonly mode: Mode;
  readonly rfcMs: number;
  readonly measured: Summary;
  readonly killToVip: Summary;
  readonly spread: Summary;
  readonly spreadOver1ms: number;
  readonly vipMinusAdvert: Summary;
  readonly garpMinusAdvert: Summary;
  readonly signalToP0: Summary;
  readonly captureDropped: number | undefined;
  readonly trials: readonly Trial[];
}

const rng = prng(SEED);

/** Until h1 holds the VIP and h2 does not (h2 may have been master for a moment at start). */
async function settled(lab: Lab, m1: AddrMonitor, m2: AddrMonitor, mark1: number, mark2: number) {
  const [h1, h2] = [lab.h(1), lab.h(2)];
  await m1.added(VIP, BOUND_MS, mark1);
  if (lab.hasAddr(h2, VIP)) await m2.deleted(VIP, BOUND_MS, mark2);
  if (!lab.hasAddr(h1, VIP) || lab.hasAddr(h2, VIP))
    throw new Error(`not settled: h1 ${lab.addrs(h1)}, h2 ${lab.addrs(h2)}`);
}

function analyse(
  frames: readonly WireFrame[],
  h1: Host,
  h2: Host,
  mode: Mode,
  t: TrialTimes,
): Trial {
  const inWindow = frames.filter((f) => f.t > t.t0 && f.t < t.end);
  const adv2 = inWindow.find(isAdvert(h2.mac, 100));
  const garp2 = inWindow.find(isGarp(h2.mac, VIP));
  let measured: number | null = null;
  const p0 = mode === "term" ? inWindow.find(isAdvert(h1.mac, 0)) : undefined;
  if (adv2 && mode === "kill") {
    const last1 = frames.filter((f) => isAdvert(h1.mac, 150)(f) && f.t < adv2.t).at(-1);
    measured = last1 ? adv2.t - last1.t : null;
  } else if (adv2) {
    measured = p0 ? adv2.t - p0.t : null;
  }
  const three = [t.vip, adv2?.t, garp2?.t];
  const spread = three.every((x) => x !== undefined)
    ? Math.max(...(three as number[])) - Math.min(...(three as number[]))
    : null;
  return {
    measured,
    killToVip: t.vip - t.t0,
    killToAdvert: adv2 ? adv2.t - t.t0 : null,
    spread,
    vipMinusAdvert: adv2 ? t.vip - adv2.t : null,
    garpMinusAdvert: adv2 && garp2 ? garp2.t - adv2.t : null,
    signalToP0: p0 ? p0.t - t.t0 : null,
  };
}

async function series(lab: Lab, impl: Impl, cfg: Config, mode: Mode): Promise<Series> {
  const [h1, h2] = [lab.h(1), lab.h(2)];
  const tag = `${impl}-v${cfg.version}-${cfg.advertInt}s-${mode}`;
  log(`== ${tag}: ${TRIALS} trials`);
  await lab.reset();
  const cap = await PcapCapture.start(lab, tag);
  const [m1, m2] = await Promise.all([lab.monitor(h1), lab.monitor(h2)]);
  const base = {
    version: cfg.version,
    advertInt: cfg.advertInt,
    vips: [`${VIP}/24`],
    ...(cfg.version === 2 ? { authPass: "labpass" } : {}),
  };
  const c1 = vrrpConf({ ...base, state: "MASTER", priority: 150 }, "h1");
  const c2 = vrrpConf({ ...base, state: "BACKUP", priority: 100 }, "h2");
  const n2 = await startNode(lab, impl, h2, c2);
  let n1: Node = await startNode(lab, impl, h1, c1);
  await settled(lab, m1, m2, 0, 0);
  const times: TrialTimes[] = [];
  for (let i = 0; i < TRIALS; i++) {
    await Bun.sleep((1 + 3 * cfg.advertInt + rng() * cfg.advertInt) * 1000);
    const mark2 = m2.events.mark;
    const t0 = nowMs();
    await (mode === "kill" ? n1.crash() : n1.term());
    const vip = await m2.added(VIP, BOUND_MS, mark2);
    // A crash leaves the VIP on h1: remove it as a rebooted host would.
    if (lab.hasAddr(h1, VIP)) lab.ip(h1, "addr", "del", `${VIP}/24`, "dev", "eth0");
    await Bun.sleep(300);
    const [mark1, mark2b] = [m1.events.mark, m2.events.mark];
    const end = nowMs();
    n1 = await startNode(lab, impl, h1, c1);
    await settled(lab, m1, m2, mark1, mark2b);
    times.push({ t0, vip: vip.t, end });
    process.stderr.write(".");
  }
  process.stderr.write("\n");
  await Promise.all([n1.term(), n2.term()]);
  const frames = await cap.stop();
  const trials = times.map((t) => analyse(frames, h1, h2, mode, t));
  const pick = (k: keyof Trial) =>
    summarize(trials.map((t) => t[k]).filter((x): x is number => x !== null));
  const rfcMs =
    mode === "kill"
      ? masterDownMs(100, cfg.version, cfg.advertInt)
      : skewMs(100, cfg.version, cfg.advertInt);
  const s: Series = {
    impl,
    version: cfg.version,
    advertInt: cfg.advertInt,
    mode,
    rfcMs: Math.round(rfcMs * 10) / 10,
    measured: pick("measured"),
    killToVip: pick("killToVip"),
    spread: pick("spread"),
    spreadOver1ms: trials.filter((t) => t.spread === null || t.spread > 1).length,
    vipMinusAdvert: pick("vipMinusAdvert"),
    garpMinusAdvert: pick("garpMinusAdvert"),
    signalToP0: pick("signalToP0"),
    captureDropped: cap.dropped,
    trials,
  };
  log(
    `   ${mode === "kill" ? "Master_Down" : "skew"} median ${fmt(s.measured.median)} [${fmt(s.measured.min)}–${fmt(s.measured.max)}] ms (RFC ${fmt(rfcMs)}), ` +
      `kill→VIP ${fmt(s.killToVip.median)} ms, spread median ${fmt(s.spread.median, 3)} max ${fmt(s.spread.max, 3)} ms`,
  );
  return s;
}

/** The comparison table (and the JSON's summary) from every series. */
function report(all: readonly Series[]): { rows: string[][]; comparisons: object[] } {
  const rows: string[][] = [["scenario", "metric (ms)", "agent", "keepalived", "ratio a/k", "RFC"]];
  const comparisons: object[] = [];
  const same = (s: Series, impl: Impl, cfg: Config, mode: Mode) =>
    s.impl === impl &&
    s.version === cfg.version &&
    s.advertInt === cfg.advertInt &&
    s.mode === mode;
  for (const cfg of CONFIGS)
    for (const mode of MODES) {
      const a = all.find((s) => same(s, "agent", cfg, mode));
      const k = all.find((s) => same(s, "keepalived", cfg, mode));
      if (!a || !k) continue;
      const scen = `v${cfg.version} ${cfg.advertInt}s ${mode === "kill" ? "kill -9" : "SIGTERM"}`;
      const line = (what: string, key: keyof Series, d: number, rfc = "", first = "") => {
        const [x, y] = [a[key] as Summary, k[key] as Summary];
        const show = (s: Summary) => `${fmt(s.median, d)} [${fmt(s.min, d)}–${fmt(s.max, d)}]`;
        rows.push([first, what, show(x), show(y), fmt(ratio(x.median, y.median), 3), rfc]);
      };
      line(
        mode === "kill" ? "Master_Down" : "p0 → advert (skew)",
        "measured",
        1,
        fmt(a.rfcMs),
        scen,
      );
      line("signal → VIP on h2", "killToVip", 1);
      if (mode === "term") line("SIGTERM → p0 advert", "signalToP0", 3);
      line("takeover spread", "spread", 3, "≤ 1");
      line("VIP − advert", "vipMinusAdvert", 3);
      line("GARP − advert", "garpMinusAdvert", 3);
      rows.push([
        "",
        "trials with spread > 1 ms",
        `${a.spreadOver1ms}/${a.trials.length}`,
        `${k.spreadOver1ms}/${k.trials.length}`,
        "",
        "",
      ]);
      comparisons.push({
        scenario: scen,
        rfc_ms: a.rfcMs,
        agent_median_ms: a.measured.median,
        keepalived_median_ms: k.measured.median,
        ratio_agent_over_keepalived: ratio(a.measured.median, k.measured.median),
        agent_error_vs_rfc_ms: Math.round((a.measured.median - a.rfcMs) * 10) / 10,
        keepalived_error_vs_rfc_ms: Math.round((k.measured.median - k.rfcMs) * 10) / 10,
        agent_spread_median_ms: a.spread.median,
        keepalived_spread_median_ms: k.spread.median,
        agent_trials_spread_over_1ms: a.spreadOver1ms,
        keepalived_trials_spread_over_1ms: k.spreadOver1ms,
      });
    }
  return { rows, comparisons };
}

if (process.argv.includes("--report")) {
  // Re-print the table of the last run without running it again.
  const last = (await Bun.file(`${RESULTS}/failover.json`).json()) as { series: Series[] };
  process.stdout.write(`${table(report(last.series).rows)}\n`);
  process.exit(0);
}

await withLab("bfo", 2, async (lab) => {
  const all: Series[] = [];
  for (const cfg of CONFIGS)
    for (const mode of MODES)
      for (const impl of IMPLS) all.push(await series(lab, impl, cfg, mode));
  const { rows, comparisons } = report(all);
  const path = writeResult(
    "failover",
    {
      bench: "failover",
      date: new Date().toISOString(),
      trials: TRIALS,
      seed: SEED,
      method:
        "Master_Down = new master's first advert − old master's last advert (tcpdump on br0, kernel timestamps); skew = backup's first advert − priority-0 advert; spread = max − min of {VIP added (ip -ts monitor), first advert, first GARP}",
      comparisons,
      series: all,
    },
    startVersions,
  );
  process.stdout.write(`${table(rows)}\n\nseed ${SEED}; results in ${path}\n`);
});
