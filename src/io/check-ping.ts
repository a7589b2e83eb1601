/**
 * PING_CHECK probe (keepalived 2.2.7 check/check_ping.c): one ICMP / ICMPv6 echo request
 * (136 bytes: keepalived's header and 128-byte filler) to connect_ip; an echo reply within
 * connect_timeout passes, a timeout or a destination-unreachable error fails.
 *
 * keepalived opens an ICMP datagram socket per probe (the kernel then picks the echo ID and
 * delivers each socket only its replies). We share one raw socket per family
 * (native/icmp.ts, root needs no ping_group_range change): every request carries this
 * process's ID and its own sequence number, replies are matched on ID, sequence and source
 * address, and the socket is drained on a short timer only while echoes are outstanding
 * (Bun cannot watch a descriptor), then closed. Latency is therefore measured to within
 * DRAIN_INTERVAL_MS. keepalived does not bind a PING_CHECK socket, so bindto is not used.
 * It never rejects.
 */
import { IcmpSocket } from "../../native/icmp.ts";
import { decodeIcmp, encodeEcho } from "../core/check/icmp.ts";
import { formatIp, parseIp } from "../core/net/ip.ts";
import { type CheckProbeResult, elapsedMs, errorReason } from "./check-tcp.ts";

export interface PingCheckSpec {
  readonly host: string;
  readonly connectTimeoutMs: number;
}

/** How often the socket is read while echoes are outstanding. */
export const DRAIN_INTERVAL_MS = 2;

interface Outstanding {
  readonly target: string;
  readonly startMs: number;
  readonly resolve: (r: CheckProbeResult) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** One raw socket of one family and the echoes waiting for a reply on it. */
class Pinger {
  private sock: IcmpSocket | undefined;
  private drainTimer: ReturnType<typeof setInterval> | undefined;
  private seq = 0;
  private readonly waiting = new Map<number, Outstanding>();

  constructor(
    readonly family: 4 | 6,
    /** The echo ID of this process (keepalived's kernel would pick one per socket). */
    readonly id: number,
  ) {}

  probe(addr: Uint8Array, timeoutMs: number): Promise<CheckProbeResult> {
    const startMs = performance.now();
    const target = formatIp({ family: this.family, bytes: addr });
    return new Promise((resolve) => {
      const seq = this.nextSeq();
      if (seq === undefined) {
        resolve({ ok: false, reason: "too many echoes outstanding", latencyMs: 0 });
        return;
      }
      try {
        this.sock ??= IcmpSocket.open(this.family);
        this.sock.send(encodeEcho(this.family, this.id, seq), addr);
      } catch (e) {
        resolve({ ok: false, reason: errorReason(e), latencyMs: elapsedMs(startMs) });
        this.idle();
        return;
      }
      const timer = setTimeout(
        () => this.settle(seq, false, `no echo reply within ${timeoutMs} ms`),
        timeoutMs,
      );
      this.waiting.set(seq, { target, startMs, resolve, timer });
      this.drainTimer ??= setInterval(() => this.drain(), DRAIN_INTERVAL_MS);
    });
  }

  /** The next free sequence number, skipping ones still outstanding. */
  private nextSeq(): number | undefined {
    for (let i = 0; i < 0x10000; i++) {
      const s = this.seq;
      this.seq = (this.seq + 1) & 0xffff;
      if (!this.waiting.has(s)) return s;
    }
    return undefined;
  }

  private settle(seq: number, ok: boolean, reason?: string): void {
    const w = this.waiting.get(seq);
    if (w === undefined) return;
    this.waiting.delete(seq);
    clearTimeout(w.timer);
    const latencyMs = elapsedMs(w.startMs);
    w.resolve(reason === undefined ? { ok, latencyMs } : { ok, reason, latencyMs });
    this.idle();
  }

  /** Nothing outstanding: stop reading and release the socket. */
  private idle(): void {
    if (this.waiting.size > 0) return;
    if (this.drainTimer !== undefined) clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    this.sock?.close();
    this.sock = undefined;
  }

  private drain(): void {
    const sock = this.sock;
    if (sock === undefined) return;
    try {
      for (let d = sock.recv(); d !== undefined; d = sock.recv()) {
        const m = decodeIcmp(this.family, d.bytes);
        if (!m.ok) continue;
        const msg = m.message;
        if (msg.kind !== "echo-reply" && msg.kind !== "unreachable") continue;
        if (msg.id !== this.id) continue;
        const w = this.waiting.get(msg.seq);
        if (w === undefined) continue;
        if (msg.kind === "unreachable") {
          this.settle(msg.seq, false, `destination unreachable (ICMP code ${msg.code})`);
        } else if (
          d.src !== undefined &&
          formatIp({ family: this.family, bytes: d.src }) === w.target
        ) {
          this.settle(msg.seq, true);
        }
        if (this.sock === undefined) return;
      }
    } catch (e) {
      // A socket that cannot be read fails every echo waiting on it.
      for (const seq of [...this.waiting.keys()]) this.settle(seq, false, errorReason(e));
    }
  }
}

const pingers = new Map<4 | 6, Pinger>();
const processEchoId = Math.floor(Math.random() * 0x10000);

export function probePing(spec: PingCheckSpec): Promise<CheckProbeResult> {
  const ip = parseIp(spec.host);
  if (ip === undefined)
    return Promise.resolve({ ok: false, reason: `'${spec.host}' is not an address`, latencyMs: 0 });
  let p = pingers.get(ip.family);
  if (p === undefined) {
    p = new Pinger(ip.family, processEchoId);
    pingers.set(ip.family, p);
  }
  return p.probe(ip.bytes, spec.connectTimeoutMs);
}
