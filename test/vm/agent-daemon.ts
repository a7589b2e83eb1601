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
 * which ipvs-vm.sh's ldd-based copy cannot see: guest-run.ts agentFiles() hands them in.
 *
 *   ./node_modules/.bin/bun test/vm/agent-daemon.ts [names…] [--agent PATH]
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { agentFiles, bootGuest, configFiles, configLoop, tableGuestPrelude } from "./guest-run.ts";
import {
  type CaptureRun,
  CONFIG_DIR,
  lineDiff,
  listConfigs,
  parseConsole,
  READY_BOUND_MS,
} from "./keepalived-tables.ts";

/** The guest's /run.sh: keepalived-tables.ts's network setup and loop, with the agent. */
export function daemonGuestScript(): string {
  return `${tableGuestPrelude()}${configLoop({
    pidVar: "apid",
    prepare: "  rm -f /run/a.sock\n",
    start: '/bin/agent run --config "$conf" --control /run/a.sock',
    started: "started from",
    exitedEarly: "the agent exited before it started",
    notStarted: `no 'started from' within ${READY_BOUND_MS} ms`,
    afterCapture: `  # A blank line first: parseConsole ends a section at the next "\\n@@", and -Sn may print
  # nothing (normalizeTable drops the blank line again).
  printf '\\n@@STATUS\\n'
  /bin/agent status --json --control /run/a.sock 2>&1
`,
    checkExit: true,
  })}`;
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
  const run = await bootGuest({
    tmpPrefix: "agent-daemon-",
    script: daemonGuestScript(),
    memMb: 1024,
    timeoutS: opts.timeoutS ?? 120,
    files: (dir) => [...agentFiles(agent), configFiles(dir, names)],
  });
  return { captures: parseConsole(run.console), status: parseStatus(run.console), ...run };
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
