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
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HERE = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
export const CONFIG_DIR = join(HERE, "ipvs-configs");
export const TABLE_DIR = join(HERE, "ipvs-tables");
export const VM_SCRIPT = join(HERE, "ipvs-vm.sh");
export const KEEPALIVED = "/usr/sbin/keepalived";
/** The table must stay unchanged this long (polled every 100 ms) before it is captured. */
export const STABLE_MS = 1000;
/** Per config: Startup complete + ready-table + stability must happen within this bound. */
export const READY_BOUND_MS = 20_000;

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
 * The guest's /run.sh: configs in /cfg, keepalived at /usr/sbin/keepalived. Real servers are
 * on a local route (198.51.100.0/24 and 2001:db8:1::/64 on lo), so a TCP_CHECK to a port
 * nobody listens on fails at once with RST instead of a connect timeout.
 */
export function guestScript(): string {
  return `set -u
now_ms() { local t=\${EPOCHREALTIME/./}; echo $((t / 1000)); }
ip link add dummy0 type dummy && ip link set dummy0 up
ip addr add 192.0.2.1/24 dev dummy0
ip -6 addr add 2001:db8::1/64 dev dummy0 nodad || echo "warning: no IPv6 on dummy0"
ip route add local 198.51.100.0/24 dev lo
ip -6 route add local 2001:db8:1::/64 dev lo || echo "warning: no IPv6 local route"
for conf in /cfg/*.conf; do
  name=$(basename "$conf" .conf)
  ipvsadm -C; ipvsadm --set 900 120 300
  log=/tmp/$name.log
  t0=$(now_ms); deadline=$((t0 + ${READY_BOUND_MS})); err=""
  /usr/sbin/keepalived -n -l -D -G -C -f "$conf" -p "/run/k-$name.pid" -c "/run/c-$name.pid" >"$log" 2>&1 &
  kpid=$!
  until grep -q 'Startup complete' "$log"; do
    kill -0 $kpid 2>/dev/null || { err="keepalived exited before Startup complete"; break; }
    [ "$(now_ms)" -lt $deadline ] || { err="no Startup complete within ${READY_BOUND_MS} ms"; break; }
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
  t1=$(now_ms)
  kill -TERM $kpid 2>/dev/null
  for _ in $(seq 1 200); do kill -0 $kpid 2>/dev/null || break; sleep 0.05; done
  if kill -0 $kpid 2>/dev/null; then err="\${err:+$err; }no exit within 10 s of SIGTERM"; kill -KILL $kpid; fi
  wait $kpid 2>/dev/null
  stop_ms=$(( $(now_ms) - t1 ))
  printf '@@AFTER_STOP\\n'
  ipvsadm -Ln
  printf '@@LOG\\n'
  cat "$log"
  printf '@@END rc=0 ready_ms=%s stop_ms=%s%s\\n' "$ready_ms" "$stop_ms" "\${err:+ error=$err}"
done
`;
}

export interface CaptureRun {
  captures: Capture[];
  /** ipvs-vm.sh's exit status (the guest script's, or 124 on timeout). */
  exitCode: number;
  /** Whole boot + all configs + poweroff. */
  wallMs: number;
  console: string;
  stderr: string;
}

/** Boot the guest once and capture the tables keepalived programs for `names`. */
export async function captureTables(
  names: string[],
  opts: { timeoutS?: number; keepalived?: string } = {},
): Promise<CaptureRun> {
  const dir = mkdtempSync(join(tmpdir(), "keepalived-tables-"));
  try {
    const cfg = join(dir, "cfg");
    Bun.spawnSync(["mkdir", "-p", cfg]);
    for (const n of names)
      writeFileSync(join(cfg, `${n}.conf`), readFileSync(join(CONFIG_DIR, `${n}.conf`)));
    const script = join(dir, "run.sh");
    writeFileSync(script, guestScript());
    const t0 = performance.now();
    const proc = Bun.spawn(
      [
        "bash",
        VM_SCRIPT,
        "--timeout",
        String(opts.timeoutS ?? 150),
        script,
        `${opts.keepalived ?? KEEPALIVED}:/usr/sbin/keepalived`,
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
    return { captures: parseConsole(out), exitCode: code, wallMs, console: out, stderr: err };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
