/**
 * What the tests observe, as lists of events they can wait on with a bound:
 *   Events       a list that only grows, and promises on what it will hold;
 *   AddrMonitor  `ip -ts monitor address` in a host: VIPs added and deleted, kernel-stamped;
 *   Capture      tshark on the lab's bridge: one process both writes a pcap (for `tshark -r
 *                -V` afterwards) and prints one line per frame as it arrives (-P -l -T
 *                fields), so a test can wait for a frame and, once stopped, check that every
 *                advert sent decodes cleanly. Only VRRP (IPv4 protocol 112, IPv6 next header
 *                112), ARP and ICMPv6 are captured.
 */
import { run } from "./env.ts";
import type { Lab, Line, Proc } from "./lab.ts";

// ─── events ────────────────────────────────────────────────────────────────────────────

interface Waiter<T> {
  readonly pred: (x: T) => boolean;
  readonly resolve: (x: T) => void;
  readonly reject: (e: Error) => void;
}

/**
 * A list that only grows (log lines, address events, frames) and promises on what it will
 * hold. `mark` is the index the next item gets: wait `from` a mark to see only what
 * happened after an action.
 */
export class Events<T> {
  readonly items: T[] = [];
  private waiters: Waiter<T>[] = [];
  private readonly listeners: ((x: T) => void)[] = [];
  private ended: string | undefined;

  constructor(
    readonly what: string,
    private readonly show: (x: T) => string,
  ) {}

  get mark(): number {
    return this.items.length;
  }

  push(x: T): void {
    this.items.push(x);
    for (const fn of this.listeners) fn(x);
    const hit = this.waiters.filter((w) => w.pred(x));
    this.waiters = this.waiters.filter((w) => !hit.includes(w));
    for (const w of hit) w.resolve(x);
  }

  /** Calls `fn` with every item pushed from now on. */
  subscribe(fn: (x: T) => void): void {
    this.listeners.push(fn);
  }

  /** No more items will come (the process exited): pending waits fail now, not at their bound. */
  end(reason: string): void {
    this.ended = reason;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(new Error(reason));
  }

  find(pred: (x: T) => boolean, from = 0): T | undefined {
    return this.items.slice(from).find(pred);
  }

  filter(pred: (x: T) => boolean, from = 0): T[] {
    return this.items.slice(from).filter(pred);
  }

  /** The first item at index ≥ `from` that satisfies `pred`, already there or still to come. */
  waitFor(pred: (x: T) => boolean, timeoutMs: number, what: string, from = 0): Promise<T> {
    const seen = this.find(pred, from);
    if (seen !== undefined) return Promise.resolve(seen);
    return this.wait(pred, timeoutMs, what, from);
  }

  /** Waits until `n` items from `from` on satisfy `pred`; resolves with those `n`. */
  async waitCount(
    pred: (x: T) => boolean,
    n: number,
    timeoutMs: number,
    what: string,
    from = 0,
  ): Promise<T[]> {
    let count = this.filter(pred, from).length;
    if (count < n)
      await this.wait((x) => pred(x) && ++count >= n, timeoutMs, `${n} × ${what}`, from);
    return this.filter(pred, from).slice(0, n);
  }

  /** Waits for a new item only (those already there were checked); failures show from `from`. */
  private wait(pred: (x: T) => boolean, timeoutMs: number, what: string, from: number): Promise<T> {
    if (this.ended !== undefined)
      return Promise.reject(new Error(this.failure(`no ${what}: ${this.ended}`, from)));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(this.failure(`no ${what} within ${timeoutMs} ms`, from)));
      }, timeoutMs);
      const waiter: Waiter<T> = {
        pred,
        resolve: (x) => {
          clearTimeout(timer);
          resolve(x);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(new Error(this.failure(`no ${what}: ${e.message}`, from)));
        },
      };
      this.waiters.push(waiter);
    });
  }

  private failure(why: string, from: number): string {
    const tail = this.items.slice(Math.max(from, this.items.length - 40));
    const skipped = Math.max(0, this.items.length - from - tail.length);
    return `${this.what}: ${why}; saw ${this.items.length - from} item(s) since the mark${
      skipped ? ` (first ${skipped} not shown)` : ""
    }:\n${tail.map((x) => `  ${this.show(x)}`).join("\n")}`;
  }
}

// ─── address events ────────────────────────────────────────────────────────────────────

export interface AddrEvent {
  /** Kernel event time as stamped by `ip -ts`, epoch ms. */
  readonly t: number;
  readonly deleted: boolean;
  readonly dev: string;
  readonly family: 4 | 6;
  /** With its prefix length: 192.0.2.100/24. */
  readonly address: string;
}

/** `ip -ts` stamps local time without a zone, to the microsecond: [2026-01-01T00:00:00.123456]. */
function parseIpTs(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?$/.exec(s);
  if (!m) return Number.NaN;
  return new Date(m[1] as string).getTime() + Number(m[2] ?? 0) * 1000;
}

/** `ip -n NS -ts monitor address`: every address added or deleted in one namespace. */
export class AddrMonitor {
  readonly events = new Events<AddrEvent>(
    "address events",
    (e) => `${new Date(e.t).toISOString()} ${e.deleted ? "Deleted " : ""}${e.dev} ${e.address}`,
  );

  constructor(readonly proc: Proc) {
    const parse = (l: Line) => {
      const m = /^\[([^\]]+)\] (Deleted )?\d+: (\S+)\s+inet(6?) (\S+)/.exec(l.text);
      if (!m) return;
      this.events.push({
        t: parseIpTs(m[1] as string),
        deleted: m[2] !== undefined,
        dev: m[3] as string,
        family: m[4] === "6" ? 6 : 4,
        address: m[5] as string,
      });
    };
    for (const l of proc.lines.items) parse(l);
    proc.lines.subscribe(parse);
    void proc.exited.then(() => this.events.end(`${proc.name} exited`));
  }

  /** `addr` (without a prefix length) added on `dev`, at or after mark `from`. */
  added(addr: string, timeoutMs: number, from = 0, dev?: string): Promise<AddrEvent> {
    return this.events.waitFor(
      (e) => !e.deleted && e.address.split("/")[0] === addr && (dev === undefined || e.dev === dev),
      timeoutMs,
      `${addr} added`,
      from,
    );
  }

  deleted(addr: string, timeoutMs: number, from = 0, dev?: string): Promise<AddrEvent> {
    return this.events.waitFor(
      (e) => e.deleted && e.address.split("/")[0] === addr && (dev === undefined || e.dev === dev),
      timeoutMs,
      `${addr} deleted`,
      from,
    );
  }

  /** Every add/delete of `addr` since mark `from`. */
  of(addr: string, from = 0): AddrEvent[] {
    return this.events.filter((e) => e.address.split("/")[0] === addr, from);
  }
}

// ─── tshark ─────────────────────────────────────────────────────────────────────────────

export interface Vrrp {
  readonly version: number;
  readonly vrid: number;
  readonly prio: number;
}

export interface Frame {
  readonly n: number;
  /** Capture time, epoch ms. */
  readonly t: number;
  readonly ethSrc: string;
  readonly ethDst: string;
  /** IPv4 or IPv6 source / destination ("" for ARP). */
  readonly src: string;
  readonly dst: string;
  /** TTL or hop limit. */
  readonly ttl: number | undefined;
  readonly vrrp: Vrrp | undefined;
  /** An ARP frame: opcode, sender MAC and IP, target IP. */
  readonly arp: { op: number; senderMac: string; senderIp: string; targetIp: string } | undefined;
  /** An ICMPv6 neighbour advertisement: its target. */
  readonly na: { target: string; override: boolean } | undefined;
}

const FIELDS = [
  "frame.number",
  "frame.time_epoch",
  "eth.src",
  "eth.dst",
  "ip.src",
  "ip.dst",
  "ipv6.src",
  "ipv6.dst",
  "ip.ttl",
  "ipv6.hlim",
  "vrrp.version",
  "vrrp.virt_rtr_id",
  "vrrp.prio",
  "arp.opcode",
  "arp.src.hw_mac",
  "arp.src.proto_ipv4",
  "arp.dst.proto_ipv4",
  "icmpv6.type",
  "icmpv6.nd.na.target_address",
  "icmpv6.nd.na.flag.o",
] as const;

function parseFrame(line: string): Frame | undefined {
  const f = line.split("\t");
  if (f.length < FIELDS.length || !/^\d+$/.test(f[0] ?? "")) return undefined;
  const at = (i: number) => f[i] ?? "";
  const num = (i: number) => (at(i) === "" ? undefined : Number(at(i).split(",")[0]));
  const vrrp =
    at(10) === ""
      ? undefined
      : { version: Number(at(10)), vrid: Number(at(11)), prio: Number(at(12)) };
  const arp =
    at(13) === ""
      ? undefined
      : { op: Number(at(13)), senderMac: at(14), senderIp: at(15), targetIp: at(16) };
  const na =
    at(17) === "136"
      ? { target: at(18), override: at(19) === "1" || at(19) === "True" }
      : undefined;
  return {
    n: Number(at(0)),
    t: Number(at(1)) * 1000,
    ethSrc: at(2),
    ethDst: at(3),
    src: at(4) || at(6),
    dst: at(5) || at(7),
    ttl: num(8) ?? num(9),
    vrrp,
    arp,
    na,
  };
}

export const showFrame = (f: Frame): string =>
  `#${f.n} ${new Date(f.t).toISOString()} ${f.ethSrc} > ${f.ethDst} ${f.src} > ${f.dst} ${
    f.vrrp
      ? `VRRPv${f.vrrp.version} vrid ${f.vrrp.vrid} prio ${f.vrrp.prio} ttl ${f.ttl}`
      : f.arp
        ? `ARP op ${f.arp.op} ${f.arp.senderIp} is-at ${f.arp.senderMac} (target ${f.arp.targetIp})`
        : f.na
          ? `NA ${f.na.target}${f.na.override ? " O" : ""}`
          : "other"
  }`;

/** A display filter for frames sent from one of `macs`. */
export const fromMacs = (macs: readonly string[]): string =>
  macs.map((m) => `eth.src == ${m}`).join(" || ");

/** A display filter for packets sent from one of `addrs` (IPv4 or IPv6). */
export const fromAddresses = (addrs: readonly string[]): string =>
  addrs.map((a) => (a.includes(":") ? `ipv6.src == ${a}` : `ip.src == ${a}`)).join(" || ");

export interface DecodeReport {
  /** Adverts examined. */
  readonly checked: number;
  /** One line per advert that did not decode cleanly. */
  readonly problems: string[];
}

/**
 * Frames reach tshark's output (and its file) in batches, up to ~0.75 s late here: dumpcap
 * has no immediate mode in tshark 4.0. Timestamps are the kernel's, so measurements are
 * exact; only waits for frames need generous bounds, and stopping first flushes (see stop).
 */
export class Capture {
  readonly frames = new Events<Frame>("captured frames", showFrame);
  private sentinels = 0;

  private constructor(
    private readonly lab: Lab,
    readonly proc: Proc,
    readonly file: string,
  ) {
    const parse = (l: { stream: string; text: string }) => {
      if (l.stream !== "out") return;
      const f = parseFrame(l.text);
      if (f) this.frames.push(f);
    };
    proc.lines.subscribe(parse);
    void proc.exited.then(() => this.frames.end("tshark exited"));
  }

  /** Starts tshark on br0 in the switch namespace; resolves once it captures. */
  static async start(lab: Lab, label: string): Promise<Capture> {
    const file = `${lab.dir}/${label.replace(/[^A-Za-z0-9_.-]+/g, "_")}.pcapng`;
    const proc = lab.spawn(`tshark ${label}`, lab.sw, [
      "tshark",
      ...["-i", "br0", "-n", "-l", "-P", "-w", file],
      ...["-f", "ip proto 112 or ip6 proto 112 or arp or icmp6"],
      ...["-T", "fields", "-E", "separator=/t", ...FIELDS.flatMap((f) => ["-e", f])],
    ]);
    const cap = new Capture(lab, proc, file);
    await proc.waitLine(/Capturing on/, 15_000);
    return cap;
  }

  /** VRRP adverts, optionally only those satisfying `pred`. */
  adverts(pred: (f: Frame) => boolean = () => true, from = 0): Frame[] {
    return this.frames.filter((f) => f.vrrp !== undefined && pred(f), from);
  }

  /** The first advert (from mark `from`) satisfying `pred`, already captured or still to come. */
  advert(pred: (f: Frame) => boolean, timeoutMs: number, what: string, from = 0): Promise<Frame> {
    return this.frames.waitFor((f) => f.vrrp !== undefined && pred(f), timeoutMs, what, from);
  }

  /**
   * Waits until everything sent so far has been captured: h1 sends a UDP datagram to an
   * unused address, and the ARP request it triggers must come through. Frames come in
   * order, so all earlier ones are in too.
   */
  async flush(timeoutMs = 5000): Promise<void> {
    const target = `192.0.2.${200 + (this.sentinels++ % 50)}`;
    const h = this.lab.h(1);
    const mark = this.frames.mark;
    run(["ip", "netns", "exec", h.ns, "bash", "-c", `echo > /dev/udp/${target}/9`]);
    await this.frames.waitFor(
      (f) => f.arp?.op === 1 && f.arp.targetIp === target && f.ethSrc === h.mac,
      timeoutMs,
      `the sentinel ARP request for ${target}`,
      mark,
    );
  }

  /** Flushes, then stops tshark (SIGINT, so the pcap is complete). */
  async stop(): Promise<void> {
    if (this.proc.running) await this.flush();
    await this.proc.stop("SIGINT", 5000);
  }

  /**
   * Decodes, with `tshark -r -V`, every VRRP frame (IPv4 protocol 112 or IPv6 next header
   * 112) that display filter `sender` selects (see fromMacs, fromAddresses): each must be
   * dissected as VRRP with "[Checksum Status: Good]", IPv4 ones with a good header checksum,
   * and none may be malformed or carry an expert warning or error. Call after stop().
   */
  verifyAdverts(sender: string): DecodeReport {
    const r = run([
      "tshark",
      ...["-r", this.file, "-n", "-V", "-o", "ip.check_checksum:TRUE"],
      ...["-Y", `(ip.proto == 112 || ipv6.nxt == 112) && (${sender})`],
    ]);
    if (r.code !== 0) return { checked: 0, problems: [`tshark -r failed: ${r.stderr.trim()}`] };
    const frames = r.stdout.split(/^(?=Frame \d+:)/m).filter((s) => s.startsWith("Frame "));
    const problems: string[] = [];
    for (const text of frames) {
      const head = text.slice(0, text.indexOf("\n"));
      const vrrpAt = text.indexOf("\nVirtual Router Redundancy Protocol");
      const why: string[] = [];
      if (vrrpAt < 0) why.push("not dissected as VRRP");
      else if (!/\[Checksum Status: Good\]/.test(text.slice(vrrpAt)))
        why.push("VRRP checksum not Good");
      if (
        /\nInternet Protocol Version 4/.test(text) &&
        !/\[Header checksum status: Good\]/.test(text)
      )
        why.push("IPv4 header checksum not Good");
      if (/Malformed/i.test(text)) why.push("malformed");
      const expert = text.match(/\[Expert Info \((Error|Warning)\/[^\n]*/g);
      if (expert) why.push(...expert);
      if (why.length)
        problems.push(`${head}: ${why.join("; ")}\n${text.slice(Math.max(0, vrrpAt))}`);
    }
    return { checked: frames.length, problems };
  }
}
