/**
 * What every harness of test/vm shares when it boots the User-mode-Linux guest of
 * test/vm/ipvs-vm.sh: the FILE arguments (Bun and the repository's sources, the compiled agent
 * and the libnl libraries it dlopens, a directory of configs), one boot with stdout, stderr,
 * exit status and wall time collected and the temp dir removed, and the shell pieces of the
 * guest's /run.sh (clock, network setup, the per-config start / ready / stable / capture / stop
 * loop that keepalived-tables.ts and agent-daemon.ts run with different daemons).
 *
 * This file is also copied into the guest (test/vm → /app/test/vm): it imports only node:.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HERE = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
/** The repository root on the host. */
export const REPO = join(HERE, "..", "..");
export const VM_SCRIPT = join(HERE, "ipvs-vm.sh");
export const CONFIG_DIR = join(HERE, "ipvs-configs");
/** The table must stay unchanged this long (polled every 100 ms) before it is captured. */
export const STABLE_MS = 1000;
/** Per config: start + ready-table + stability must happen within this bound. */
export const READY_BOUND_MS = 20_000;

/** What one boot of the guest left behind. */
export interface GuestRun {
  /** ipvs-vm.sh's exit status (the guest script's, or 124 on timeout). */
  exitCode: number;
  /** Whole boot + guest script + poweroff. */
  wallMs: number;
  console: string;
  stderr: string;
}

export interface GuestBoot {
  /** mkdtemp prefix of the host-side temp dir (removed afterwards). */
  tmpPrefix: string;
  /** The guest's /run.sh. */
  script: string;
  /** ipvs-vm.sh --mem, MiB; its default when absent. */
  memMb?: number;
  timeoutS: number;
  /** ipvs-vm.sh FILE specs (SRC:DST); gets the temp dir to write inputs into. */
  files: (dir: string) => string[];
}

/** The argv of one ipvs-vm.sh run. */
export function vmCommand(script: string, boot: GuestBoot, files: readonly string[]): string[] {
  const mem = boot.memMb !== undefined ? ["--mem", String(boot.memMb)] : [];
  return ["bash", VM_SCRIPT, ...mem, "--timeout", String(boot.timeoutS), script, ...files];
}

/** Boot the guest once with `boot.script` as /run.sh; always removes the temp dir. */
export async function bootGuest(boot: GuestBoot): Promise<GuestRun> {
  const dir = mkdtempSync(join(tmpdir(), boot.tmpPrefix));
  try {
    const files = boot.files(dir);
    const script = join(dir, "run.sh");
    writeFileSync(script, boot.script);
    const t0 = performance.now();
    const proc = Bun.spawn(vmCommand(script, boot, files), { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { exitCode: code, wallMs: performance.now() - t0, console: out, stderr: err };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Copies test/vm/ipvs-configs/<name>.conf for `names` into dir/cfg; the FILE spec for /cfg. */
export function configFiles(dir: string, names: readonly string[]): string {
  const cfg = join(dir, "cfg");
  mkdirSync(cfg, { recursive: true });
  for (const n of names)
    writeFileSync(join(cfg, `${n}.conf`), readFileSync(join(CONFIG_DIR, `${n}.conf`)));
  return `${cfg}:/cfg`;
}

/**
 * FILE specs for running the repository's TypeScript under Bun in the guest (cwd /app):
 * this Bun as /bin/bun, src/, native/, test/vm/, and the named node_modules packages.
 */
export function bunAppFiles(modules: readonly string[] = []): string[] {
  return [
    `${process.execPath}:/bin/bun`,
    `${REPO}/src:/app/src`,
    `${REPO}/native:/app/native`,
    `${REPO}/test/vm:/app/test/vm`,
    ...modules.map((m) => `${REPO}/node_modules/${m}:/app/node_modules/${m}`),
  ];
}

/** The sonames native/libnl.ts and native/libnl-genl.ts dlopen. */
export const LIBNL_SONAMES = ["libnl-3.so.200", "libnl-genl-3.so.200", "libnl-route-3.so.200"];

/**
 * ipvs-vm.sh FILE specs (SRC:DST) that put each dlopen'd libnl where this host's loader finds
 * it (ldconfig's cache; Debian's multiarch directory if the cache does not say), at the same
 * path in the guest, whose loader searches the same built-in directories. ipvs-vm.sh's
 * ldd-based copy cannot see dlopen'd libraries.
 */
export function libnlFiles(): string[] {
  const cache = Bun.spawnSync(["ldconfig", "-p"], { stdout: "pipe", stderr: "ignore" });
  const listed = cache.stdout.toString();
  return LIBNL_SONAMES.map((so) => {
    const m = new RegExp(
      `^\\s*${so.replace(/\./g, "\\.")} \\(libc6,x86-64[^)]*\\) => (\\S+)$`,
      "m",
    ).exec(listed);
    const path = m?.[1] ?? join("/lib/x86_64-linux-gnu", so);
    return `${path}:${path}`;
  });
}

/** FILE specs for the compiled agent at /bin/agent, with the libnl libraries it dlopens. */
export function agentFiles(agent: string): string[] {
  return [`${agent}:/bin/agent`, ...libnlFiles()];
}

/** Shell: milliseconds since the epoch, from bash's EPOCHREALTIME (no fork). */
export const NOW_MS_SH = `now_ms() { local t=\${EPOCHREALTIME/./}; echo $((t / 1000)); }\n`;

/**
 * The start of the table harnesses' /run.sh: the clock, then real servers on a local route
 * (198.51.100.0/24 and 2001:db8:1::/64 on lo), so a TCP_CHECK to a port nobody listens on
 * fails at once with RST instead of a connect timeout.
 */
export function tableGuestPrelude(): string {
  return `set -u
${NOW_MS_SH}ip link add dummy0 type dummy && ip link set dummy0 up
ip addr add 192.0.2.1/24 dev dummy0
ip -6 addr add 2001:db8::1/64 dev dummy0 nodad || echo "warning: no IPv6 on dummy0"
ip route add local 198.51.100.0/24 dev lo
ip -6 route add local 2001:db8:1::/64 dev lo || echo "warning: no IPv6 local route"
`;
}

/** One daemon under test in the per-config loop of configLoop(). */
export interface LoopDaemon {
  /** Shell variable holding its PID. */
  pidVar: string;
  /** Lines run after `log=` is set, before the clock starts (indented two spaces). */
  prepare?: string;
  /** The command started in the background for "$conf", its output to "$log". */
  start: string;
  /** grep -q pattern in "$log" that says it has started. */
  started: string;
  /** err when it exits before that line. */
  exitedEarly: string;
  /** err when the line does not come within READY_BOUND_MS. */
  notStarted: string;
  /**
   * Printed after the four ipvsadm views (extra sections), before SIGTERM. With it,
   * @@AFTER_STOP starts with a blank line, since such a section need not end with a newline
   * (parseConsole ends a section at the next "\n@@"; normalizeTable drops blank lines).
   */
  afterCapture?: string;
  /** Whether a non-zero exit status after SIGTERM is an error. */
  checkExit?: boolean;
}

/**
 * Shell: for each /cfg/*.conf, reset IPVS (flush, default timeouts), start the daemon, wait for
 * its start line, the config's optional `# ready-table: REGEX`, then a table unchanged for
 * STABLE_MS; print the @@BEGIN / @@TABLE / @@THRESHOLDS / @@TIMEOUT / @@SAVE sections that
 * keepalived-tables.ts parseConsole reads; SIGTERM (10 s, then SIGKILL); @@AFTER_STOP, @@LOG,
 * @@END with the timings and any error.
 */
export function configLoop(d: LoopDaemon): string {
  const pid = `$${d.pidVar}`;
  const checkExit = d.checkExit
    ? `; arc=$?\n  [ "$arc" = 0 ] || err="\${err:+$err; }exit status $arc after SIGTERM"`
    : "";
  return `for conf in /cfg/*.conf; do
  name=$(basename "$conf" .conf)
  ipvsadm -C; ipvsadm --set 900 120 300
  log=/tmp/$name.log
${d.prepare ?? ""}  t0=$(now_ms); deadline=$((t0 + ${READY_BOUND_MS})); err=""
  ${d.start} >"$log" 2>&1 &
  ${d.pidVar}=$!
  until grep -q '${d.started}' "$log"; do
    kill -0 ${pid} 2>/dev/null || { err="${d.exitedEarly}"; break; }
    [ "$(now_ms)" -lt $deadline ] || { err="${d.notStarted}"; break; }
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
${d.afterCapture ?? ""}  t1=$(now_ms)
  kill -TERM ${pid} 2>/dev/null
  for _ in $(seq 1 200); do kill -0 ${pid} 2>/dev/null || break; sleep 0.05; done
  if kill -0 ${pid} 2>/dev/null; then err="\${err:+$err; }no exit within 10 s of SIGTERM"; kill -KILL ${pid}; fi
  wait ${pid} 2>/dev/null${checkExit}
  stop_ms=$(( $(now_ms) - t1 ))
  printf '${d.afterCapture ? "\\n" : ""}@@AFTER_STOP\\n'
  ipvsadm -Ln
  printf '@@LOG\\n'
  cat "$log"
  printf '@@END rc=0 ready_ms=%s stop_ms=%s%s\\n' "$ready_ms" "$stop_ms" "\${err:+ error=$err}"
done
`;
}
