/**
 * The kernel's IPVS traffic counters, read through src/io/ipvs-counters.ts readCounters in the
 * User-mode-Linux guest of test/vm/ipvs-vm.sh, beside what `ipvsadm -Ln --stats --exact` and
 * `ipvsadm -Ln --rate --exact` print for the same table.
 *
 * Traffic: IPVS also schedules locally generated connections (its LOCAL_OUT hook,
 * net/netfilter/ipvs/ip_vs_core.c ip_vs_local_request4), so one guest needs no namespace: a Bun
 * client connects to the VIP 192.0.2.1 (on dummy0), IPVS masquerades to the real server
 * 198.51.100.1 (a local route on lo) where a Bun listener counts what arrives. The listener
 * takes port 0 and the service uses the same port number. A second real server with weight 0
 * must stay at zero: the counters are per destination, not copies of the service's.
 *
 * The kernel folds its per-CPU counters into the dumped ones only when its estimator runs
 * (every 2 s, net/netfilter/ipvs/ip_vs_est.c), so the guest waits, with a bound, for the
 * connection count to reach N; then it samples readCounters, ipvsadm, readCounters again and
 * keeps the sample only when both reads agree, so ipvsadm saw the same estimator period.
 *
 *   (host)  ./node_modules/.bin/bun test/vm/ipvs-counters.ts     boot the guest, print the result
 *           ./node_modules/.bin/bun test/vm/ipvs-counters.ts --capture   and the raw dumps (hex)
 *   (guest) bun test/vm/ipvs-counters.ts --guest [--capture]
 */
import { GenlSocket } from "../../native/libnl-genl.ts";
import {
  encodeRequest,
  IPVS_GENL_NAME,
  type IpvsRequest,
  req,
} from "../../src/core/ipvs/genl-msg.ts";
import { splitMessages } from "../../src/core/ipvs/nlattr.ts";
import {
  AF_INET,
  IPPROTO_TCP,
  type IpvsDest,
  type IpvsService,
} from "../../src/core/ipvs/types.ts";
import { Ipvs } from "../../src/io/ipvs.ts";
import { type IpvsCounterTable, readCounters } from "../../src/io/ipvs-counters.ts";
import { bootGuest, bunAppFiles, type GuestRun } from "./guest-run.ts";

export const VIP = "192.0.2.1";
export const RS = "198.51.100.1";
/** A real server with weight 0: scheduled nothing, so its counters must stay 0. */
export const RS_IDLE = "198.51.100.2";
/** Client → server payload per connection, bytes: one connection each. */
export const PAYLOADS = [100, 1000, 3000, 10, 20000];
/** Server → client reply per connection, bytes. */
export const REPLY_BYTES = 64;
/** The estimator runs every 2 s; allow several periods under UML. */
export const COUNT_BOUND_MS = 12_000;
export const SAMPLE_TRIES = 8;

/** readCounters' table as JSON (Maps become objects). */
export type CounterJson = Record<
  string,
  { stats?: Record<string, number>; dests: Record<string, Record<string, unknown>> }
>;

export function counterJson(t: IpvsCounterTable): CounterJson {
  const out: CounterJson = {};
  for (const [k, s] of t)
    out[k] = {
      ...(s.stats ? { stats: { ...s.stats } } : {}),
      dests: Object.fromEntries([...s.dests].map(([dk, d]) => [dk, { ...d }])),
    };
  return out;
}

/** One row of an ipvsadm listing: the numbers after the address, by column. */
export interface IpvsadmRow {
  readonly values: readonly number[];
}
export interface IpvsadmService extends IpvsadmRow {
  readonly dests: ReadonlyMap<string, IpvsadmRow>;
}

/** "192.0.2.1:80" or "[2001:db8::1]:53" → table.ts's "addr|port" parts. */
function addrPort(s: string): { addr: string; port: number; af: 4 | 6 } | undefined {
  const m = /^\[([0-9a-f:.]+)\]:(\d+)$/i.exec(s) ?? /^([0-9.]+):(\d+)$/.exec(s);
  if (!m?.[1] || !m[2]) return undefined;
  return { addr: m[1], port: Number(m[2]), af: m[1].includes(":") ? 6 : 4 };
}

/**
 * `ipvsadm -Ln --stats --exact`, `--rate --exact` or plain `-Ln` as serviceKey → numbers, and
 * per service destKey → numbers (the numeric columns after the address; for `-Ln`, Weight,
 * ActiveConn, InActConn). Keys are table.ts's, so the result compares with readCounters'.
 */
export function parseIpvsadm(text: string): Map<string, IpvsadmService> {
  const out = new Map<string, IpvsadmService>();
  let dests: Map<string, IpvsadmRow> | undefined;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const nums = (from: number) =>
      f
        .slice(from)
        .filter((x) => /^\d+$/.test(x))
        .map(Number);
    if (f[0] === "->") {
      const ap = addrPort(f[1] ?? "");
      if (ap && dests) dests.set(`${ap.addr}|${ap.port}`, { values: nums(2) });
      continue;
    }
    const proto = f[0];
    if (proto === "FWM") {
      const af = f.includes("IPv6") ? 6 : 4;
      dests = new Map();
      out.set(`${af}|fwmark|${f[1]}`, { values: nums(2), dests });
    } else if (proto === "TCP" || proto === "UDP" || proto === "SCTP") {
      const ap = addrPort(f[1] ?? "");
      if (!ap) continue;
      dests = new Map();
      out.set(`${ap.af}|${proto}|${ap.addr}|${ap.port}`, { values: nums(2), dests });
    }
  }
  return out;
}

export interface GuestResult {
  port: number;
  /** Bytes the listener received, and connections it accepted. */
  received: number;
  accepted: number;
  /** Polls until the service and the dest both showed conns = N. */
  waitMs: number;
  attempts: number;
  before: CounterJson;
  after: CounterJson;
  stats: string;
  rate: string;
  list: string;
  /** GET_DEST of a service that does not exist: the kernel ends the dump empty. */
  goneDests: number;
  /** With --capture: the raw dumps taken with `stats` (genlmsghdr + attributes, hex). */
  raw?: { services: string[]; dests: string[] };
  error?: string;
}

function sh(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return `${r.stdout.toString()}${r.stderr.toString()}`;
}

const dotted = (s: string): Uint8Array => Uint8Array.from(s.split(".").map(Number));

/** One connection through the VIP: send `size` bytes, read the reply, close. */
async function oneConnection(port: number, size: number, boundMs: number): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  let got = 0;
  const timer = setTimeout(() => reject(new Error(`no reply within ${boundMs} ms`)), boundMs);
  await Bun.connect({
    hostname: VIP,
    port,
    socket: {
      open(s) {
        s.write(new Uint8Array(size).fill(0x61));
      },
      data(s, d) {
        got += d.length;
        if (got >= REPLY_BYTES) s.end();
      },
      close() {
        clearTimeout(timer);
        if (got >= REPLY_BYTES) resolve();
        else reject(new Error(`closed after ${got} reply bytes`));
      },
      error(_s, e) {
        clearTimeout(timer);
        reject(e);
      },
    },
  });
  return promise;
}

/** Waits, with a bound, for `done` over fresh reads; returns the elapsed time. */
async function until(ipvs: Ipvs, done: (t: IpvsCounterTable) => boolean): Promise<number> {
  const t0 = performance.now();
  while (!done(readCounters(ipvs))) {
    if (performance.now() - t0 > COUNT_BOUND_MS)
      throw new Error(`counters did not reach the connection count in ${COUNT_BOUND_MS} ms`);
    await Bun.sleep(100); // polling the kernel: the estimator gives no event to wait on
  }
  return performance.now() - t0;
}

/**
 * The genl payloads (hex, after the genlmsghdr's 16-byte nlmsghdr) of a GET_SERVICE dump and a
 * GET_DEST dump of `svc`: a capture for the decoder's golden tests (`--capture`).
 */
function rawDumps(svc: IpvsService): { services: string[]; dests: string[] } {
  const sock = GenlSocket.open();
  try {
    const family = sock.resolve(IPVS_GENL_NAME);
    const buf = new Uint8Array(1 << 16);
    const dump = (r: IpvsRequest, seq: number): string[] => {
      sock.send(encodeRequest(r, family, seq));
      const out: string[] = [];
      const deadline = performance.now() + 5000;
      for (;;)
        for (const m of splitMessages(sock.receive(buf, deadline))) {
          if (m.kind === "genl")
            out.push(Buffer.from([m.cmd, 1, 0, 0, ...m.attrs]).toString("hex"));
          else return out;
        }
    };
    return { services: dump(req.dumpServices(), 1), dests: dump(req.dumpDests(svc.key), 2) };
  } finally {
    sock.close();
  }
}

/** The real server: counts what arrives, replies REPLY_BYTES once a payload is complete. */
function startListener() {
  const seen = { received: 0, accepted: 0 };
  const server = Bun.listen<{ n: number; want: number }>({
    hostname: RS,
    port: 0,
    socket: {
      open(s) {
        // Connections come one at a time, so the n-th one carries PAYLOADS[n].
        s.data = { n: 0, want: PAYLOADS[seen.accepted] ?? 0 };
        seen.accepted++;
      },
      data(s, d) {
        seen.received += d.length;
        const before = s.data.n;
        s.data.n += d.length;
        if (before < s.data.want && s.data.n >= s.data.want)
          s.write(new Uint8Array(REPLY_BYTES).fill(0x62));
      },
    },
  });
  return { server, seen };
}

/** NAT service VIP:port with RS:port (weight 1) and RS_IDLE:port (weight 0). */
function programTable(ipvs: Ipvs, port: number): IpvsService {
  const svc: IpvsService = {
    key: { af: AF_INET, protocol: IPPROTO_TCP, addr: dotted(VIP), port },
    scheduler: "wrr",
    flags: {},
    timeoutS: 0,
    netmask: 0xffffffff,
  };
  const dest = (addr: string, weight: number): IpvsDest => ({
    af: AF_INET,
    addr: dotted(addr),
    port,
    fwd: "nat",
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
  });
  ipvs.flush();
  ipvs.addService(svc);
  ipvs.addDest(svc, dest(RS, 1));
  ipvs.addDest(svc, dest(RS_IDLE, 0));
  return svc;
}

type Sample = Pick<
  GuestResult,
  "attempts" | "before" | "after" | "stats" | "rate" | "list" | "raw"
>;

/** readCounters, ipvsadm, readCounters: until both reads agree (one estimator period). */
function sample(ipvs: Ipvs, svc: IpvsService, capture: boolean): Sample {
  for (let attempts = 1; ; attempts++) {
    const raw = capture ? rawDumps(svc) : undefined;
    const before = counterJson(readCounters(ipvs));
    const stats = sh(["ipvsadm", "-Ln", "--stats", "--exact"]);
    const rate = sh(["ipvsadm", "-Ln", "--rate", "--exact"]);
    const list = sh(["ipvsadm", "-Ln"]);
    const after = counterJson(readCounters(ipvs));
    const rawAfter = capture ? rawDumps(svc) : undefined;
    const same =
      JSON.stringify(after) === JSON.stringify(before) &&
      JSON.stringify(raw) === JSON.stringify(rawAfter);
    if (same || attempts >= SAMPLE_TRIES)
      return { attempts, before, after, stats, rate, list, ...(raw ? { raw } : {}) };
  }
}

async function guestMain(capture = false): Promise<GuestResult> {
  const { server, seen } = startListener();
  const port = server.port;
  const ipvs = Ipvs.open();
  try {
    const svc = programTable(ipvs, port);
    for (const size of PAYLOADS) await oneConnection(port, size, 5000);
    const n = PAYLOADS.length;
    const sk = `4|TCP|${VIP}|${port}`;
    const dk = `${RS}|${port}`;
    const waitMs = await until(
      ipvs,
      (t) => t.get(sk)?.stats?.conns === n && t.get(sk)?.dests.get(dk)?.stats?.conns === n,
    );
    const s = sample(ipvs, svc, capture);
    const gone = ipvs.destsWithStats({ ...svc.key, port: port === 1 ? 2 : port - 1 });
    return { port, ...seen, waitMs, ...s, goneDests: gone.length };
  } finally {
    ipvs.flush();
    ipvs.close();
    server.stop(true);
  }
}

/** The guest's /run.sh: addresses, then one Bun process. */
export function guestScript(capture = false): string {
  return `set -u
ip link add dummy0 type dummy && ip link set dummy0 up
ip addr add ${VIP}/24 dev dummy0
ip route replace local 198.51.100.0/24 dev lo
cd /app && /bin/bun test/vm/ipvs-counters.ts --guest${capture ? " --capture" : ""}
`;
}

export interface HostRun extends GuestRun {
  result?: GuestResult;
}

/** Boot the guest once and run guestMain in it. */
export async function runGuest(
  opts: { timeoutS?: number; capture?: boolean } = {},
): Promise<HostRun> {
  const run = await bootGuest({
    tmpPrefix: "ipvs-counters-",
    script: guestScript(opts.capture),
    memMb: 1024,
    timeoutS: opts.timeoutS ?? 60,
    files: () => bunAppFiles(),
  });
  const line = run.console.split("\n").find((l) => l.startsWith("IPVS_COUNTERS "));
  const result = line
    ? (JSON.parse(line.slice("IPVS_COUNTERS ".length)) as GuestResult)
    : undefined;
  return { ...(result ? { result } : {}), ...run };
}

if (import.meta.main) {
  if (process.argv.includes("--guest")) {
    try {
      const r = await guestMain(process.argv.includes("--capture"));
      console.log(`IPVS_COUNTERS ${JSON.stringify(r)}`);
    } catch (e) {
      console.log(
        `IPVS_COUNTERS ${JSON.stringify({ error: e instanceof Error ? e.stack : String(e) })}`,
      );
      process.exit(1);
    }
  } else {
    const r = await runGuest({ capture: process.argv.includes("--capture") });
    console.log(r.console, r.stderr);
    console.log(`guest: exit ${r.exitCode}, ${r.wallMs.toFixed(0)} ms`);
    process.exit(r.exitCode);
  }
}
