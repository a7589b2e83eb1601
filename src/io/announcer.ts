/**
 * Gratuitous ARP and unsolicited Neighbour Advertisement sender (keepalived vrrp_arp.c,
 * vrrp_ndisc.c), with keepalived's per-interface pacing (vrrp_garp_interval,
 * vrrp_gna_interval). The cadence itself (5 now, 5 more after 5 s, refresh) is the
 * engine's; this only puts frames on the wire, no closer together than the interval.
 *
 * Both kinds go out on one AF_PACKET SOCK_RAW socket as complete Ethernet frames, as
 * keepalived does for both (it opens one PF_PACKET socket for ARP and one for ETH_P_IPV6):
 * - the NA's IPv6 source must be the VIP (RFC 4861 §7.2.6 unsolicited advert from the
 *   address's owner). A raw ICMPv6 socket would refuse a VIP that is still tentative or not
 *   yet on the interface (IPV6_PKTINFO source checks), and would add its own flow label;
 *   a hand-built frame is exactly keepalived's (reference pcap) whatever the address state;
 * - protocol 0 (man 7 packet: "no packets are received"), so the socket never queues
 *   traffic nobody reads; each sendto names the interface and ethertype in its sockaddr_ll.
 */
import { readFileSync } from "node:fs";
import * as L from "../../native/layout.ts";
import * as libc from "../../native/libc.ts";
import * as netif from "../../native/netif.ts";
import { ETHERTYPE_ARP, gratuitousArp } from "../core/net/arp.ts";
import { formatIp, type IpAddr, parseIp } from "../core/net/ip.ts";
import { ETHERTYPE_IPV6, unsolicitedNa } from "../core/net/ndisc.ts";
import { AgentError } from "../errors.ts";
import { cached } from "./ifcache.ts";

/** Puts one Ethernet frame on an interface. The default opens an AF_PACKET socket. */
export interface FrameSink {
  send(ifname: string, ethertype: number, frame: Uint8Array): void;
  close(): void;
}

/** AF_PACKET sink, opened on first use so constructing an Announcer needs no privilege. */
export function packetSink(): FrameSink {
  let fd = -1;
  return {
    send(ifname, ethertype, frame) {
      if (fd < 0) fd = libc.socket(L.AF_PACKET, L.SOCK_RAW, 0, ifname);
      // keepalived puts the interface's own MAC in sll_addr; for SOCK_RAW the frame's
      // header decides the destination, the sockaddr only picks interface and protocol.
      const index = cached("ifindex", ifname, () => netif.ifNameToIndex(ifname));
      const sll = L.sockaddrLl(index, ethertype, frame.subarray(6, 12));
      libc.sendto(fd, frame, 0, sll, ifname);
    },
    close() {
      libc.close(fd);
      fd = -1;
    },
  };
}

export interface AnnouncerOptions {
  /** Minimum gap between two GARPs on one interface (vrrp_garp_interval); 0 = none. */
  readonly garpIntervalMs?: number;
  /** Minimum gap between two unsolicited NAs on one interface (vrrp_gna_interval). */
  readonly naIntervalMs?: number;
  /** Where frames go; default an AF_PACKET socket. */
  readonly sink?: FrameSink;
  /** Monotonic milliseconds; default performance.now. */
  readonly now?: () => number;
  /** The interface's MAC, read when each frame is built; default SIOCGIFHWADDR. */
  readonly macOf?: (ifname: string) => Uint8Array;
}

interface Pending {
  readonly build: () => { ethertype: number; frame: Uint8Array };
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** One interface × kind: when the next frame may go, and what waits for it. */
interface Lane {
  readonly ifname: string;
  readonly intervalMs: number;
  nextAtMs: number;
  readonly queue: Pending[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Whether the interface forwards IPv6, which keepalived turns into the NA Router flag. */
export function ipv6Forwarding(ifname: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, "utf8").trim() === "1";
  } catch {
    return false;
  }
}

export class Announcer {
  private readonly lanes = new Map<string, Lane>();
  private readonly sink: FrameSink;
  private readonly now: () => number;
  private readonly macOf: (ifname: string) => Uint8Array;
  private closed = false;

  constructor(private readonly opts: AnnouncerOptions = {}) {
    this.sink = opts.sink ?? packetSink();
    this.now = opts.now ?? (() => performance.now());
    // Cached until a link event (ifcache.ts): a VMAC or changed MAC is still honoured.
    this.macOf =
      opts.macOf ?? ((ifname) => cached("mac", ifname, () => netif.interfaceMac(ifname)));
  }

  /** Sends one gratuitous ARP for `ip` on `ifname`; resolves when it is on the wire. */
  garp(ifname: string, ip: IpAddr | string): Promise<void> {
    return this.enqueue("arp", ifname, this.opts.garpIntervalMs ?? 0, () => {
      const addr = this.addr(ip, 4, ifname);
      return { ethertype: ETHERTYPE_ARP, frame: gratuitousArp(this.macOf(ifname), addr.bytes) };
    });
  }

  /**
   * Sends one unsolicited NA for `ip` (which the caller has put on the interface, with
   * nodad, as keepalived adds IPv6 VIPs) on `ifname`; `router` sets the Router flag
   * (keepalived: IPv6 forwarding enabled on the interface, see ipv6Forwarding).
   */
  unsolicitedNa(ifname: string, ip: IpAddr | string, router: boolean): Promise<void> {
    return this.enqueue("na", ifname, this.opts.naIntervalMs ?? 0, () => {
      const addr = this.addr(ip, 6, ifname);
      return {
        ethertype: ETHERTYPE_IPV6,
        frame: unsolicitedNa(this.macOf(ifname), addr.bytes, router),
      };
    });
  }

  /** Drops everything queued (their promises reject) and closes the socket. */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.timer);
      for (const p of lane.queue.splice(0))
        p.reject(new AgentError("E_SOCKET", "announcer closed", lane.ifname));
    }
    this.sink.close();
  }

  private addr(ip: IpAddr | string, family: 4 | 6, ifname: string): IpAddr {
    const a = typeof ip === "string" ? parseIp(ip) : ip;
    if (!a || a.family !== family)
      throw new AgentError(
        "E_SOCKET",
        `${typeof ip === "string" ? ip : formatIp(ip)} is not an IPv${family} address`,
        ifname,
      );
    return a;
  }

  private enqueue(
    kind: string,
    ifname: string,
    intervalMs: number,
    build: Pending["build"],
  ): Promise<void> {
    if (this.closed) return Promise.reject(new AgentError("E_SOCKET", "announcer closed", ifname));
    const key = `${kind} ${ifname}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { ifname, intervalMs, nextAtMs: -Infinity, queue: [], timer: undefined };
      this.lanes.set(key, lane);
    }
    const l = lane;
    return new Promise<void>((resolve, reject) => {
      l.queue.push({ build, resolve, reject });
      this.pump(l);
    });
  }

  /** Sends what the interval allows now and arms a timer for the rest. */
  private pump(lane: Lane): void {
    if (lane.timer !== undefined) return;
    while (lane.queue.length) {
      const now = this.now();
      if (now < lane.nextAtMs) {
        lane.timer = setTimeout(() => {
          lane.timer = undefined;
          this.pump(lane);
        }, lane.nextAtMs - now);
        return;
      }
      const p = lane.queue.shift()!;
      let attempted = false;
      try {
        const { ethertype, frame } = p.build();
        attempted = true;
        this.sink.send(lane.ifname, ethertype, frame);
        p.resolve();
      } catch (e) {
        p.reject(e);
      }
      // keepalived sets the next allowed time after every send attempt (garp_next_time);
      // a request refused before any frame existed (a bad address) uses no slot.
      if (attempted && lane.intervalMs > 0) lane.nextAtMs = this.now() + lane.intervalMs;
    }
  }
}
