/**
 * Issue 6 with the compiled binary: for every test/vm/ipvs-configs/<name>.conf, the IPVS
 * table `dist/agent run` programs in the User-mode-Linux guest of test/vm/ipvs-vm.sh,
 * captured exactly as test/vm/keepalived-tables.ts captures keepalived's (same network setup,
 * same ipvsadm views and markers, same readiness rule, same parseConsole/normalizeTable), so
 * agent-daemon.test.ts can compare it with the golden file keepalived 2.2.7 produced.
 *
 * Per config, in one boot: reset IPVS (ipvsadm -C, default timeouts); start
 * `agent run --config /cfg/<name>.conf --control /run/a.sock`; wait for its "started from"
 * line (the agent's "Startup complete": it logs it after the first reconcile), then for the
 * config's optional `# ready-table: REGEX`, then until the table has not changed for
 * STABLE_MS; capture the four views, then `agent status --json` (section @@STATUS); SIGTERM;
 * record what is left. The compiled binary dlopens libnl (native/libnl.ts, libnl-genl.ts),
 * which ipvs-vm.sh's ldd-based copy cannot see: libnlFiles() hands those in by path.
 *
 *   ./node_modules/.bin/bun test/vm/agent-daemon.ts [names…] [--agent PATH]
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lineDiff } from "./agent-tables.ts";
import { libnlFiles } from "./agent-traffic.ts";
import {
  type CaptureRun,
  CONFIG_DIR,
  guestScript,
  listConfigs,
  parseConsole,
  READY_BOUND_MS,
  STABLE_MS,
  VM_SCRIPT,
} from "./keepalived-tables.ts";

/** The guest's /run.sh: keepalived-tables.ts's network setup, then the agent per config. */
export function daemonGuestScript(): string {
  const ka = guestScript();
  const loop = ka.indexOf("for conf in");
  if (loop < 0) throw new Error("keepalived-tables.ts guestScript() changed shape");
  return `${ka.slice(0, loop)}for conf in /cfg/*.conf; do
  name=$(basename "$conf" .conf)
  ipvsadm -C; ipvsadm --set 900 120 300
  log=/tmp/$name.log
  rm -f /run/a.sock
  t0=$(now_ms); deadline=$((t0 + ${READY_BOUND_MS})); err=""
  /bin/agent run --config "$conf" --control /run/a.sock >"$log" 2>&1 &
  apid=$!
  until grep -q 'started from' "$log"; do
    kill -0 $apid 2>/dev/null || { err="the agent exited before it started"; break; }
    [ "$(now_ms)" -lt $deadline ] || { err="no 'started from' within ${READY_BOUND_MS} ms"; break; }
    sleep 0.05
  done
  ready=$(sed -n 's/^# ready-table: //p' "$conf")
  if [ -z "$err" ] && [ -n "$ready" ]; then
    until ipvsadm -Ln | grep -Eq -- "$ready"; do
      [ "$(now_ms)" -lt $deadline ] || { err="ready-table never matched: $ready"; break; }
      sleep 0.05
    done
  fi
  prev=""; since=$(now_ms)
  while [ -z "$err" ]; do
    cur=$(ipvsadm -Ln --sort)
    if [ "$cur" != "$prev" ]; then prev=$cur; since=$(now_ms); fi
    [ $(( $(now_ms) - since )) -lt ${STABLE_MS} ] || break
    [ "$(now_ms)" -lt $deadline ] || { err="table still changing after ${READY_BOUND_MS} ms"; break; }
    sleep 0.1
  done
  ready_ms=$(( $(now_ms) - t0 ))
  printf '\\n@@BEGIN %s\\n@@TABLE\\n' "$name"
  ipvsadm -Ln --sort
  printf '@@THRESHOLDS\\n'
  ipvsadm -Ln --thresholds
  printf '@@TIMEOUT\\n'
  ipvsadm -Ln --timeout
  printf '@@SAVE\\n'
  ipvsadm -Sn
  # A blank line first: parseConsole ends a section at the next "\\n@@", and -Sn may print
  # nothing (normalizeTable drops the blank line again).
  printf '\\n@@STATUS\\n'
  /bin/agent status --json --control /run/a.sock 2>&1
  t1=$(now_ms)
  kill -TERM $apid 2>/dev/null
  for _ in $(seq 1 200); do kill -0 $apid 2>/dev/null || break; sleep 0.05; done
  if kill -0 $apid 2>/dev/null; then err="\${err:+$err; }no exit within 10 s of SIGTERM"; kill -KILL $apid; fi
  wait $apid 2>/dev/null; arc=$?
  [ "$arc" = 0 ] || err="\${err:+$err; }exit status $arc after SIGTERM"
  stop_ms=$(( $(now_ms) - t1 ))
  printf '\\n@@AFTER_STOP\\n'
  ipvsadm -Ln
  printf '@@LOG\\n'
  cat "$log"
  printf '@@END rc=0 ready_ms=%s stop_ms=%s%s\\n' "$ready_ms" "$stop_ms" "\${err:+ error=$err}"
done
`;
}

/** The @@STATUS section of each config's block (the `agent status --json` output), by name. */
export function parseStatus(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const block of out.split("\n@@BEGIN ").slice(1)) {
    const name = block.slice(0, block.indexOf("\n"));
    const start = block.indexOf("\n@@STATUS\n");
    if (start < 0) continue;
    const body = block.slice(start + "\n@@STATUS\n".length);
    const next = body.indexOf("\n@@");
    r[name] = next < 0 ? body : body.slice(0, next + 1);
  }
  return r;
}

export interface DaemonRun extends CaptureRun {
  /** `agent status --json` per config, raw. */
  status: Record<string, string>;
}

/** Boot the guest once and capture the tables the compiled agent programs for `names`. */
export async function captureDaemonTables(
  names: string[],
  agent: string,
  opts: { timeoutS?: number } = {},
): Promise<DaemonRun> {
  const dir = mkdtempSync(join(tmpdir(), "agent-daemon-"));
  try {
    const cfg = join(dir, "cfg");
    Bun.spawnSync(["mkdir", "-p", cfg]);
    for (const n of names)
      writeFileSync(join(cfg, `${n}.conf`), readFileSync(join(CONFIG_DIR, `${n}.conf`)));
    const script = join(dir, "run.sh");
    writeFileSync(script, daemonGuestScript());
    const t0 = performance.now();
    const proc = Bun.spawn(
      [
        "bash",
        VM_SCRIPT,
        "--mem",
        "1024",
        "--timeout",
        String(opts.timeoutS ?? 120),
        script,
        `${agent}:/bin/agent`,
        ...libnlFiles(),
        `${cfg}:/cfg`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    const wallMs = performance.now() - t0;
    return {
      captures: parseConsole(out),
      status: parseStatus(out),
      exitCode: code,
      wallMs,
      console: out,
      stderr: err,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One service of an `ipvsadm -Ln` listing: "TCP 192.0.2.10:80", "FWM 42"; dests by address. */
export interface ListedService {
  key: string;
  dests: { addr: string; port: number; fwd: string; weight: number }[];
}

/** The first `ipvsadm -Ln` listing in `text` (a capture's table starts with it). */
export function parseListing(text: string): ListedService[] {
  const out: ListedService[] = [];
  let headers = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("IP Virtual Server version") && ++headers > 1) break;
    const svc = /^(TCP|UDP|SCTP) +(\S+) /.exec(line) ?? /^(FWM) +(\d+) /.exec(line);
    if (svc) {
      out.push({ key: `${svc[1]} ${svc[2]}`, dests: [] });
      continue;
    }
    const d = /^ +-> (\[[^\]]+\]|[^:\s]+):(\d+) +(\S+) +(\d+)/.exec(line);
    const cur = out.at(-1);
    if (d?.[1] && cur)
      cur.dests.push({
        addr: d[1].replace(/^\[|\]$/g, ""),
        port: Number(d[2]),
        fwd: d[3] ?? "",
        weight: Number(d[4]),
      });
  }
  return out;
}

interface StatusRs {
  address: string;
  port: number;
  kernel_weight?: number;
}
interface StatusVs {
  name: string;
  address?: string;
  port?: number;
  protocol?: string;
  fwmark?: number;
  group?: string;
  forwarding: string;
  real_servers: StatusRs[];
}

const hostPort = (addr: string, port: number): string =>
  addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`;

/**
 * Where `agent status --json` and the kernel's table disagree: a real server that status says
 * the kernel holds (kernel_weight present) must be in every kernel service of its virtual
 * server with that weight (NAT: at its own port; DR/TUN take the service's port). A group's
 * services are those no plain virtual server of the document claims.
 */
export function statusDisagreements(statusJson: string, table: string): string[] {
  let doc: { virtual_servers?: StatusVs[] };
  try {
    doc = JSON.parse(statusJson) as { virtual_servers?: StatusVs[] };
  } catch {
    return [`status is not JSON: ${statusJson.slice(0, 200)}`];
  }
  const vss = doc.virtual_servers ?? [];
  const listing = parseListing(table);
  const keyOf = (vs: StatusVs): string | undefined =>
    vs.fwmark !== undefined
      ? `FWM ${vs.fwmark}`
      : vs.address !== undefined && vs.protocol !== undefined
        ? `${vs.protocol} ${hostPort(vs.address, vs.port ?? 0)}`
        : undefined;
  const claimed = new Set(vss.map(keyOf).filter((k) => k !== undefined));
  const problems: string[] = [];
  if (vss.length === 0) problems.push("status has no virtual_servers");
  for (const vs of vss) {
    const key = keyOf(vs);
    const services =
      key !== undefined
        ? listing.filter((s) => s.key === key)
        : listing.filter((s) => !claimed.has(s.key));
    if (services.length === 0) problems.push(`${vs.name}: no kernel service`);
    for (const rs of vs.real_servers) {
      if (rs.kernel_weight === undefined) continue;
      for (const s of services) {
        const d = s.dests.find(
          (x) => x.addr === rs.address && (vs.forwarding !== "NAT" || x.port === rs.port),
        );
        if (!d) problems.push(`${vs.name}: ${rs.address}:${rs.port} not in ${s.key}`);
        else if (d.weight !== rs.kernel_weight)
          problems.push(
            `${vs.name}: ${rs.address}:${rs.port} kernel_weight ${rs.kernel_weight}, ${s.key} has ${d.weight}`,
          );
      }
    }
  }
  return problems;
}

async function main(argv: string[]): Promise<number> {
  const a = argv.indexOf("--agent");
  const agent =
    a >= 0 ? (argv[a + 1] ?? "") : new URL("../../dist/agent", import.meta.url).pathname;
  const all = listConfigs();
  const asked = argv.filter((x, i) => !x.startsWith("--") && argv[i - 1] !== "--agent");
  const names = asked.length > 0 ? asked.filter((n) => all.includes(n)) : all;
  const run = await captureDaemonTables(names, agent);
  console.log(`guest: exit ${run.exitCode}, ${run.wallMs.toFixed(0)} ms`);
  if (run.captures.length !== names.length) console.log(run.console, run.stderr);
  for (const c of run.captures) {
    const want = readFileSync(join(CONFIG_DIR, "..", "ipvs-tables", `${c.name}.txt`), "utf8");
    const d = lineDiff(want, c.table);
    const st = statusDisagreements(run.status[c.name] ?? "", c.table);
    console.log(
      `=== ${c.name}: ready ${c.readyMs} ms, stop ${c.stopMs} ms${c.error ? ` ERROR ${c.error}` : ""}`,
    );
    for (const l of [...d, ...st]) console.log(l);
    if (d.length > 0 || c.error) console.log(c.log);
  }
  return run.exitCode;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));

export { lineDiff };
