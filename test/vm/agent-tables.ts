/**
 * The agent's side of issue 6: the IPVS tables edge-agent programs for each
 * test/vm/ipvs-configs/<name>.conf, captured exactly as test/vm/keepalived-tables.ts captures
 * keepalived's (same ipvsadm commands, same markers, same parseConsole/normalizeTable), in the
 * same User-mode-Linux guest, so agent-tables.test.ts can compare them with the golden files.
 *
 * One boot serves all configs, and one Bun process inside it (Bun starts slowly under UML).
 * Per config: reset IPVS exactly as keepalived-tables.ts does (ipvsadm -C, default timeouts),
 * loadConfig (offline) → desiredTable → diff against the table read back from the kernel (empty)
 * → apply the ops through src/io/ipvs.ts, then global_defs lvs_timeouts if set (keepalived sets
 * them at startup: check/ipvswrapper.c ipvs_set_timeouts, shown by `ipvsadm -Ln --timeout`);
 * capture; flush (the agent's stop) and record what is left.
 *
 * Health: the guest routes 198.51.100.0/24 and 2001:db8:1::/64 to lo and nothing listens there,
 * so every checker in these configs fails (their comments say so, and the golden tables show
 * the result: inhibit .82 at weight 0, quorum .74 and sorry .62 gone). A real server with any
 * checker is therefore "down"; one without a checker is "up" (keepalived: no checker → alive).
 * This is derived from the config, not from the golden file, so the comparison is not circular.
 *
 *   ./node_modules/.bin/bun test/vm/agent-tables.ts            print the agent's tables
 *   ./node_modules/.bin/bun test/vm/agent-tables.ts nat tun    only these
 *   (inside the guest) bun test/vm/agent-tables.ts --guest /cfg
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { desiredTable, type Health, type RsInput } from "../../src/core/ipvs/desired.ts";
import { diff, type Op } from "../../src/core/ipvs/diff.ts";
import { sortTable, type Table } from "../../src/core/ipvs/table.ts";
import { fromWire, toWireDest, toWireService } from "../../src/core/ipvs/wire.ts";
import { Ipvs } from "../../src/io/ipvs.ts";
import { bootGuest, bunAppFiles, configFiles, tableGuestPrelude } from "./guest-run.ts";
import { type CaptureRun, lineDiff, listConfigs, parseConsole } from "./keepalived-tables.ts";

/** keepalived's checker keywords inside a real_server block (reference §6; check/check_*.c). */
const CHECKERS = [
  "TCP_CHECK",
  "HTTP_GET",
  "SSL_GET",
  "SMTP_CHECK",
  "MISC_CHECK",
  "DNS_CHECK",
  "UDP_CHECK",
  "PING_CHECK",
  "FILE_CHECK",
  "BFD_CHECK",
] as const;

/** In the guest nothing listens on a real server's address: a checker means "down". */
export function guestHealth(rs: RsInput): Health {
  const r = rs as unknown as Record<string, unknown>;
  const checked = CHECKERS.some((k) => {
    const v = r[k];
    return Array.isArray(v) ? v.length > 0 : v !== undefined;
  });
  return checked ? "down" : "up";
}

/** "ip:port" of every real server guestHealth marks down in one config file. */
export function downServers(path: string): string[] {
  const m = loadConfig(path, { offline: true }).model;
  return (m?.virtual_server ?? []).flatMap((vs) =>
    vs.real_server.filter((rs) => guestHealth(rs) === "down").map((rs) => `${rs.ip}:${rs.port}`),
  );
}

export interface AgentPlan {
  /** The desired table (pure: config + guestHealth). */
  table: Table;
  /** global_defs lvs_timeouts, if the config has it. */
  timeouts?: { tcp?: number; tcpfin?: number; udp?: number };
  notes: readonly string[];
}

/** loadConfig (offline) and desiredTable for one config file. Throws on config errors. */
export function planFor(path: string): AgentPlan {
  const loaded = loadConfig(path, { offline: true });
  if (!loaded.model) {
    const errs = loaded.diagnostics.filter((d) => d.severity === "error");
    throw new Error(`${path}: ${errs.map((d) => d.message).join("; ")}`);
  }
  const m = loaded.model;
  const r = desiredTable(
    m,
    (_vs, rs) => guestHealth(rs),
    () => "MASTER",
  );
  const t = m.global_defs.lvs_timeouts;
  return { table: r.table, notes: r.notes, ...(t ? { timeouts: { ...t } } : {}) };
}

/** The kernel's table as table.ts records. */
export function readKernel(ipvs: Ipvs): Table {
  return sortTable(ipvs.services().map((s) => fromWire(s, ipvs.dests(s.key))));
}

export function applyOp(ipvs: Ipvs, o: Op): void {
  const s = toWireService(o.service);
  switch (o.op) {
    case "add-service":
      ipvs.addService(s);
      break;
    case "edit-service":
      ipvs.editService(s);
      break;
    case "del-service":
      ipvs.delService(s);
      break;
    case "add-dest":
      ipvs.addDest(s, toWireDest(o.dest));
      break;
    case "edit-dest":
      ipvs.editDest(s, toWireDest(o.dest));
      break;
    case "del-dest":
      ipvs.delDest(s, toWireDest(o.dest));
      break;
  }
}

export function describeOp(o: Op): string {
  const s = o.service;
  const key = s.fwmark > 0 ? `fwmark ${s.fwmark}` : `${s.protocol} ${s.addr} ${s.port}`;
  return "dest" in o
    ? `${o.op} ${key} -> ${o.dest.addr}:${o.dest.port} ${o.dest.fwd} w${o.dest.weight}`
    : `${o.op} ${key} ${s.sched} flags=${s.flags}`;
}

/** Program one config into the kernel; returns log lines (ops applied, notes). */
export function programConfig(ipvs: Ipvs, path: string): string[] {
  const plan = planFor(path);
  const ops = diff(readKernel(ipvs), plan.table, () => true);
  const log = plan.notes.map((n) => `note: ${n}`);
  for (const o of ops) {
    log.push(describeOp(o));
    applyOp(ipvs, o);
  }
  // A second pass over what the kernel now reports must find nothing to do: anything it
  // finds is a field that does not survive the round trip through the kernel (wire.ts).
  for (const o of diff(readKernel(ipvs), plan.table, () => true))
    log.push(`again: ${describeOp(o)}`);
  const t = plan.timeouts;
  if (t) {
    // 0 leaves a timeout unchanged, as keepalived does for an unset field.
    ipvs.setTimeouts({ tcpS: t.tcp ?? 0, tcpFinS: t.tcpfin ?? 0, udpS: t.udp ?? 0 });
    log.push(`timeouts ${t.tcp ?? 0} ${t.tcpfin ?? 0} ${t.udp ?? 0}`);
  }
  return log;
}

function sh(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return `${r.stdout.toString()}${r.stderr.toString()}`;
}

/** Inside the guest: every config of `dir`, printed in keepalived-tables.ts's marker format. */
function guestMain(dir: string): number {
  const ipvs = Ipvs.open();
  const out = (s: string): void => {
    process.stdout.write(s);
  };
  try {
    for (const f of readdirSync(dir)
      .filter((x) => x.endsWith(".conf"))
      .sort()) {
      const name = f.slice(0, -".conf".length);
      sh(["ipvsadm", "-C"]);
      sh(["ipvsadm", "--set", "900", "120", "300"]);
      const t0 = performance.now();
      let log: string[] = [];
      let err = "";
      try {
        log = programConfig(ipvs, join(dir, f));
      } catch (e) {
        err = (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).replace(/\n/g, " ");
      }
      const readyMs = Math.round(performance.now() - t0);
      out(`\n@@BEGIN ${name}\n@@TABLE\n${sh(["ipvsadm", "-Ln", "--sort"])}`);
      out(`@@THRESHOLDS\n${sh(["ipvsadm", "-Ln", "--thresholds"])}`);
      out(`@@TIMEOUT\n${sh(["ipvsadm", "-Ln", "--timeout"])}`);
      out(`@@SAVE\n${sh(["ipvsadm", "-Sn"])}`);
      const t1 = performance.now();
      ipvs.flush();
      const stopMs = Math.round(performance.now() - t1);
      out(`@@AFTER_STOP\n${sh(["ipvsadm", "-Ln"])}`);
      out(`@@LOG\n${log.map((l) => `${l}\n`).join("")}`);
      out(`@@END rc=0 ready_ms=${readyMs} stop_ms=${stopMs}${err ? ` error=${err}` : ""}\n`);
    }
  } finally {
    ipvs.close();
  }
  return 0;
}

/** The guest's /run.sh: keepalived-tables.ts's network setup, then one Bun process. */
export function agentGuestScript(): string {
  return `${tableGuestPrelude()}cd /app && /bin/bun test/vm/agent-tables.ts --guest /cfg\n`;
}

/** Boot the guest once and capture the tables the agent programs for `names`. */
export async function captureAgentTables(
  names: string[],
  opts: { timeoutS?: number } = {},
): Promise<CaptureRun> {
  const run = await bootGuest({
    tmpPrefix: "agent-tables-",
    script: agentGuestScript(),
    memMb: 1024,
    timeoutS: opts.timeoutS ?? 120,
    files: (dir) => [...bunAppFiles(["smol-toml"]), configFiles(dir, names)],
  });
  return { captures: parseConsole(run.console), ...run };
}

async function main(argv: string[]): Promise<number> {
  const g = argv.indexOf("--guest");
  if (g >= 0) return guestMain(argv[g + 1] ?? "/cfg");
  const all = listConfigs();
  const asked = argv.filter((a) => !a.startsWith("--"));
  const names = asked.length > 0 ? asked.filter((n) => all.includes(n)) : all;
  const run = await captureAgentTables(names);
  console.log(`guest: exit ${run.exitCode}, ${run.wallMs.toFixed(0)} ms`);
  if (run.captures.length !== names.length) console.log(run.console, run.stderr);
  for (const c of run.captures)
    console.log(`=== ${c.name}${c.error ? ` ERROR ${c.error}` : ""}\n${c.table}${c.log}`);
  return run.exitCode;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));

export { lineDiff };
