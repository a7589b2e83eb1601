/**
 * Benchmark (issue 6, "Speed"): 2,000 TCP_CHECKs at delay_loop 1 s — the checking daemon's
 * CPU and how late each check starts, the agent beside keepalived 2.2.7 on the same
 * configuration, one after the other in the same User-mode-Linux guest (test/vm/ipvs-vm.sh:
 * 1 vCPU, HZ=100), against the same listener.
 *
 * Sizes: BENCH_CHECKERS_COUNTS (default 2000,500,200), one guest boot each: 2,000 is what
 * issue 6 asks; in this guest it saturates the one vCPU (daemon + listener), so the smaller
 * counts show both daemons below saturation. N checkers = N/100 virtual servers
 * (192.0.2.1…, TCP port 80, rr, NAT, delay_loop 1) × 100 real servers (198.51.100.1…100,
 * port 20000 + the VS's index), each with `TCP_CHECK { connect_timeout 3 }`. The guest
 * routes 198.51.100.0/24 to lo as local, so every real server is a distinct loopback
 * endpoint. ONE listener process (Bun, bench/lib/guest.ts `--listen`) accepts on all of
 * them and stamps each connection with performance.now() (CLOCK_MONOTONIC).
 *
 * Per daemon: start it on an empty IPVS table, wait BENCH_CHECKERS_WARMUP_SECONDS (default
 * 15), then a window of BENCH_CHECKERS_SECONDS (default 60): CPU of the daemon
 * (utime+stime; keepalived: parent + checker child), of the listener, and the guest's idle
 * share (/proc/stat); at its end RSS and the listener's summary of the window —
 * lateness = for each endpoint, the gap between successive connects minus delay_loop
 * (p50/p99/max over all gaps), checks missed (a gap over 1.5 s counts round(gap/1 s) − 1)
 * and doubled (a gap under 0.5 s). keepalived re-arms a check delay_loop after the
 * previous one finished, so its gaps include the (loopback) connect time; the same metric
 * is applied to both. Writes bench/results/ipvs-checkers.json. BENCH_AGENT: the agent binary
 * (default dist/agent, built if missing); BENCH_AGENT_COMMIT: recorded with the results;
 * BENCH_CHECKERS_ORDER: which daemons, in which order (default keepalived,agent).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureAgentBinary } from "../test/helpers/lab.ts";
import { envNumber, fmt, log, ratio, table, writeResult } from "./lib/common.ts";
import {
  BASH_HELPERS,
  bootGuest,
  KEEPALIVED,
  REPO,
  records,
  sections,
  type WindowSummary,
} from "./lib/guest.ts";

/** Checker counts, one guest boot each: the asked 2,000, and smaller ones the guest can hold. */
const COUNTS = (process.env.BENCH_CHECKERS_COUNTS ?? "2000,500,200").split(",").map(Number);
const RS_PER_VS = 100;
const WARMUP_S = envNumber("BENCH_CHECKERS_WARMUP_SECONDS", 15);
const WINDOW_S = envNumber("BENCH_CHECKERS_SECONDS", 60);
const AGENT = process.env.BENCH_AGENT ?? `${REPO}/dist/agent`;
const DELAY_LOOP_S = 1;
type Impl = "agent" | "keepalived";
const ORDER = (process.env.BENCH_CHECKERS_ORDER ?? "keepalived,agent").split(",") as Impl[];
const LIBNL = ["libnl-3.so.200", "libnl-route-3.so.200", "libnl-genl-3.so.200"].map(
  (l) => `/usr/lib/x86_64-linux-gnu/${l}`,
);

export interface RealServer {
  readonly vs: number;
  readonly addr: string;
  readonly port: number;
}

export function realServers(vsCount: number, rsCount: number): RealServer[] {
  if (vsCount > 254 || rsCount > 254) throw new Error("at most 254 × 254");
  const out: RealServer[] = [];
  for (let i = 0; i < vsCount; i++)
    for (let j = 0; j < rsCount; j++)
      out.push({ vs: i, addr: `198.51.100.${j + 1}`, port: 20000 + i });
  return out;
}

/** keepalived syntax: every real server with a TCP_CHECK, delay_loop on each VS. */
export function checkersConf(vsCount: number, rsCount: number, delayLoopS: number): string {
  const out: string[] = ["# bench/ipvs-checkers.ts: TCP_CHECK on every real server\n"];
  for (let i = 0; i < vsCount; i++) {
    out.push(`virtual_server 192.0.2.${i + 1} 80 {\n  delay_loop ${delayLoopS}\n`);
    out.push("  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n");
    for (let j = 0; j < rsCount; j++)
      out.push(
        `  real_server 198.51.100.${j + 1} ${20000 + i} {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n`,
      );
    out.push("}\n");
  }
  return out.join("");
}

function guestScript(total: number): string {
  const start = {
    keepalived: `/usr/sbin/keepalived -n -C -f /cfg/checkers.conf -p /run/k.pid -c /run/c.pid`,
    agent: `/bin/agent run --config /cfg/checkers.conf --control /run/agent.sock`,
  };
  const runs = ORDER.map((impl) => {
    const cmd = start[impl];
    return `run_one ${impl} '${cmd}'`;
  }).join("\n");
  return `set -u
${BASH_HELPERS}
ulimit -n 65536
idle_ticks() { local a; read -r -a a </proc/stat; echo $(( a[4] + a[5] )); }
all_ticks() { local a s=0 x; read -r -a a </proc/stat; for x in "\${a[@]:1}"; do s=$((s + x)); done; echo $s; }
modprobe ip_vs || exit 1
ip route add local 198.51.100.0/24 dev lo
syslogd -O /tmp/messages
/bin/bun /app/guest.ts --listen /cfg/endpoints ${DELAY_LOOP_S * 1000} >/tmp/listener.out 2>&1 &
L=$!
t=$(now_ms)
until grep -q '^@@LISTENING' /tmp/listener.out; do
  kill -0 $L 2>/dev/null || { cat /tmp/listener.out; exit 1; }
  [ $(( $(now_ms) - t )) -lt 120000 ] || { echo "listener not up"; exit 1; }
  zz 0.2
done
echo "@@NOTE listener up after $(( $(now_ms) - t )) ms: $(grep '^@@LISTENING' /tmp/listener.out)"
windows() { grep -c '^@@WINDOW' /tmp/listener.out; }
mark() {  # SIGUSR1 to the listener; wait for its summary line
  local n=$(windows); kill -USR1 $L
  until [ "$(windows)" -gt "$n" ]; do zz 0.05; done
}
run_one() {
  local impl=$1 cmd=$2 err="" main pids
  ipvsadm -C; rm -f /run/k.pid /run/c.pid
  local t0=$(now_ms)
  $cmd >/tmp/$impl.log 2>&1 &
  main=$!
  zz ${WARMUP_S}
  kill -0 $main 2>/dev/null || err="exited during warm-up"
  pids=$main; [ $impl = keepalived ] && pids="$main $(cat /run/c.pid 2>/dev/null)"
  local dests=$(grep -c '^  -> [0-9A-F]' /proc/net/ip_vs)
  mark
  local c0=$(cpu_ms $pids) l0=$(cpu_ms $L) i0=$(idle_ticks) a0=$(all_ticks) w0=$(now_ms)
  zz ${WINDOW_S}
  mark
  local c1=$(cpu_ms $pids) l1=$(cpu_ms $L) i1=$(idle_ticks) a1=$(all_ticks) w1=$(now_ms)
  kill -0 $main 2>/dev/null || err="\${err:+$err; }exited during the window"
  local rss=0 p thr=0
  for p in $pids; do rss=$((rss + $(rss_kb $p))); thr=$((thr + $(awk '/^Threads:/{print $2}' /proc/$p/status 2>/dev/null || echo 0))); done
  local up=$(grep -c '^  -> [0-9A-F]' /proc/net/ip_vs)
  kill -TERM $main 2>/dev/null
  for _ in $(seq 1 400); do kill -0 $main 2>/dev/null || break; zz 0.05; done
  kill -0 $main 2>/dev/null && { err="\${err:+$err; }no exit 20 s after SIGTERM"; kill -KILL $main; }
  wait $main 2>/dev/null
  echo "@@RUN impl=$impl dests_after_warmup=$dests dests_at_end=$up window_ms=$((w1 - w0)) cpu_ms=$((c1 - c0)) listener_cpu_ms=$((l1 - l0)) idle_pct=$(( (i1 - i0) * 100 / (a1 - a0 + 1) )) rss_kb=$rss threads=$thr error=\${err// /_}"
  echo "@@BEGIN window-$impl"; grep '^@@WINDOW' /tmp/listener.out | tail -1 | cut -c10-; echo "@@END window-$impl"
  local logf=/tmp/$impl.log; [ $impl = keepalived ] && logf=/tmp/messages
  local nl=$(wc -l <$logf)
  echo "@@BEGIN log-$impl"; head -5 $logf; echo ...; sed -n "$((nl / 2)),$((nl / 2 + 9))p" $logf; echo ...; tail -5 $logf; echo "@@END log-$impl"
  echo "@@NOTE $impl log lines: $nl ($logf; success $(grep -c 'success' $logf), failed $(grep -ci 'fail' $logf), timeout $(grep -c 'timeout' $logf), removing $(grep -c 'Removing' $logf))"
  : >/tmp/messages
  zz 3
}
${runs}
kill -TERM $L; wait $L 2>/dev/null
echo "@@NOTE syslog lines: $(wc -l </tmp/messages 2>/dev/null) (expected checks: ${total} per s)"
`;
}

interface Run {
  readonly impl: Impl;
  readonly windowMs: number;
  readonly cpuMs: number;
  /** CPU per second of window, ms/s (= % of the one vCPU × 10). */
  readonly cpuMsPerS: number;
  readonly listenerCpuMs: number;
  readonly guestIdlePct: number;
  readonly rssKb: number;
  readonly threads: number;
  readonly destsAfterWarmup: number;
  readonly upAtEnd: number;
  readonly window: WindowSummary | null;
  readonly error: string;
}

function parseRuns(out: string): Run[] {
  return records(out, "RUN").map((r) => {
    const impl = r.impl as Impl;
    const w = sections(out, `window-${impl}`)[0]?.trim();
    const windowMs = Number(r.window_ms);
    const cpuMs = Number(r.cpu_ms);
    return {
      impl,
      windowMs,
      cpuMs,
      cpuMsPerS: Math.round((cpuMs / windowMs) * 1000 * 10) / 10,
      listenerCpuMs: Number(r.listener_cpu_ms),
      guestIdlePct: Number(r.idle_pct),
      rssKb: Number(r.rss_kb),
      threads: Number(r.threads),
      destsAfterWarmup: Number(r.dests_after_warmup),
      upAtEnd: Number(r.dests_at_end),
      window: w ? (JSON.parse(w) as WindowSummary) : null,
      error: (r.error ?? "").replace(/_/g, " "),
    };
  });
}

/** VS × RS for `total` checkers: RS_PER_VS real servers a virtual server. */
export function shape(total: number): { vs: number; rs: number } {
  if (!Number.isInteger(total) || total < 1) throw new Error(`bad checker count ${total}`);
  if (total <= RS_PER_VS) return { vs: 1, rs: total };
  if (total % RS_PER_VS !== 0)
    throw new Error(`checker count ${total}: a multiple of ${RS_PER_VS}`);
  return { vs: total / RS_PER_VS, rs: RS_PER_VS };
}

async function main(): Promise<number> {
  if (process.env.BENCH_AGENT === undefined) ensureAgentBinary();
  if (statSync(AGENT, { throwIfNoEntry: false })?.isFile() !== true) {
    log(
      `bench ipvs-checkers: no agent binary at ${AGENT} (./node_modules/.bin/bun scripts/build.ts)`,
    );
    return 2;
  }
  const agentVersion = Bun.spawnSync([AGENT, "version"]).stdout.toString().trim();
  const sizes = [];
  let failed = false;
  for (const total of COUNTS) {
    const r = await oneSize(total, agentVersion);
    if (r === undefined) {
      failed = true;
      continue;
    }
    sizes.push(r.result);
    failed ||= r.failed;
  }
  const path = writeResult("ipvs-checkers", {
    bench: "ipvs-checkers",
    when: new Date().toISOString(),
    guest: "User-mode Linux 6.1 (test/vm/ipvs-vm.sh), 1 vCPU, HZ=100, 1536 MB",
    agent: {
      binary: AGENT,
      version: agentVersion,
      mtime: statSync(AGENT).mtime.toISOString(),
      /** Set when the binary was built from an export of a commit (its version says "unknown"). */
      sourceCommit: process.env.BENCH_AGENT_COMMIT ?? null,
    },
    delayLoopS: DELAY_LOOP_S,
    warmupS: WARMUP_S,
    windowS: WINDOW_S,
    method: {
      lateness:
        "per endpoint, gap between successive accepted connections (listener, performance.now()) − delay_loop; missed: gap > 1.5 s counts round(gap/1 s) − 1; doubled: gap < 0.5 s",
      cpu: "utime+stime from /proc/PID/stat over the window (10 ms ticks); keepalived parent + checker child",
      keepalived: "keepalived -n -C -f F (syslog to busybox syslogd)",
      agent: "agent run --config F --control S (compiled binary; log to a file)",
    },
    sizes,
  });
  log(`wrote ${path}`);
  return failed ? 1 : 0;
}

async function oneSize(
  total: number,
  agentVersion: string,
): Promise<{ result: object; failed: boolean } | undefined> {
  const { vs: VS, rs: RS } = shape(total);
  const dir = mkdtempSync(join(tmpdir(), "bench-ipvs-checkers-"));
  try {
    writeFileSync(join(dir, "checkers.conf"), checkersConf(VS, RS, DELAY_LOOP_S));
    const eps = realServers(VS, RS).map((r) => `${r.addr} ${r.port}\n`);
    writeFileSync(join(dir, "endpoints"), eps.join(""));
    log(`bench ipvs-checkers: ${total} TCP_CHECKs, ${WINDOW_S} s windows; ${agentVersion}`);
    const run = await bootGuest(
      {
        script: guestScript(total),
        files: [
          `${AGENT}:/bin/agent`,
          `${KEEPALIVED}:/usr/sbin/keepalived`,
          `${process.execPath}:/bin/bun`,
          `${REPO}/bench/lib/guest.ts:/app/guest.ts`,
          ...LIBNL.map((l) => `${l}:${l.replace(/^\/usr/, "")}`),
          `${dir}/checkers.conf:/cfg/checkers.conf`,
          `${dir}/endpoints:/cfg/endpoints`,
        ],
        memMb: 1536,
        timeoutS: 300 + ORDER.length * (WARMUP_S + WINDOW_S + 60),
        onLine: (l) => {
          if (l.startsWith("@@RUN") || l.startsWith("@@NOTE")) log(`  ${l}`);
        },
      },
      join(dir, "run.sh"),
    );
    const runs = parseRuns(run.console);
    for (const impl of ORDER)
      for (const body of sections(run.console, `log-${impl}`)) log(`--- ${impl} log\n${body}`);
    if (runs.length === 0) {
      log(`guest exit ${run.exitCode}; console:\n${run.console.slice(-4000)}\n${run.stderr}`);
      return undefined;
    }
    const a = runs.find((r) => r.impl === "agent");
    const k = runs.find((r) => r.impl === "keepalived");
    const result = {
      checkers: total,
      virtualServers: VS,
      realServersPerVs: RS,
      notes: run.console
        .split("\n")
        .filter((l) => l.startsWith("@@NOTE "))
        .map((l) => l.slice(7)),
      guestWallMs: Math.round(run.wallMs),
      guestExit: run.exitCode,
      runs,
      ratiosAgentToKeepalived:
        a && k
          ? {
              cpu: ratio(a.cpuMs, k.cpuMs),
              latenessP50: ratio(
                a.window?.lateness.p50 ?? Number.NaN,
                k.window?.lateness.p50 ?? Number.NaN,
              ),
              latenessP99: ratio(
                a.window?.lateness.p99 ?? Number.NaN,
                k.window?.lateness.p99 ?? Number.NaN,
              ),
              rss: ratio(a.rssKb, k.rssKb),
            }
          : null,
    };
    process.stdout.write(
      `\n${total} TCP_CHECKs, delay_loop ${DELAY_LOOP_S} s, ${WINDOW_S} s window\n`,
    );
    printTable(runs);
    return { result, failed: runs.some((r) => r.error !== "") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(runs: readonly Run[]): void {
  const a = runs.find((r) => r.impl === "agent");
  const k = runs.find((r) => r.impl === "keepalived");
  const rows: string[][] = [["metric", "agent", "keepalived", "agent/keepalived"]];
  const line = (label: string, f: (r: Run) => number, digits = 1) => {
    const x = a ? f(a) : Number.NaN;
    const y = k ? f(k) : Number.NaN;
    rows.push([label, fmt(x, digits), fmt(y, digits), fmt(ratio(x, y), 2)]);
  };
  const w = (r: Run) => r.window;
  line("CPU over the window, ms", (r) => r.cpuMs, 0);
  line("CPU, ms per s (10 = 1% of the vCPU)", (r) => r.cpuMsPerS);
  line("listener CPU, ms", (r) => r.listenerCpuMs, 0);
  line("guest idle, %", (r) => r.guestIdlePct, 0);
  line("RSS, kB", (r) => r.rssKb, 0);
  line("connects in window", (r) => w(r)?.connects ?? Number.NaN, 0);
  line("lateness p50, ms", (r) => w(r)?.lateness.p50 ?? Number.NaN, 2);
  line("lateness p99, ms", (r) => w(r)?.lateness.p99 ?? Number.NaN, 2);
  line("lateness max, ms", (r) => w(r)?.lateness.max ?? Number.NaN, 2);
  line("missed checks", (r) => w(r)?.missed ?? Number.NaN, 0);
  line("doubled checks", (r) => w(r)?.doubled ?? Number.NaN, 0);
  line("silent endpoints", (r) => w(r)?.silent ?? Number.NaN, 0);
  process.stdout.write(`${table(rows)}\n`);
}

if (import.meta.main) process.exit(await main());
