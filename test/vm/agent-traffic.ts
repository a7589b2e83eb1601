/**
 * Issue 6, "checkers against real TCP/HTTP servers inside the guest remove and restore
 * destinations; a client's traffic through the VIP reaches only healthy servers": the
 * compiled `agent run` in the User-mode-Linux guest of test/vm/ipvs-vm.sh, with one NAT
 * virtual server in front of three busybox httpd real servers that answer their own name.
 *
 * Topology inside the guest (documentation addresses only):
 *   netns cl  203.0.113.2 ──veth── 203.0.113.1  root (director, VIP 192.0.2.100 on vip0,
 *                                                ip_forward=1, the agent, IPVS NAT)
 *   netns rs  198.51.100.11/.12/.13 :8080 ──veth── 198.51.100.1  root
 * The client and the real servers route through the director, so NAT replies come back
 * through IPVS (the classic LVS-NAT layout). Checkers run from the root namespace.
 *
 * Real servers: rs1 and rs2 carry a TCP_CHECK, rs3 an HTTP_GET (path /health, status_code
 * 200, the MD5 digest of its healthy body). delay_loop 1, connect_timeout 1, retry 0.
 * notify_up/notify_down append "up|down rsN" to /tmp/notify.log; lvs_notify_fifo's reader
 * appends every FIFO line to /tmp/fifo.log.
 *
 * The guest script does the steps and reports each as a marker line; the test judges them:
 *   @@WAIT <label> ok|timeout ms=<elapsed> bound=<ms>     a condition polled with a deadline
 *   @@TRAFFIC <label> <body> <body> …                     30 requests through the VIP
 *   @@SECTION <name> … @@ENDSECTION                       status JSON, tables, logs
 *   @@STOP rc=<exit status> ms=<SIGTERM to exit>
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentFiles, bootGuest, type GuestRun, NOW_MS_SH } from "./guest-run.ts";

export const VIP = "192.0.2.100";
export const VPORT = 80;
export const RS_PORT = 8080;
/** The three real servers: name → address. */
export const REAL_SERVERS = {
  rs1: "198.51.100.11",
  rs2: "198.51.100.12",
  rs3: "198.51.100.13",
} as const;
export type RsName = keyof typeof REAL_SERVERS;
/** Requests per traffic sample. */
export const REQUESTS = 30;
export const DELAY_LOOP_S = 1;
export const CONNECT_TIMEOUT_S = 1;
/** Slack for UML (HZ=100, one slow vCPU) on top of delay_loop + connect_timeout. */
export const MARGIN_MS = 3000;
/** How long a checker may take to notice a change and the agent to act on it. */
export const DETECT_BOUND_MS = (DELAY_LOOP_S + CONNECT_TIMEOUT_S) * 1000 + MARGIN_MS;
/** The body rs3 serves at /health while healthy (its MD5 is the HTTP_GET digest). */
export const HEALTHY_BODY = "rs3 healthy\n";
export const SICK_BODY = "rs3 sick\n";

/** MD5 hex of a string, as keepalived's genhash prints it. */
export function md5Hex(s: string): string {
  return new Bun.CryptoHasher("md5").update(s).digest("hex");
}

/** The agent's configuration (keepalived syntax). */
export function trafficConfig(): string {
  const notify = (n: RsName): string =>
    `        notify_up "/etc/agent/notify.sh up ${n}"\n` +
    `        notify_down "/etc/agent/notify.sh down ${n}"\n`;
  const tcp = `        TCP_CHECK {\n            connect_timeout ${CONNECT_TIMEOUT_S}\n            retry 0\n        }\n`;
  const http =
    "        HTTP_GET {\n            url {\n                path /health\n" +
    `                digest ${md5Hex(HEALTHY_BODY)}\n                status_code 200\n            }\n` +
    `            connect_timeout ${CONNECT_TIMEOUT_S}\n            retry 0\n        }\n`;
  const rs = (n: RsName, check: string): string =>
    `    real_server ${REAL_SERVERS[n]} ${RS_PORT} {\n        weight 1\n${notify(n)}${check}    }\n`;
  return `# agent-traffic.ts: one NAT service, three real servers with checkers.
global_defs {
    router_id agent-traffic
    lvs_notify_fifo /run/lvs.fifo
    lvs_notify_fifo_script "/etc/agent/fifo-reader.sh /run/lvs.fifo"
}
virtual_server ${VIP} ${VPORT} {
    delay_loop ${DELAY_LOOP_S}
    lb_algo rr
    lb_kind NAT
    protocol TCP
${rs("rs1", tcp)}${rs("rs2", tcp)}${rs("rs3", http)}}
`;
}

const NOTIFY_SH = `#!/bin/bash
echo "$*" >>/tmp/notify.log
`;
// busybox wget -T segfaults in the guest (busybox-static 1.35): requests are bounded with timeout(1).
// Reopens the FIFO after each EOF, so it reads every line the agent writes.
const FIFO_READER_SH = `#!/bin/bash
while :; do
  while IFS= read -r line; do echo "$line" >>/tmp/fifo.log; done <"$1"
done
`;

/** The guest's /run.sh (bash, root, cwd /). */
export function trafficGuestScript(): string {
  const [a1, a2, a3] = Object.values(REAL_SERVERS);
  return `set -u
${NOW_MS_SH}say() { printf '@@%s\\n' "$*"; }
section() { printf '@@SECTION %s\\n' "$1"; shift; "$@" 2>&1; printf '@@ENDSECTION\\n'; }
# wait_for LABEL BOUND_MS COMMAND…: poll COMMAND every 50 ms until it succeeds or the bound passes
wait_for() {
  local label=$1 bound=$2 t0; shift 2; t0=$(now_ms)
  until "$@" >/dev/null 2>&1; do
    if [ $(( $(now_ms) - t0 )) -ge "$bound" ]; then say "WAIT $label timeout ms=$(( $(now_ms) - t0 )) bound=$bound"; return 1; fi
    sleep 0.05
  done
  say "WAIT $label ok ms=$(( $(now_ms) - t0 )) bound=$bound"
}
in_table() { ipvsadm -Ln | grep -q -- "-> $1:${RS_PORT} "; }
not_in_table() { ! in_table "$1"; }
has_line() { grep -qxF -- "$2" "$1" 2>/dev/null; }
no_service() { ! ipvsadm -Ln | grep -Eq '^(TCP|UDP|SCTP|FWM) '; }
status_json() { /bin/agent status --json --control /run/a.sock; }
checked_once() { status_json >/tmp/st.json && ! grep -q '"attempts": 0' /tmp/st.json; }
traffic() {
  printf '@@TRAFFIC %s' "$1"
  ip netns exec cl bash -c 'for i in $(seq 1 ${REQUESTS}); do
    b=$(timeout 3 wget -q -O - http://${VIP}:${VPORT}/ 2>/dev/null) || b=FAIL; printf " %s" "\${b:-EMPTY}"; done'
  printf '\\n'
}
http_ok() { timeout 2 wget -q -O /dev/null "http://$1:${RS_PORT}/"; }
# start_rs N: busybox httpd for rsN in netns rs, pid in RS_PID[N]
declare -A RS_PID
start_rs() { ip netns exec rs httpd -f -p "$(rs_addr "$1"):${RS_PORT}" -h "/srv/rs$1" & RS_PID[$1]=$!; }
RS_ADDR=("" ${a1} ${a2} ${a3})
rs_addr() { echo "\${RS_ADDR[$1]}"; }

# ---- network
sysctl -qw net.ipv4.ip_forward=1
ip link add vip0 type dummy && ip link set vip0 up && ip addr add ${VIP}/32 dev vip0
ip netns add cl && ip netns add rs || { say "SETUP no network namespaces"; exit 1; }
ip link add vcl type veth peer name vcl0 netns cl
ip link add vrs type veth peer name vrs0 netns rs
ip addr add 203.0.113.1/24 dev vcl && ip link set vcl up
ip addr add 198.51.100.1/24 dev vrs && ip link set vrs up
ip -n cl link set lo up; ip -n cl addr add 203.0.113.2/24 dev vcl0; ip -n cl link set vcl0 up
ip -n cl route add default via 203.0.113.1
ip -n rs link set lo up
for a in ${a1} ${a2} ${a3}; do ip -n rs addr add $a/24 dev vrs0; done
ip -n rs link set vrs0 up
ip -n rs route add default via 198.51.100.1

# ---- real servers
for n in 1 2 3; do mkdir -p /srv/rs$n; echo "rs$n" >/srv/rs$n/index.html; done
cp /etc/agent/healthy /srv/rs3/health
for n in 1 2 3; do start_rs $n; done
for n in 1 2 3; do wait_for "rs$n-serving" 5000 http_ok "$(rs_addr $n)" || exit 1; done

# ---- the agent
t0=$(now_ms)
/bin/agent run --config /cfg/traffic.conf --control /run/a.sock >/tmp/agent.log 2>&1 &
APID=$!
wait_for started 15000 grep -q 'started from' /tmp/agent.log
for a in ${a1} ${a2} ${a3}; do wait_for "a-in-$a" 5000 in_table $a; done
wait_for a-checked 5000 checked_once
section table-a ipvsadm -Ln
section status-a status_json
traffic a

# ---- (b) rs2 stops
kill "\${RS_PID[2]}"; wait "\${RS_PID[2]}" 2>/dev/null
wait_for b-out-${a2} ${DETECT_BOUND_MS} not_in_table ${a2}
wait_for b-notify ${DETECT_BOUND_MS} has_line /tmp/notify.log "down rs2"
wait_for b-fifo ${DETECT_BOUND_MS} has_line /tmp/fifo.log "RS [${a2}]:tcp:${RS_PORT} [${VIP}]:tcp:${VPORT} DOWN"
section table-b ipvsadm -Ln
traffic b

# ---- (c) rs3 serves the wrong body at /health
cp /etc/agent/sick /srv/rs3/health
wait_for c-out-${a3} ${DETECT_BOUND_MS} not_in_table ${a3}
wait_for c-notify ${DETECT_BOUND_MS} has_line /tmp/notify.log "down rs3"
wait_for c-fifo ${DETECT_BOUND_MS} has_line /tmp/fifo.log "RS [${a3}]:tcp:${RS_PORT} [${VIP}]:tcp:${VPORT} DOWN"
section table-c ipvsadm -Ln
section status-c status_json
traffic c

# ---- (d) both back
start_rs 2
cp /etc/agent/healthy /srv/rs3/health
wait_for d-in-${a2} ${DETECT_BOUND_MS} in_table ${a2}
wait_for d-in-${a3} ${DETECT_BOUND_MS} in_table ${a3}
wait_for d-notify-rs2 ${DETECT_BOUND_MS} has_line /tmp/notify.log "up rs2"
wait_for d-notify-rs3 ${DETECT_BOUND_MS} has_line /tmp/notify.log "up rs3"
wait_for d-fifo-rs2 ${DETECT_BOUND_MS} has_line /tmp/fifo.log "RS [${a2}]:tcp:${RS_PORT} [${VIP}]:tcp:${VPORT} UP"
wait_for d-fifo-rs3 ${DETECT_BOUND_MS} has_line /tmp/fifo.log "RS [${a3}]:tcp:${RS_PORT} [${VIP}]:tcp:${VPORT} UP"
section table-d ipvsadm -Ln
section status-d status_json
traffic d

# ---- (f) SIGTERM
t1=$(now_ms)
kill -TERM $APID
for _ in $(seq 1 200); do kill -0 $APID 2>/dev/null || break; sleep 0.05; done
kill -0 $APID 2>/dev/null && kill -KILL $APID
wait $APID; rc=$?
say "STOP rc=$rc ms=$(( $(now_ms) - t1 ))"
wait_for f-no-service 2000 no_service
section table-f ipvsadm -Ln
section agent-log cat /tmp/agent.log
section notify-log cat /tmp/notify.log
section fifo-log cat /tmp/fifo.log
for n in 1 2 3; do kill "\${RS_PID[$n]}" 2>/dev/null; done
ip netns del cl; ip netns del rs
exit 0
`;
}

export interface Wait {
  label: string;
  ok: boolean;
  ms: number;
  boundMs: number;
}

export interface TrafficReport {
  waits: Wait[];
  /** Response bodies per traffic label ("FAIL" for a failed request). */
  traffic: Record<string, string[]>;
  sections: Record<string, string>;
  stop?: { rc: number; ms: number };
}

/** The marker lines of trafficGuestScript()'s console. */
export function parseTraffic(out: string): TrafficReport {
  const r: TrafficReport = { waits: [], traffic: {}, sections: {} };
  let open: { name: string; lines: string[] } | undefined;
  for (const line of out.split("\n")) {
    if (open) {
      if (line === "@@ENDSECTION") {
        r.sections[open.name] = open.lines.map((l) => `${l}\n`).join("");
        open = undefined;
      } else open.lines.push(line);
      continue;
    }
    const sec = /^@@SECTION (\S+)$/.exec(line);
    if (sec?.[1]) open = { name: sec[1], lines: [] };
    const w = /^@@WAIT (\S+) (ok|timeout) ms=(\d+) bound=(\d+)$/.exec(line);
    if (w?.[1])
      r.waits.push({ label: w[1], ok: w[2] === "ok", ms: Number(w[3]), boundMs: Number(w[4]) });
    const t = /^@@TRAFFIC (\S+)(.*)$/.exec(line);
    if (t?.[1]) r.traffic[t[1]] = (t[2] ?? "").split(" ").filter((b) => b !== "");
    const s = /^@@STOP rc=(\d+) ms=(\d+)$/.exec(line);
    if (s) r.stop = { rc: Number(s[1]), ms: Number(s[2]) };
  }
  return r;
}

/** How many responses each body got. */
export function tally(bodies: readonly string[]): Record<string, number> {
  const n: Record<string, number> = {};
  for (const b of bodies) n[b] = (n[b] ?? 0) + 1;
  return n;
}

export interface TrafficRun extends GuestRun {
  report: TrafficReport;
}

/** The guest's inputs in `dir`: /cfg/traffic.conf and /etc/agent (scripts, rs3's bodies). */
function trafficInputs(dir: string): string[] {
  const cfg = join(dir, "cfg");
  const etc = join(dir, "etc");
  mkdirSync(cfg);
  mkdirSync(etc, { mode: 0o755 });
  writeFileSync(join(cfg, "traffic.conf"), trafficConfig());
  writeFileSync(join(etc, "notify.sh"), NOTIFY_SH, { mode: 0o755 });
  writeFileSync(join(etc, "fifo-reader.sh"), FIFO_READER_SH, { mode: 0o755 });
  writeFileSync(join(etc, "healthy"), HEALTHY_BODY);
  writeFileSync(join(etc, "sick"), SICK_BODY);
  return [`${cfg}:/cfg`, `${etc}:/etc/agent`];
}

/** Boot the guest once and run the scenario with the compiled agent `agent`. */
export async function runTraffic(
  agent: string,
  opts: { timeoutS?: number } = {},
): Promise<TrafficRun> {
  const run = await bootGuest({
    tmpPrefix: "agent-traffic-",
    script: trafficGuestScript(),
    memMb: 1024,
    timeoutS: opts.timeoutS ?? 120,
    files: (dir) => [...agentFiles(agent), ...trafficInputs(dir)],
  });
  return { report: parseTraffic(run.console), ...run };
}

if (import.meta.main) {
  const agent = process.argv[2] ?? new URL("../../dist/agent", import.meta.url).pathname;
  const run = await runTraffic(agent);
  console.log(run.console, run.stderr);
  console.log(
    JSON.stringify({ ...run.report, sections: Object.keys(run.report.sections) }, null, 1),
  );
  console.log(`exit ${run.exitCode}, ${run.wallMs.toFixed(0)} ms`);
}
