/**
 * Benchmark: idle CPU and memory, the agent beside keepalived 2.2.7 in the same run.
 *
 * As /work/shared/tools/resources-keepalived.sh measured the anchors: h1 MASTER priority
 * 150, h2 BACKUP priority 100, VRRPv2 advert_int 1 with auth PASS; 1 instance (VRID 51, VIP
 * 192.0.2.100/24) and 50 (VRIDs 1…50, VIPs 198.51.100.<vrid>/24). Once h1 holds every VIP
 * and h2 none, and the second GARP burst (garp_master_delay 5 s) is over, each process is
 * sampled over BENCH_IDLE_SECONDS (default 60):
 *   CPU  the on-CPU ns of every thread (/proc/PID/task/T/schedstat, sampled every 250 ms
 *        so that a runtime thread exiting mid-window is not lost; the anchors quote
 *        schedstat), and utime+stime from /proc/PID/stat (all threads, 10 ms ticks);
 *   memory at the end: VmRSS (/proc/PID/status) and Pss (/proc/PID/smaps_rollup).
 * keepalived's figures are parent + VRRP child; the agent is one process.
 * Writes bench/results/resources.json.
 */
import type { Lab } from "../test/helpers/lab.ts";
import {
  CpuTracker,
  cpuTicksMs,
  envNumber,
  fmt,
  IMPLS,
  type Impl,
  log,
  memory,
  multiConf,
  type Node,
  ratio,
  startNode,
  startVersions,
  table,
  withLab,
  writeResult,
} from "./lib/common.ts";

const WINDOW_S = envNumber("BENCH_IDLE_SECONDS", 60);
const COUNTS = (process.env.BENCH_COUNTS ?? "1 50").split(/\s+/).filter(Boolean).map(Number);
const BOUND_MS = 30_000;

/** Anchors (/work/shared/reference/anchors.md): keepalived 2.2.7, 60 s window. */
const ANCHORS: Record<string, { rssMb: number; cpuMs: number }> = {
  "1 master": { rssMb: 13.2, cpuMs: 10.7 },
  "1 backup": { rssMb: 13.2, cpuMs: 2.2 },
  "50 master": { rssMb: 13.4, cpuMs: 126 },
  "50 backup": { rssMb: 13.4, cpuMs: 26 },
};

interface Row {
  readonly impl: Impl;
  readonly instances: number;
  readonly role: "master" | "backup";
  readonly pids: readonly number[];
  /** On-CPU ms over the window, all threads of all processes (schedstat). */
  readonly cpuMs: number;
  /** utime+stime over the window, ms (10 ms resolution). */
  readonly cpuTicksMs: number;
  readonly percentOfCore: number;
  readonly rssKb: number;
  readonly pssKb: number;
  readonly threads: number;
  readonly perProcess: readonly { pid: number; cpuMs: number; rssKb: number; pssKb: number }[];
  /** Where the CPU went: on-CPU ms over the window of each thread ("TID comm"), busiest first. */
  readonly perThreadMs: Record<string, number>;
  readonly txPackets: number;
}

const txPackets = (lab: Lab, i: number): number =>
  Number(
    Bun.spawnSync(
      ["ip", "netns", "exec", lab.h(i).ns, "cat", "/sys/class/net/eth0/statistics/tx_packets"],
      { stdout: "pipe" },
    ).stdout.toString(),
  );

async function measure(lab: Lab, impl: Impl, n: number): Promise<Row[]> {
  const [h1, h2] = [lab.h(1), lab.h(2)];
  log(`== ${impl}, ${n} instance(s): ${WINDOW_S} s idle window`);
  await lab.reset();
  const [m1, m2] = await Promise.all([lab.monitor(h1), lab.monitor(h2)]);
  const o = { version: 2, advertInt: 1, authPass: "labpass", vips: ["192.0.2.100/24"] } as const;
  const first = n === 1 ? 51 : 1;
  const vip = (v: number) => (n === 1 ? "192.0.2.100" : `198.51.100.${v}`);
  const n2 = await startNode(lab, impl, h2, multiConf({ ...o, priority: 100 }, n, first, "h2"));
  const n1 = await startNode(
    lab,
    impl,
    h1,
    multiConf({ ...o, state: "MASTER", priority: 150 }, n, first, "h1"),
  );
  const vips = Array.from({ length: n }, (_, k) => vip(first + k));
  await Promise.all(vips.map((a) => m1.added(a, BOUND_MS)));
  // h2 may have taken some VIPs before h1's adverts reached it: wait until it let them go.
  for (const a of vips) if (m2.of(a).some((e) => !e.deleted)) await m2.deleted(a, BOUND_MS);
  const held2 = lab.addrs(h2).filter((a) => vips.includes(a.split("/")[0] as string));
  const held1 = lab.addrs(h1).filter((a) => vips.includes(a.split("/")[0] as string));
  if (held2.length || held1.length !== n)
    throw new Error(`not settled: h1 holds ${held1.length}/${n}, h2 holds ${held2}`);
  await Bun.sleep(7000); // the garp_master_delay (5 s) burst
  const nodes: [Node, "master" | "backup", number][] = [
    [n1, "master", 1],
    [n2, "backup", 2],
  ];
  const before = nodes.map(([node, , i]) => ({
    tracker: new CpuTracker(node.pids),
    ticksMs: node.pids.map(cpuTicksMs),
    tx: txPackets(lab, i),
  }));
  await Bun.sleep(WINDOW_S * 1000);
  const rows = nodes.map(([node, role, i], k): Row => {
    const b = before[k] as { tracker: CpuTracker; ticksMs: number[]; tx: number };
    const { byPid, byThread } = b.tracker.stop();
    const per = node.pids.map((pid, j) => ({
      pid,
      cpuMs: byPid.get(pid) ?? Number.NaN,
      ticksMs: cpuTicksMs(pid) - (b.ticksMs[j] ?? 0),
      ...memory(pid),
    }));
    const sum = (f: (x: (typeof per)[number]) => number) => per.reduce((a, x) => a + f(x), 0);
    const cpuMs = Math.round(sum((x) => x.cpuMs) * 100) / 100;
    return {
      impl,
      instances: n,
      role,
      pids: node.pids,
      cpuMs,
      cpuTicksMs: sum((x) => x.ticksMs),
      percentOfCore: Math.round((cpuMs / (WINDOW_S * 1000)) * 1e6) / 1e4,
      rssKb: sum((x) => x.rssKb),
      pssKb: sum((x) => x.pssKb),
      threads: sum((x) => x.threads),
      perProcess: per.map((x) => ({
        pid: x.pid,
        cpuMs: Math.round(x.cpuMs * 100) / 100,
        rssKb: x.rssKb,
        pssKb: x.pssKb,
      })),
      perThreadMs: byThread,
      txPackets: txPackets(lab, i) - b.tx,
    };
  });
  for (const r of rows)
    log(
      `   ${r.role}: CPU ${fmt(r.cpuMs, 2)} ms (${r.cpuTicksMs} ms in ticks), RSS ${fmt(r.rssKb / 1024)} MB, PSS ${fmt(r.pssKb / 1024)} MB, ${r.threads} thread(s), tx ${r.txPackets}; busiest threads ${Object.entries(
        r.perThreadMs,
      )
        .slice(0, 3)
        .map(([t, ms]) => `${t} ${ms} ms`)
        .join(", ")}`,
    );
  await Promise.all([n1.term(), n2.term()]);
  return rows;
}

await withLab("bres", 2, async (lab) => {
  const all: Row[] = [];
  for (const n of COUNTS) for (const impl of IMPLS) all.push(...(await measure(lab, impl, n)));

  const out: string[][] = [
    ["instances", "node", "metric", "agent", "keepalived", "ratio a/k", "anchor (keepalived)"],
  ];
  const comparisons = [];
  for (const n of COUNTS)
    for (const role of ["master", "backup"] as const) {
      const a = all.find((r) => r.impl === "agent" && r.instances === n && r.role === role);
      const k = all.find((r) => r.impl === "keepalived" && r.instances === n && r.role === role);
      if (!a || !k) continue;
      const anchor = ANCHORS[`${n} ${role}`];
      const mb = (kb: number) => fmt(kb / 1024);
      out.push([
        String(n),
        role,
        `CPU ms / ${WINDOW_S} s`,
        fmt(a.cpuMs, 2),
        fmt(k.cpuMs, 2),
        fmt(ratio(a.cpuMs, k.cpuMs), 1),
        anchor ? fmt((anchor.cpuMs * WINDOW_S) / 60) : "",
      ]);
      out.push([
        "",
        "",
        "CPU % of a core",
        fmt(a.percentOfCore, 3),
        fmt(k.percentOfCore, 3),
        "",
        "",
      ]);
      out.push([
        "",
        "",
        "RSS MB",
        mb(a.rssKb),
        mb(k.rssKb),
        fmt(ratio(a.rssKb, k.rssKb), 1),
        anchor ? fmt(anchor.rssMb) : "",
      ]);
      out.push(["", "", "PSS MB", mb(a.pssKb), mb(k.pssKb), fmt(ratio(a.pssKb, k.pssKb), 1), ""]);
      out.push(["", "", "threads", String(a.threads), String(k.threads), "", ""]);
      comparisons.push({
        instances: n,
        role,
        agent_cpu_ms: a.cpuMs,
        keepalived_cpu_ms: k.cpuMs,
        ratio_cpu: ratio(a.cpuMs, k.cpuMs),
        anchor_cpu_ms: anchor ? (anchor.cpuMs * WINDOW_S) / 60 : null,
        agent_rss_kb: a.rssKb,
        keepalived_rss_kb: k.rssKb,
        ratio_rss: ratio(a.rssKb, k.rssKb),
        anchor_rss_mb: anchor?.rssMb ?? null,
        agent_pss_kb: a.pssKb,
        keepalived_pss_kb: k.pssKb,
      });
    }
  const path = writeResult(
    "resources",
    {
      bench: "resources",
      date: new Date().toISOString(),
      window_s: WINDOW_S,
      method:
        "VRRPv2 advert_int 1; CPU = Σ threads' schedstat on-CPU ns over the window (also utime+stime ticks); RSS = VmRSS, PSS = smaps_rollup Pss, at the end; keepalived = parent + VRRP child",
      comparisons,
      rows: all,
    },
    startVersions,
  );
  process.stdout.write(`${table(out)}\n\nresults in ${path}\n`);
});
