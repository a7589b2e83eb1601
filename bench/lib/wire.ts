/**
 * Frames on the lab's bridge, captured by `tcpdump -w` and decoded offline, for benchmarks.
 *
 * test/helpers/capture.ts's Capture decodes live (tshark -T fields), which costs CPU all
 * along on a 2-core machine and so disturbs the timings being measured. Here tcpdump only
 * writes a pcap (immediate mode, packet-buffered, nanosecond kernel timestamps, taken when
 * the frame crosses br0) and the file is decoded once, afterwards, with test/helpers/pcap.ts.
 * Only IPv4 VRRP (protocol 112) and ARP are captured: the benchmarks run IPv4 only.
 */
import { run } from "../../test/helpers/env.ts";
import type { Lab, Proc } from "../../test/helpers/lab.ts";
import { ETHERTYPE_IPV4, parseEthernet, readPcap } from "../../test/helpers/pcap.ts";

const ETHERTYPE_ARP = 0x0806;
const IPPROTO_VRRP = 112;

export interface WireFrame {
  /** Kernel capture time, epoch ms (sub-microsecond resolution). */
  readonly t: number;
  readonly ethSrc: string;
  readonly vrrp:
    | { readonly version: number; readonly vrid: number; readonly prio: number }
    | undefined;
  readonly arp:
    | { readonly op: number; readonly senderIp: string; readonly targetIp: string }
    | undefined;
}

const mac = (b: Uint8Array, at: number): string =>
  [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, "0")).join(":");
const ip4 = (b: Uint8Array, at: number): string => [...b.subarray(at, at + 4)].join(".");

/** One Ethernet frame → what the benchmarks look at (undefined for anything else). */
export function decodeFrame(t: number, frame: Uint8Array): WireFrame | undefined {
  const eth = parseEthernet(frame);
  if (!eth || frame.length < 14) return undefined;
  const p = eth.payload;
  const ethSrc = mac(frame, 6);
  if (eth.etherType === ETHERTYPE_IPV4 && p.length >= 20 && p[9] === IPPROTO_VRRP) {
    const ihl = ((p[0] ?? 0) & 0x0f) * 4;
    if (p.length < ihl + 8) return undefined;
    const vrrp = { version: (p[ihl] ?? 0) >> 4, vrid: p[ihl + 1] ?? 0, prio: p[ihl + 2] ?? 0 };
    return { t, ethSrc, vrrp, arp: undefined };
  }
  if (eth.etherType === ETHERTYPE_ARP && p.length >= 28) {
    const arp = {
      op: ((p[6] ?? 0) << 8) | (p[7] ?? 0),
      senderIp: ip4(p, 14),
      targetIp: ip4(p, 24),
    };
    return { t, ethSrc, vrrp: undefined, arp };
  }
  return undefined;
}

/** tcpdump on br0 in the switch namespace, writing a pcap only. */
export class PcapCapture {
  private sentinels = 0;
  private decoded: WireFrame[] | undefined;
  /** tcpdump's own count of frames the kernel dropped (known once stopped). */
  dropped: number | undefined;

  private constructor(
    private readonly lab: Lab,
    readonly proc: Proc,
    readonly file: string,
  ) {}

  static async start(lab: Lab, label: string): Promise<PcapCapture> {
    const file = `${lab.dir}/${label.replace(/[^A-Za-z0-9_.-]+/g, "_")}.pcap`;
    const proc = lab.spawn(`tcpdump ${label}`, lab.sw, [
      "tcpdump",
      ...["-i", "br0", "-n", "-U", "--immediate-mode", "--time-stamp-precision=nano"],
      // -Z root: stay root, or tcpdump cannot create its file in the root-owned lab dir.
      ...["-B", "4096", "-Z", "root", "-w", file, "ip proto 112 or arp"],
    ]);
    await proc.waitLine(/listening on br0/, 15_000);
    return new PcapCapture(lab, proc, file);
  }

  /** Every frame written so far (a trailing half-written record makes it retry). */
  private async read(): Promise<WireFrame[]> {
    for (let i = 0; ; i++) {
      try {
        const pcap = readPcap(await Bun.file(this.file).bytes());
        const out: WireFrame[] = [];
        for (const r of pcap.records) {
          const f = decodeFrame(r.time * 1000, r.data);
          if (f) out.push(f);
        }
        return out;
      } catch (e) {
        if (i >= 20) throw e;
        await Bun.sleep(20);
      }
    }
  }

  /**
   * Waits until everything sent so far is in the file: h1 sends a datagram to an unused
   * address and the ARP request it triggers must be written. Frames are written in order.
   */
  async flush(timeoutMs = 5000): Promise<void> {
    const target = `192.0.2.${200 + (this.sentinels++ % 50)}`;
    const h = this.lab.h(1);
    const since = Date.now() - 1;
    run(["ip", "netns", "exec", h.ns, "bash", "-c", `echo > /dev/udp/${target}/9`]);
    const end = performance.now() + timeoutMs;
    for (;;) {
      const frames = await this.read();
      if (frames.some((f) => f.arp?.targetIp === target && f.ethSrc === h.mac && f.t >= since))
        return;
      if (performance.now() > end)
        throw new Error(`tcpdump: the sentinel ARP for ${target} never reached ${this.file}`);
      await Bun.sleep(50);
    }
  }

  /** Flushes, stops tcpdump and decodes the whole file. */
  async stop(): Promise<WireFrame[]> {
    if (this.proc.running) {
      await this.flush();
      await this.proc.stop("SIGINT", 5000);
    }
    const m = /(\d+) packets? dropped by kernel/.exec(this.proc.text);
    this.dropped = m ? Number(m[1]) : undefined;
    this.decoded ??= await this.read();
    return this.decoded;
  }
}

export const isAdvert =
  (ethSrc: string, prio?: number) =>
  (f: WireFrame): boolean =>
    f.vrrp !== undefined && f.ethSrc === ethSrc && (prio === undefined || f.vrrp.prio === prio);

/** A gratuitous ARP for `vip` sent from `ethSrc` (sender and target both the VIP). */
export const isGarp =
  (ethSrc: string, vip: string) =>
  (f: WireFrame): boolean =>
    f.arp !== undefined && f.ethSrc === ethSrc && f.arp.senderIp === vip && f.arp.targetIp === vip;
