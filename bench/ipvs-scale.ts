/**
 * Benchmark (issue 6, "Speed"): programming 10,000 IPVS destinations from cold, and
 * re-applying a configuration that changes one of them, the agent beside keepalived 2.2.7
 * in the same User-mode-Linux guest (test/vm/ipvs-vm.sh: 1 vCPU, HZ=100), one boot for all
 * trials, the two daemons taking turns.
 *
 * Configuration: BENCH_IPVS_VS virtual servers (default 100; 192.0.2.1… then 203.0.113.1…,
 * TCP port 80, rr, NAT) × BENCH_IPVS_RS real servers each (default 100; 198.51.100.1…,
 * port 10000 + the VS's index), no checkers (a real server without one is up), no VRRP.
 * keepalived runs as `keepalived -n -C -f F` (checker process only; logs to syslog, a
 * busybox syslogd in the guest); the agent as `agent run --config F` (logs to a file).
 *
 * Per trial:
 *   cold    start the daemon on an empty table; poll /proc/net/ip_vs every POLL_S (250 ms;
 *           bash mapfile, no fork: a fork costs tens of ms of the one vCPU in UML; the same
 *           method for both) until it lists every service and destination; the time from
 *           the spawn to that poll, and the CPU the daemon used by then (utime+stime;
 *           keepalived: parent + checker child); again 2 s later.
 *   reload  nlmon0 captures the guest's netlink traffic (tcpdump); the configuration file is
 *           replaced by one where the first real server's weight is 5 and the daemon gets
 *           SIGHUP. Counted from the capture: the IPVS generic-netlink requests (and all
 *           generic-netlink requests) from SIGHUP to 2 s after the change was seen, and the
 *           time from SIGHUP to the last IPVS request; polled: the time until
 *           /proc/net/ip_vs shows the new weight (only that VS's lines are read, every
 *           POLL_S); the CPU used meanwhile.
 *   stop    SIGTERM, the time to exit, entries left behind.
 * BENCH_IPVS_TRIALS trials each (default 3), the daemons alternating. Writes
 * bench/results/ipvs-scale.json, and the reload captures to BENCH_IPVS_PCAP_DIR if set
 * (`tshark -r F -V` decodes them). BENCH_AGENT: the agent binary (default dist/agent,
 * built if missing); BENCH_AGENT_COMMIT: recorded with the results.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureAgentBinary } from "../test/helpers/lab.ts";
import { envNumber, fmt, log, ratio, summarize, table, writeResult } from "./lib/common.ts";
import {
  BASH_HELPERS,
  base64Section,
  bootGuest,
  countIpvsRequests,
  genlFamilyId,
  KEEPALIVED,
  type NlMessage,
  REPO,
  type RequestCount,
  readNetlinkPcap,
  records,
  sections,
} from "./lib/guest.ts";

const VS = envNumber("BENCH_IPVS_VS", 100);
const RS = envNumber("BENCH_IPVS_RS", 100);
const TRIALS = envNumber("BENCH_IPVS_TRIALS", 3);
const AGENT = process.env.BENCH_AGENT ?? `${REPO}/dist/agent`;
/** Keep the reload captures (nlmon pcaps) in this directory. */
const PCAP_DIR = process.env.BENCH_IPVS_PCAP_DIR;
const READY_BOUND_MS = envNumber("BENCH_IPVS_READY_BOUND_MS", 120_000);
type Impl = "agent" | "keepalived";
/** The agent dlopens these (native/libnl.ts); the guest has only what ldd names. */
const LIBNL = ["libnl-3.so.200", "libnl-route-3.so.200", "libnl-genl-3.so.200"].map(
  (l) => `/usr/lib/x86_64-linux-gnu/${l}`,
);
const IMPLS: readonly Impl[] = ["keepalived", "agent"];

/** The VIP of virtual server `i`: 192.0.2.1…254, then 203.0.113.1…254. */
export function vip(i: number): string {
  if (i < 254) return `192.0.2.${i + 1}`;
  if (i < 508) return `203.0.113.${i - 253}`;
  throw new Error("at most 508 virtual servers");
}

/** keepalived syntax; real server 0 of virtual server 0 has weight `firstWeight`. */
export function scaleConf(vsCount: number, rsCount: number, firstWeight: number): string {
  if (rsCount > 254) throw new Error("at most 254 real servers per virtual server");
  const out: string[] = ["# bench/ipvs-scale.ts: virtual servers only, no checkers\n"];
  for (let i = 0; i < vsCount; i++) {
    out.push(`virtual_server ${vip(i)} 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n`);
    for (let j = 0; j < rsCount; j++) {
      const w = i === 0 && j === 0 ? firstWeight : 1;
      out.push(`  real_server 198.51.100.${j + 1} ${10000 + i} {\n    weight ${w}\n  }\n`);
    }
    out.push("}\n");
  }
  return out.join("");
}

/** /proc/net/ip_vs's line for real server 0 of virtual server 0 at weight `w`. */
const changedLine = (w: number): string => `C6336401:2710 +Masq +${w} `;

/** How often the guest polls /proc/net/ip_vs (each poll of a full table costs ~60 ms there). */
const POLL_S = 0.25;

function guestScript(): string {
  const want = 3 + VS + VS * RS;
  const start = {
    keepalived: "/usr/sbin/keepalived -n -C -f /tmp/run.conf -p /run/k.pid -c /run/c.pid",
    agent: "/bin/agent run --config /tmp/run.conf --control /run/agent.sock",
  };
  const order = Array.from({ length: TRIALS }, (_, k) => IMPLS.map((i) => `${i}:${k}`)).flat();
  return `set -u
${BASH_HELPERS}
ulimit -n 65536
modprobe ip_vs || exit 1
modprobe nlmon && ip link add nlmon0 type nlmon && ip link set nlmon0 up || echo "@@NOTE no nlmon"
syslogd -O /tmp/messages
pids_of() { if [ "$1" = keepalived ]; then echo "$2 $(cat /run/c.pid 2>/dev/null)"; else echo "$2"; fi; }
CHANGED_RE='${changedLine(5)}'
# Only the changed real server's virtual server is read (found once, before the SIGHUP).
vs_start() { VS_AT=$(grep -n '^TCP  C0000201:0050 ' /proc/net/ip_vs | cut -d: -f1); }
changed() {
  mapfile -t -s "$VS_AT" -n ${RS} _SEG </proc/net/ip_vs
  [[ "\${_SEG[*]}" =~ $CHANGED_RE ]]
}
trial() {
  local impl=$1 k=$2 err="" main pids t0 ready polls=0
  ipvsadm -C; rm -f /run/k.pid /run/c.pid
  cp /cfg/a.conf /tmp/run.conf
  now; t0=$NOW
  case $impl in
    keepalived) ${start.keepalived} >/tmp/$impl-$k.log 2>&1 & ;;
    agent) ${start.agent} >/tmp/$impl-$k.log 2>&1 & ;;
  esac
  main=$!
  # No fork in this loop: it shares the one vCPU with the daemon being timed.
  while ipvs_lines; [ "$LINES_IPVS" -lt ${want} ]; do
    kill -0 $main 2>/dev/null || { err="exited before programming all (lines $LINES_IPVS)"; break; }
    now; [ $((NOW - t0)) -lt ${READY_BOUND_MS} ] || { err="$LINES_IPVS of ${want} lines after ${READY_BOUND_MS} ms"; break; }
    polls=$((polls + 1)); zz ${POLL_S}
  done
  now; ready=$((NOW - t0))
  pids=$(pids_of $impl $main)
  local cpu_ready=$(cpu_ms $pids)
  zz 2
  local cpu_settled=$(cpu_ms $pids) rss=0 p
  for p in $pids; do rss=$((rss + $(rss_kb $p))); done
  local visible=-1 cpu_reload=-1 th=0
  if [ -z "$err" ]; then
    tcpdump -i nlmon0 --immediate-mode -Z root -U -w /tmp/hup.pcap 2>/tmp/td.log & local tpid=$!
    until grep -q listening /tmp/td.log; do zz 0.05; done
    ipvsadm -Ln --timeout >/dev/null   # the IPVS family id, for the decoder
    vs_start
    zz 0.3
    local c0=$(cpu_ms $pids)
    cp /cfg/b.conf /tmp/run.conf
    now; th=$NOW; kill -HUP $main
    while ! changed; do
      kill -0 $main 2>/dev/null || { err="exited after SIGHUP"; break; }
      now; [ $((NOW - th)) -lt 30000 ] || { err="weight change not visible after 30 s"; break; }
      zz ${POLL_S}
    done
    now; visible=$((NOW - th))
    zz 2
    cpu_reload=$(( $(cpu_ms $pids) - c0 ))
    kill -INT $tpid; wait $tpid 2>/dev/null
    echo "@@BEGIN pcap-$impl-$k"; base64 /tmp/hup.pcap; echo "@@END pcap-$impl-$k"
  fi
  ipvs_lines; local lines_after=$LINES_IPVS
  now; local ts=$NOW
  kill -TERM $main 2>/dev/null
  for _ in $(seq 1 600); do kill -0 $main 2>/dev/null || break; zz 0.05; done
  kill -0 $main 2>/dev/null && { err="\${err:+$err; }no exit 30 s after SIGTERM"; kill -KILL $main; }
  wait $main 2>/dev/null
  now; local stop=$((NOW - ts))
  ipvs_lines
  echo "@@TRIAL impl=$impl k=$k ready_ms=$ready polls=$polls cpu_ready_ms=$cpu_ready cpu_settled_ms=$cpu_settled rss_kb=$rss hup_epoch_ms=$th visible_ms=$visible cpu_reload_ms=$cpu_reload lines_before_stop=$lines_after stop_ms=$stop lines_after_stop=$LINES_IPVS error=\${err// /_}"
  if [ -n "$err" ]; then echo "@@BEGIN log-$impl-$k"; tail -30 /tmp/$impl-$k.log; echo "@@END log-$impl-$k"; fi
  if [ "$k" = 0 ]; then
    echo "@@BEGIN head-$impl"; head -20 /tmp/$impl-$k.log; echo "@@END head-$impl"
  fi
  echo "@@NOTE $impl log lines: $(wc -l </tmp/$impl-$k.log)"
}
ipvs_lines; now; t=$NOW; ipvs_lines; now; echo "@@NOTE poll_empty_ms=$((NOW - t))"
cp /cfg/a.conf /tmp/run.conf; ${start.keepalived} >/dev/null 2>&1 & w=$!
until ipvs_lines; [ "$LINES_IPVS" -ge ${want} ]; do zz 0.5; done
now; t=$NOW; ipvs_lines; now; echo "@@NOTE poll_full_ms=$((NOW - t))"
vs_start; now; t=$NOW; changed; now; echo "@@NOTE changed_test_ms=$((NOW - t)) (VS line $VS_AT)"
kill -TERM $w; wait $w
for x in ${order.join(" ")}; do trial \${x%%:*} \${x##*:}; done
echo "@@NOTE syslog lines: $(wc -l </tmp/messages 2>/dev/null)"
`;
}

interface Trial {
  readonly impl: Impl;
  readonly k: number;
  readonly readyMs: number;
  readonly cpuReadyMs: number;
  readonly cpuSettledMs: number;
  readonly rssKb: number;
  /** SIGHUP → the poll (every POLL_S) that saw the new weight. */
  readonly visibleMs: number;
  /** SIGHUP → the daemon's last IPVS request (nlmon capture; the kernel applies it then). */
  readonly reloadLastRequestMs: number | null;
  readonly cpuReloadMs: number;
  readonly reloadRequests: RequestCount | null;
  readonly stopMs: number;
  /** Services + destinations the daemon left in the kernel after SIGTERM. */
  readonly leftAfterStop: number;
  readonly error: string;
}

function parseTrials(out: string): Trial[] {
  const recs = records(out, "TRIAL");
  const captures = new Map<string, NlMessage[]>();
  for (const r of recs) {
    const pcap = sections(out, `pcap-${r.impl}-${r.k}`)[0];
    if (pcap === undefined) continue;
    const bytes = base64Section(pcap);
    if (PCAP_DIR) writeFileSync(join(PCAP_DIR, `reload-${r.impl}-${r.k}.pcap`), bytes);
    captures.set(`${r.impl}-${r.k}`, readNetlinkPcap(bytes));
  }
  // The family id is fixed from module load to power-off: one capture that holds the
  // controller's answer serves all (a capture's first frames are sometimes missing).
  const fams = new Set([...captures.values()].map((m) => genlFamilyId(m, "IPVS")));
  fams.delete(undefined);
  if (fams.size > 1) throw new Error(`the IPVS family id changed in one boot: ${[...fams]}`);
  const fam = [...fams][0];
  return recs.map((r) => {
    const impl = r.impl as Impl;
    const k = Number(r.k);
    const msgs = captures.get(`${impl}-${k}`);
    const reloadRequests =
      msgs && fam !== undefined ? countIpvsRequests(msgs, fam, Number(r.hup_epoch_ms)) : null;
    return {
      impl,
      k,
      readyMs: Number(r.ready_ms),
      cpuReadyMs: Number(r.cpu_ready_ms),
      cpuSettledMs: Number(r.cpu_settled_ms),
      rssKb: Number(r.rss_kb),
      visibleMs: Number(r.visible_ms),
      reloadLastRequestMs: reloadRequests?.lastAtMs ?? null,
      cpuReloadMs: Number(r.cpu_reload_ms),
      reloadRequests,
      stopMs: Number(r.stop_ms),
      leftAfterStop: Number(r.lines_after_stop) - 3,
      error: (r.error ?? "").replace(/_/g, " "),
    };
  });
}

function agentVersion(): string {
  const r = Bun.spawnSync([AGENT, "version"], { stdout: "pipe", stderr: "pipe" });
  return r.stdout.toString().trim();
}

async function main(): Promise<number> {
  if (process.env.BENCH_AGENT === undefined) ensureAgentBinary();
  if (statSync(AGENT, { throwIfNoEntry: false })?.isFile() !== true) {
    log(`bench ipvs-scale: no agent binary at ${AGENT} (./node_modules/.bin/bun scripts/build.ts)`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-ipvs-scale-"));
  try {
    writeFileSync(join(dir, "a.conf"), scaleConf(VS, RS, 1));
    writeFileSync(join(dir, "b.conf"), scaleConf(VS, RS, 5));
    const versions = {
      agent: agentVersion(),
      agent_binary: AGENT,
      /** Set when the binary was built from an export of a commit (its version says "unknown"). */
      agent_source_commit: process.env.BENCH_AGENT_COMMIT ?? null,
      agent_binary_mtime: statSync(AGENT).mtime.toISOString(),
      keepalived:
        Bun.spawnSync([KEEPALIVED, "--version"], { stderr: "pipe" })
          .stderr.toString()
          .split("\n")[0] ?? "",
    };
    log(`bench ipvs-scale: ${VS} × ${RS} destinations, ${TRIALS} trials; ${versions.agent}`);
    const run = await bootGuest(
      {
        script: guestScript(),
        files: [
          `${AGENT}:/bin/agent`,
          `${KEEPALIVED}:/usr/sbin/keepalived`,
          "/usr/bin/tcpdump:/bin/tcpdump",
          ...LIBNL.map((l) => `${l}:${l.replace(/^\/usr/, "")}`),
          `${dir}/a.conf:/cfg/a.conf`,
          `${dir}/b.conf:/cfg/b.conf`,
        ],
        memMb: 1536,
        modules: ["nlmon"],
        timeoutS: 120 + TRIALS * 2 * (READY_BOUND_MS / 1000 + 60),
        onLine: (l) => {
          if (l.startsWith("@@TRIAL") || l.startsWith("@@NOTE")) log(`  ${l}`);
        },
      },
      join(dir, "run.sh"),
    );
    const trials = parseTrials(run.console);
    const notes = records(run.console, "NOTE");
    const noteLines = run.console.split("\n").filter((l) => l.startsWith("@@NOTE "));
    if (trials.length === 0) {
      log(`guest exit ${run.exitCode}; console:\n${run.console.slice(-4000)}\n${run.stderr}`);
      return 1;
    }
    for (const t of trials) if (t.error) log(`${t.impl} trial ${t.k}: ${t.error}`);
    for (const t of trials) {
      const tags = [`log-${t.impl}-${t.k}`, ...(t.k === 0 ? [`head-${t.impl}`] : [])];
      for (const tag of tags)
        for (const body of sections(run.console, tag)) log(`--- ${tag}\n${body}`);
    }
    const summary = summarise(trials);
    const result = {
      bench: "ipvs-scale",
      when: new Date().toISOString(),
      guest: "User-mode Linux 6.1 (test/vm/ipvs-vm.sh), 1 vCPU, HZ=100, 1536 MB",
      destinations: VS * RS,
      virtualServers: VS,
      realServersPerVs: RS,
      trialsPerImpl: TRIALS,
      method: {
        ready: `spawn → first poll of /proc/net/ip_vs (every ${POLL_S * 1000} ms, bash mapfile, no fork) listing every service and destination`,
        cpu: "utime+stime from /proc/PID/stat (10 ms ticks); keepalived parent + checker child",
        reload:
          "weight of one real server 1 → 5 in the file, SIGHUP; requests = generic-netlink messages of the IPVS family with NLM_F_REQUEST captured on nlmon0 from SIGHUP to 2 s after the change was seen; last request = its capture time − the SIGHUP time (ms clock)",
        keepalived: "keepalived -n -C -f F (syslog to busybox syslogd)",
        agent: "dist/agent run --config F --control S (compiled binary; log to a file)",
      },
      notes: noteLines.map((l) => l.slice(7)),
      pollCostMs: notes.map((n) => n).filter((n) => Object.keys(n).length > 0),
      guestWallMs: Math.round(run.wallMs),
      guestExit: run.exitCode,
      trials,
      summary,
      versions,
    };
    const path = writeResult("ipvs-scale", result);
    printTable(summary);
    log(`wrote ${path}`);
    return trials.some((t) => t.error) ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Metric =
  | "readyMs"
  | "cpuReadyMs"
  | "cpuSettledMs"
  | "rssKb"
  | "visibleMs"
  | "reloadLastRequestMs"
  | "cpuReloadMs"
  | "stopMs";
const METRICS: readonly [Metric, string][] = [
  ["readyMs", `cold: spawn → all seen in kernel (${POLL_S * 1000} ms polls), ms`],
  ["cpuReadyMs", "cold: CPU to that point, ms"],
  ["cpuSettledMs", "cold: CPU 2 s later, ms"],
  ["rssKb", "RSS after programming, kB"],
  ["reloadLastRequestMs", "reload: SIGHUP → last IPVS request, ms"],
  ["visibleMs", `reload: SIGHUP → change seen (${POLL_S * 1000} ms polls), ms`],
  ["cpuReloadMs", "reload: CPU, ms"],
  ["stopMs", "stop: SIGTERM → exit, ms"],
];

function summarise(trials: readonly Trial[]) {
  const ok = (impl: Impl) => trials.filter((t) => t.impl === impl && !t.error);
  const med = (impl: Impl, m: Metric) => summarize(ok(impl).map((t) => t[m] ?? Number.NaN)).median;
  const out: Record<string, unknown> = {};
  for (const [m] of METRICS) {
    const a = med("agent", m);
    const k = med("keepalived", m);
    out[m] = { agent: a, keepalived: k, ratioAgentToKeepalived: ratio(a, k) };
  }
  const req = (impl: Impl) => ok(impl).map((t) => t.reloadRequests?.total ?? Number.NaN);
  const all = (impl: Impl) => ok(impl).map((t) => t.reloadRequests?.allGenl ?? Number.NaN);
  out.reloadRequests = {
    agent: req("agent"),
    keepalived: req("keepalived"),
    agentAllGenl: all("agent"),
    keepalivedAllGenl: all("keepalived"),
    agentByCmd: ok("agent").map((t) => t.reloadRequests?.byCmd ?? null),
    keepalivedByCmd: ok("keepalived").map((t) => t.reloadRequests?.byCmd ?? null),
  };
  return out;
}

function printTable(summary: Record<string, unknown>): void {
  const rows: string[][] = [
    ["metric (median of trials)", "agent", "keepalived", "agent/keepalived"],
  ];
  for (const [m, label] of METRICS) {
    const v = summary[m] as { agent: number; keepalived: number; ratioAgentToKeepalived: number };
    rows.push([label, fmt(v.agent, 0), fmt(v.keepalived, 0), fmt(v.ratioAgentToKeepalived, 2)]);
  }
  const r = summary.reloadRequests as Record<string, number[]>;
  const j = (k: string) => (r[k] ?? []).join(", ");
  rows.push(["reload: IPVS netlink requests", j("agent"), j("keepalived"), ""]);
  rows.push(["reload: all genetlink requests", j("agentAllGenl"), j("keepalivedAllGenl"), ""]);
  process.stdout.write(`${table(rows)}\n`);
}

if (import.meta.main) process.exit(await main());
