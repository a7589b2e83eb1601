/**
 * What the IPVS benchmarks share: booting the User-mode-Linux guest of test/vm/ipvs-vm.sh
 * (1 vCPU, HZ=100; this machine's kernel has no IPVS) with a script and files, cutting its
 * console into marked sections, decoding the netlink traffic an nlmon device captured in
 * the guest, and the one listener process the checker benchmark runs inside the guest.
 *
 * This file imports nothing but node: modules, because it is also copied into the guest and
 * run there (`bun guest.ts --listen …`), where the repository's test helpers are absent.
 *
 * Netlink capture: `ip link add nlmon0 type nlmon` taps every netlink message the guest's
 * kernel sends or receives; tcpdump writes them as LINKTYPE_NETLINK (253) records, each a
 * 16-byte Linux-cooked header (protocol = the netlink family, 16 for generic netlink) and
 * then the message(s) of one skb. A request is a message with NLM_F_REQUEST set (uapi
 * linux/netlink.h); the kernel's answers and acks never carry it. The IPVS family's dynamic
 * id is learnt from the controller's answer (CTRL_ATTR_FAMILY_NAME "IPVS", uapi
 * linux/genetlink.h) to a probe (ipvsadm) the guest script makes at the start of a capture;
 * the id is fixed from module load to power-off. Checked against tshark's decoding.
 */
import { readFileSync } from "node:fs";

export const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const VM_SCRIPT = `${REPO}/test/vm/ipvs-vm.sh`;
export const KEEPALIVED = "/usr/sbin/keepalived";

// ─── the guest ──────────────────────────────────────────────────────────────────────────

export interface GuestRun {
  readonly console: string;
  readonly stderr: string;
  /** ipvs-vm.sh's status: the script's, 124 on timeout. */
  readonly exitCode: number;
  /** Boot + script + poweroff. */
  readonly wallMs: number;
}

export interface GuestOptions {
  /** The guest's /run.sh. */
  readonly script: string;
  /** `SRC:DST` pairs as ipvs-vm.sh takes them. */
  readonly files: readonly string[];
  readonly memMb?: number;
  readonly timeoutS?: number;
  readonly modules?: readonly string[];
  /** Each console line as it arrives (progress). */
  readonly onLine?: (line: string) => void;
}

/** Boots the guest once with `script` as /run.sh; resolves when it has powered off. */
export async function bootGuest(o: GuestOptions, scriptPath: string): Promise<GuestRun> {
  await Bun.write(scriptPath, o.script);
  const cmd = [
    "bash",
    VM_SCRIPT,
    ...["--mem", String(o.memMb ?? 1536), "--timeout", String(o.timeoutS ?? 900)],
    ...(o.modules?.length ? ["--modules", o.modules.join(",")] : []),
    scriptPath,
    ...o.files,
  ];
  const t0 = performance.now();
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const readOut = async (): Promise<string> => {
    let all = "";
    let pending = "";
    const dec = new TextDecoder();
    for await (const chunk of proc.stdout) {
      const s = dec.decode(chunk, { stream: true });
      all += s;
      pending += s;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) o.onLine?.(l);
    }
    return all;
  };
  const [out, err, code] = await Promise.all([
    readOut(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { console: out, stderr: err, exitCode: code, wallMs: performance.now() - t0 };
}

/** The text between `@@BEGIN tag` and `@@END tag` lines of the console, each occurrence. */
export function sections(out: string, tag: string): string[] {
  const res: string[] = [];
  const begin = `@@BEGIN ${tag}\n`;
  const end = `\n@@END ${tag}`;
  let at = out.indexOf(begin);
  while (at >= 0) {
    const from = at + begin.length;
    const to = out.indexOf(end, from - 1);
    if (to < 0) break;
    res.push(out.slice(from, Math.max(from, to)));
    at = out.indexOf(begin, to);
  }
  return res;
}

/** `key=value` pairs of every line starting with `@@tag ` in the console. */
export function records(out: string, tag: string): Record<string, string>[] {
  const res: Record<string, string>[] = [];
  for (const line of out.split("\n")) {
    if (!line.startsWith(`@@${tag} `)) continue;
    const r: Record<string, string> = {};
    for (const kv of line.slice(tag.length + 3).split(" ")) {
      const eq = kv.indexOf("=");
      if (eq > 0) r[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    res.push(r);
  }
  return res;
}

/**
 * Bash functions for guest scripts. In UML a fork costs tens of ms of the one vCPU, so what
 * runs inside a measurement loop forks nothing: `now` sets NOW (CLOCK_REALTIME, ms), `zz S`
 * sleeps on a FIFO (read -t), `ipvs_lines` sets LINES_IPVS to the line count of
 * /proc/net/ip_vs (3 header lines + one per service + one per destination). now_ms, cpu_ms
 * PID… (utime+stime, ms; USER_HZ is 100) and rss_kb PID print, for use outside loops.
 */
export const BASH_HELPERS = `
mkfifo /tmp/.zz && exec 9<>/tmp/.zz
zz() { read -r -t "$1" -u 9 _ || true; }
now() { NOW=\${EPOCHREALTIME/./}; NOW=$((NOW / 1000)); }
now_ms() { local t=\${EPOCHREALTIME/./}; echo $((t / 1000)); }
ipvs_lines() { mapfile -t _IPVS </proc/net/ip_vs; LINES_IPVS=\${#_IPVS[@]}; }
cpu_ms() {
  local sum=0 p line f
  for p in "$@"; do
    [ -r /proc/$p/stat ] || continue
    read -r line </proc/$p/stat
    f=(\${line##*) })
    sum=$((sum + (f[11] + f[12]) * 10))
  done
  echo $sum
}
rss_kb() { awk '/^VmRSS:/{print $2}' /proc/$1/status 2>/dev/null || echo 0; }
`;

// ─── netlink capture ────────────────────────────────────────────────────────────────────

const LINKTYPE_NETLINK = 253;
const NETLINK_GENERIC = 16;
const GENL_ID_CTRL = 0x10;
const CTRL_CMD_NEWFAMILY = 1;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;
const NLM_F_REQUEST = 0x1;
const COOKED_HEADER = 16;

export interface NlMessage {
  /** Capture time, epoch ms. */
  readonly tMs: number;
  /** The netlink family of the socket (16: generic). */
  readonly protocol: number;
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  /** The sender's port id (a request's is the user socket's). */
  readonly portId: number;
  /** Generic netlink command (first payload byte), if the message is long enough. */
  readonly cmd: number | undefined;
  readonly payload: Uint8Array;
}

/** Every netlink message of an nlmon pcap (classic pcap, µs or ns stamps). */
export function readNetlinkPcap(file: Uint8Array): NlMessage[] {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 24) throw new Error("not a pcap file: shorter than its header");
  const le = v.getUint32(0, true) === 0xa1b2c3d4 || v.getUint32(0, true) === 0xa1b23c4d;
  const magic = v.getUint32(0, le);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error("not a classic pcap file");
  const scale = magic === 0xa1b23c4d ? 1e-6 : 1e-3;
  const linkType = v.getUint32(20, le);
  if (linkType !== LINKTYPE_NETLINK) throw new Error(`pcap link type ${linkType}, not netlink`);
  const out: NlMessage[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const tMs = v.getUint32(at, le) * 1000 + v.getUint32(at + 4, le) * scale;
    const incl = v.getUint32(at + 8, le);
    const rec = at + 16;
    at = rec + incl;
    if (at > file.length || incl < COOKED_HEADER) continue;
    // Linux cooked header: the netlink family is its last field, big-endian.
    const protocol = v.getUint16(rec + 14, false);
    for (let m = rec + COOKED_HEADER; m + 16 <= rec + incl; ) {
      // nlmsghdr in host order (little-endian on x86-64).
      const len = v.getUint32(m, true);
      if (len < 16 || m + len > rec + incl) break;
      out.push({
        tMs,
        protocol,
        type: v.getUint16(m + 4, true),
        flags: v.getUint16(m + 6, true),
        seq: v.getUint32(m + 8, true),
        portId: v.getUint32(m + 12, true),
        cmd: len > 16 ? v.getUint8(m + 16) : undefined,
        payload: file.subarray(m + 16, m + len),
      });
      m += (len + 3) & ~3;
    }
  }
  return out;
}

/** The generic-netlink id of family `name`, from a controller answer in the capture. */
export function genlFamilyId(msgs: readonly NlMessage[], name: string): number | undefined {
  for (const m of msgs) {
    if (m.protocol !== NETLINK_GENERIC || m.type !== GENL_ID_CTRL) continue;
    if (m.cmd !== CTRL_CMD_NEWFAMILY) continue;
    let id: number | undefined;
    let fam: string | undefined;
    const p = m.payload;
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    for (let a = 4; a + 4 <= p.length; ) {
      const len = v.getUint16(a, true);
      const type = v.getUint16(a + 2, true) & 0x3fff;
      if (len < 4 || a + len > p.length) break;
      if (type === CTRL_ATTR_FAMILY_ID && len >= 6) id = v.getUint16(a + 4, true);
      if (type === CTRL_ATTR_FAMILY_NAME)
        fam = new TextDecoder().decode(p.subarray(a + 4, a + len)).replace(/\0+$/, "");
      a += (len + 3) & ~3;
    }
    if (fam === name && id !== undefined) return id;
  }
  return undefined;
}

/** IPVS generic-netlink commands (uapi linux/ip_vs.h), for readable counts. */
export const IPVS_CMD_NAMES: Record<number, string> = {
  1: "NEW_SERVICE",
  2: "SET_SERVICE",
  3: "DEL_SERVICE",
  4: "GET_SERVICE",
  5: "NEW_DEST",
  6: "SET_DEST",
  7: "DEL_DEST",
  8: "GET_DEST",
  9: "NEW_DAEMON",
  10: "DEL_DAEMON",
  11: "GET_DAEMON",
  12: "SET_CONFIG",
  13: "GET_CONFIG",
  14: "SET_INFO",
  15: "GET_INFO",
  16: "ZERO",
  17: "FLUSH",
};

export interface RequestCount {
  readonly total: number;
  /** By IPVS command name. */
  readonly byCmd: Record<string, number>;
  /** By the requesting socket's port id (0: the sender left it to the kernel). */
  readonly byPort: Record<string, number>;
  /** Generic-netlink requests of any family (the controller's too: family look-ups). */
  readonly allGenl: number;
  /** The first and the last IPVS request, ms after `fromMs` (null when there is none). */
  readonly firstAtMs: number | null;
  readonly lastAtMs: number | null;
}

/** The IPVS requests (NLM_F_REQUEST, the IPVS family) sent at or after `fromMs`. */
export function countIpvsRequests(
  msgs: readonly NlMessage[],
  ipvsFamily: number,
  fromMs: number,
): RequestCount {
  const byCmd: Record<string, number> = {};
  const byPort: Record<string, number> = {};
  let total = 0;
  let first: number | null = null;
  let last: number | null = null;
  let allGenl = 0;
  for (const m of msgs) {
    if (m.protocol !== NETLINK_GENERIC) continue;
    if ((m.flags & NLM_F_REQUEST) === 0 || m.tMs < fromMs) continue;
    allGenl++;
    if (m.type !== ipvsFamily) continue;
    total++;
    const at = Math.round((m.tMs - fromMs) * 1000) / 1000;
    first ??= at;
    last = at;
    const c = IPVS_CMD_NAMES[m.cmd ?? -1] ?? `cmd${m.cmd}`;
    byCmd[c] = (byCmd[c] ?? 0) + 1;
    byPort[String(m.portId)] = (byPort[String(m.portId)] ?? 0) + 1;
  }
  return { total, byCmd, byPort, allGenl, firstAtMs: first, lastAtMs: last };
}

/** A base64 section of the console as bytes. */
export function base64Section(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "base64"));
}

// ─── the checker benchmark's listener (runs in the guest) ───────────────────────────────

export interface Endpoint {
  readonly addr: string;
  readonly port: number;
}

/**
 * Lateness of periodic connects to one endpoint: gap − period for each pair of successive
 * connects; a gap over 1.5 periods counts round(gap/period) − 1 missed checks, one under
 * half a period a doubled check (and is left out of the lateness).
 */
export function gapStats(
  times: readonly number[],
  periodMs: number,
): { lateness: number[]; missed: number; doubled: number } {
  const lateness: number[] = [];
  let missed = 0;
  let doubled = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    if (gap < periodMs / 2) {
      doubled++;
      continue;
    }
    if (gap > 1.5 * periodMs) missed += Math.round(gap / periodMs) - 1;
    lateness.push(gap - periodMs);
  }
  return { lateness, missed, doubled };
}

export interface WindowSummary {
  readonly endpoints: number;
  /** Endpoints that saw no connection in the window. */
  readonly silent: number;
  readonly connects: number;
  readonly windowMs: number;
  /** gap − period over all endpoints, ms. */
  readonly lateness: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly gaps: number;
  readonly missed: number;
  readonly doubled: number;
}

/** Nearest-rank percentile of sorted `xs`. */
function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k] as number;
}

/** The summary of one window of connection stamps (one array per endpoint). */
export function summarizeWindow(
  stamps: readonly (readonly number[])[],
  periodMs: number,
  windowMs: number,
): WindowSummary {
  const late: number[] = [];
  let missed = 0;
  let doubled = 0;
  let connects = 0;
  let silent = 0;
  for (const xs of stamps) {
    connects += xs.length;
    if (xs.length === 0) silent++;
    const g = gapStats(xs, periodMs);
    for (const x of g.lateness) late.push(x);
    missed += g.missed;
    doubled += g.doubled;
  }
  late.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    endpoints: stamps.length,
    silent,
    connects,
    windowMs: r(windowMs),
    lateness: { p50: r(pct(late, 50)), p99: r(pct(late, 99)), max: r(late.at(-1) ?? Number.NaN) },
    gaps: late.length,
    missed,
    doubled,
  };
}

/**
 * The listener: accepts on every endpoint of `file` (one "addr port" a line), stamps each
 * connection with performance.now() (CLOCK_MONOTONIC) and closes it. SIGUSR1 prints the
 * summary of the stamps since the previous SIGUSR1 as one `@@WINDOW {json}` line and starts
 * a new window; SIGTERM exits. Work per connection is one push: the listener shares the
 * guest's one vCPU with the daemon it measures.
 */
export function listen(file: string, periodMs: number): void {
  const eps: Endpoint[] = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [addr, port] = l.trim().split(/\s+/);
      return { addr: addr ?? "", port: Number(port) };
    });
  let stamps: number[][] = eps.map(() => []);
  let t0 = performance.now();
  const servers = eps.map((ep, i) =>
    Bun.listen({
      hostname: ep.addr,
      port: ep.port,
      socket: {
        open(s) {
          stamps[i]?.push(performance.now());
          // A graceful close (FIN): an abortive one (terminate) can reach the checker as
          // ECONNRESET before it reads SO_ERROR, and keepalived then fails the check.
          s.end();
        },
        data() {},
        error() {},
      },
    }),
  );
  process.on("SIGUSR1", () => {
    const now = performance.now();
    const sum = summarizeWindow(stamps, periodMs, now - t0);
    stamps = eps.map(() => []);
    t0 = now;
    process.stdout.write(`@@WINDOW ${JSON.stringify(sum)}\n`);
  });
  process.on("SIGTERM", () => {
    for (const s of servers) s.stop(true);
    process.exit(0);
  });
  process.stdout.write(`@@LISTENING ${servers.length}\n`);
}

if (import.meta.main) {
  const a = process.argv.slice(2);
  if (a[0] === "--listen") listen(a[1] ?? "/cfg/endpoints", Number(a[2] ?? 1000));
}
