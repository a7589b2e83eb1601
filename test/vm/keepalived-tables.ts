/**
 * Reference IPVS tables: what keepalived 2.2.7 (Debian's /usr/sbin/keepalived) programs for
 * each test/vm/ipvs-configs/<name>.conf, captured as `ipvsadm -Ln --sort`, `ipvsadm -Ln
 * --thresholds`, the `ipvsadm -Ln --timeout` line and `ipvsadm -Sn` (save format: the tunnel
 * details that -L hides), inside the User-mode-Linux guest of test/vm/ipvs-vm.sh
 * (this machine's kernel has no IPVS). The golden files test/vm/ipvs-tables/<name>.txt are
 * what the agent must reproduce for the same config in the same guest (issue 6).
 *
 * One boot serves all configs: for each one the guest resets IPVS (flush, default timeouts),
 * starts `keepalived -n -C` (checker process only, no VRRP), waits for "Startup complete",
 * then for the optional `# ready-table: REGEX` line of the config to match `ipvsadm -Ln`
 * (configs whose checkers must fail first), then until the table has not changed for
 * STABLE_MS; captures it; sends SIGTERM and records what is left (keepalived removes its
 * services on stop, so that must be empty).
 *
 * Regenerate (root; needs the packages named in /work/shared/tools/README.md):
 *   ./node_modules/.bin/bun test/vm/keepalived-tables.ts            all configs
 *   ./node_modules/.bin/bun test/vm/keepalived-tables.ts nat tun    only these
 *   ./node_modules/.bin/bun test/vm/keepalived-tables.ts --check    compare, write nothing
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  bootGuest,
  CONFIG_DIR,
  configFiles,
  configLoop,
  type GuestRun,
  READY_BOUND_MS,
  STABLE_MS,
  tableGuestPrelude,
  VM_SCRIPT,
} from "./guest-run.ts";

export { CONFIG_DIR, READY_BOUND_MS, STABLE_MS, VM_SCRIPT };

const HERE = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
export const TABLE_DIR = join(HERE, "ipvs-tables");
export const KEEPALIVED = "/usr/sbin/keepalived";

/** The config names (file stems) in `dir`, sorted. */
export function listConfigs(dir: string = CONFIG_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".conf"))
    .map((f) => f.slice(0, -".conf".length))
    .sort();
}

export function goldenPath(name: string): string {
  return join(TABLE_DIR, `${name}.txt`);
}

export interface ConfigTest {
  name: string;
  /** keepalived -t exit status: 0 when it found no error. */
  code: number;
  /** Its messages (warnings and errors), one per line. */
  messages: string[];
}

/** `keepalived -t -f <conf>` on the host: the parser's verdict, no kernel needed. */
export function configTest(name: string, keepalived: string = KEEPALIVED): ConfigTest {
  const r = Bun.spawnSync([keepalived, "-t", "-f", join(CONFIG_DIR, `${name}.conf`)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const messages = `${r.stdout.toString()}${r.stderr.toString()}`
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return { name, code: r.exitCode ?? -1, messages };
}

/** Trailing blanks and empty lines dropped; one trailing newline. */
export function normalizeTable(raw: string): string {
  const lines = raw
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "");
  return `${lines.join("\n")}\n`;
}

/** Whether an `ipvsadm -Ln` listing holds any virtual service. */
export function hasServices(listing: string): boolean {
  return /^(TCP|UDP|SCTP|FWM) /m.test(listing);
}

export interface Capture {
  name: string;
  /**
   * Normalized `ipvsadm -Ln --sort`, `ipvsadm -Ln --thresholds`, the `ipvsadm -Ln --timeout`
   * line, then `ipvsadm -Sn` (the save format shows tunnel type, port and checksum flags,
   * which -L leaves out; ipvsadm 1.31 shows thresholds only with --thresholds).
   */
  table: string;
  /** Empty table after SIGTERM: what `ipvsadm -Ln` shows then, normalized. */
  afterStop: string;
  /** Why the guest gave up on this config (keepalived died, a bound passed), if it did. */
  error?: string;
  /** Start of keepalived to the captured table (includes STABLE_MS). */
  readyMs: number;
  /** SIGTERM to keepalived's exit. */
  stopMs: number;
  /** keepalived's console log for this config. */
  log: string;
}

/** Sections of the guest's console, between the markers guestScript() prints. */
export function parseConsole(out: string): Capture[] {
  const caps: Capture[] = [];
  for (const block of out.split("\n@@BEGIN ").slice(1)) {
    const name = block.slice(0, block.indexOf("\n"));
    const section = (tag: string): string => {
      const start = block.indexOf(`\n@@${tag}\n`);
      if (start < 0) return "";
      const body = block.slice(start + tag.length + 4);
      const next = body.indexOf("\n@@");
      return next < 0 ? body : body.slice(0, next + 1);
    };
    const end = /\n@@END rc=(\d+) ready_ms=(\d+) stop_ms=(\d+)(?: error=(.*))?/.exec(block);
    const cap: Capture = {
      name,
      table: normalizeTable(["TABLE", "THRESHOLDS", "TIMEOUT", "SAVE"].map(section).join("")),
      afterStop: normalizeTable(section("AFTER_STOP")),
      readyMs: Number(end?.[2] ?? -1),
      stopMs: Number(end?.[3] ?? -1),
      log: section("LOG"),
    };
    if (!end) cap.error = "the guest did not finish this config";
    else if (end[4]) cap.error = end[4];
    caps.push(cap);
  }
  return caps;
}

/**
 * The guest's /run.sh: configs in /cfg, keepalived at /usr/sbin/keepalived, checker process
 * only (-C), in the foreground (-n), detailed log to the console, not syslog (-l -D -G).
 */
export function guestScript(): string {
  return `${tableGuestPrelude()}${configLoop({
    pidVar: "kpid",
    start:
      '/usr/sbin/keepalived -n -l -D -G -C -f "$conf" -p "/run/k-$name.pid" -c "/run/c-$name.pid"',
    started: "Startup complete",
    exitedEarly: "keepalived exited before Startup complete",
    notStarted: `no Startup complete within ${READY_BOUND_MS} ms`,
  })}`;
}

export interface CaptureRun extends GuestRun {
  captures: Capture[];
}

/** Boot the guest once and capture the tables keepalived programs for `names`. */
export async function captureTables(
  names: string[],
  opts: { timeoutS?: number; keepalived?: string } = {},
): Promise<CaptureRun> {
  const run = await bootGuest({
    tmpPrefix: "keepalived-tables-",
    script: guestScript(),
    timeoutS: opts.timeoutS ?? 150,
    files: (dir) => [
      `${opts.keepalived ?? KEEPALIVED}:/usr/sbin/keepalived`,
      configFiles(dir, names),
    ],
  });
  return { captures: parseConsole(run.console), ...run };
}

/** Lines only in `want` (-) or only in `got` (+), for a readable failure. */
export function lineDiff(want: string, got: string): string[] {
  const w = want.split("\n");
  const g = got.split("\n");
  return [
    ...w.filter((l) => !g.includes(l)).map((l) => `- ${l}`),
    ...g.filter((l) => !w.includes(l)).map((l) => `+ ${l}`),
  ];
}

/** A capture against its golden file: whether it is identical, else the differing lines. */
export function goldenCompare(c: Capture): {
  name: string;
  error: string | undefined;
  identical: boolean;
  differences: string[];
} {
  const path = goldenPath(c.name);
  const want = existsSync(path) ? readFileSync(path, "utf8") : "(missing)\n";
  return {
    name: c.name,
    error: c.error,
    identical: c.table === want,
    differences: lineDiff(want, c.table),
  };
}

/** goldenCompare's verdict for a capture identical to its golden file. */
export function goldenMatch(name: string): ReturnType<typeof goldenCompare> {
  return { name, error: undefined, identical: true, differences: [] };
}

/**
 * The guest's exit status and the configs it reported, in order, for one expect(); prints the
 * console when either is off (the reason is usually there).
 */
export function runOutline(
  run: CaptureRun,
  names: readonly string[],
): { exitCode: number; names: string[] } {
  const got = run.captures.map((c) => c.name);
  if (run.exitCode !== 0 || got.length !== names.length) console.log(run.console, run.stderr);
  return { exitCode: run.exitCode, names: got };
}

/** Why the guest cannot be prepared here (packages, kernel download), or undefined. */
export function guestSetupProblem(): string | undefined {
  const r = Bun.spawnSync(["bash", VM_SCRIPT, "--setup"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode === 0) return undefined;
  const lines = r.stderr.toString().trim().split("\n");
  return `the IPVS guest cannot be set up (ipvs-vm.sh --setup exit ${r.exitCode}: ${lines.at(-1) ?? ""})`;
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  const asked = argv.filter((a) => !a.startsWith("--"));
  const all = listConfigs();
  const unknown = asked.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    console.error(`no such config: ${unknown.join(", ")} (have: ${all.join(", ")})`);
    return 2;
  }
  const names = asked.length > 0 ? asked : all;
  let bad = 0;
  for (const n of names) {
    const t = configTest(n);
    for (const m of t.messages) console.log(`keepalived -t ${n}: ${m}`);
    if (t.code !== 0) bad++;
  }
  if (bad > 0) return 1;
  const run = await captureTables(names);
  console.log(
    `guest: exit ${run.exitCode}, ${run.wallMs.toFixed(0)} ms for ${names.length} configs`,
  );
  for (const n of names) {
    const c = run.captures.find((x) => x.name === n);
    if (!c || c.error) {
      console.error(`${n}: ${c?.error ?? "no capture"}\n${c?.log ?? run.console}`);
      bad++;
      continue;
    }
    const unknownKw = c.log.split("\n").filter((l) => /Unknown keyword|error/i.test(l));
    for (const l of unknownKw) console.log(`${n}: keepalived said: ${l.trim()}`);
    const leftover = hasServices(c.afterStop) ? " LEFTOVER after SIGTERM" : "";
    console.log(`${n}: ready ${c.readyMs} ms, stop ${c.stopMs} ms${leftover}`);
    const path = goldenPath(n);
    if (check) {
      const want = existsSync(path) ? readFileSync(path, "utf8") : "(missing)\n";
      if (want !== c.table) {
        console.log(`${n}: DIFFERS from ${path}\n--- golden\n${want}--- now\n${c.table}`);
        bad++;
      }
    } else {
      writeFileSync(path, c.table);
    }
  }
  return bad === 0 && run.exitCode === 0 ? 0 : 1;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
