/**
 * Raw ICMP / ICMPv6 sockets for PING_CHECK. keepalived 2.2.7 (check_ping.c) opens an ICMP
 * datagram "ping socket" per probe and widens net.ipv4.ping_group_range so it may; as root
 * a raw socket needs no sysctl, so we open one per family, non-blocking, and the shell
 * drains it while echoes are outstanding (Bun cannot watch a descriptor).
 *
 * IPv4 raw sockets deliver the IP header with each datagram (man 7 raw); ICMPv6 raw sockets
 * do not, and the kernel computes the ICMPv6 checksum on send (RFC 3542 §3.1).
 */
import { dlopen } from "bun:ffi";
import * as L from "./layout.ts";
import * as libc from "./libc.ts";

// setsockopt with levels and names libc.ts's table does not list (SOL_RAW, ICMPv6 filter,
// SO_RCVBUFFORCE); errno is read through libc.ts right after a failure.
const raw = dlopen("libc.so.6", {
  setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
}).symbols;

const IPPROTO_ICMP = 1;
/** linux/in.h SOL_RAW and linux/icmp.h ICMP_FILTER: a u32, bit n set = drop ICMP type n. */
const SOL_RAW = 255;
const ICMP_FILTER = 1;
/** linux/icmpv6.h ICMPV6_FILTER: 256 bits, bit n set = drop ICMPv6 type n (RFC 3542 §3.2). */
const ICMPV6_FILTER = 1;
/** asm-generic/socket.h SO_RCVBUFFORCE: root may exceed net.core.rmem_max. */
const SO_RCVBUFFORCE = 33;
/**
 * Room for a burst of replies between two drains (each small datagram costs about 1 KiB of
 * kernel accounting); keepalived asks 128 KiB for each of its one-probe sockets.
 */
const RCVBUF_BYTES = 2 * 1024 * 1024;
/** Replies are small; an error quoting our 136-byte request stays well under this. */
const RECV_BUFFER_BYTES = 2048;
/** The only types PING_CHECK reads: echo reply and destination unreachable. */
const WANTED = { 4: [0, 3], 6: [1, 129] } as const;

function setopt(fd: number, level: number, name: number, value: Uint8Array, what: string): void {
  if (raw.setsockopt(fd, level, name, value, value.length) < 0)
    libc.fail(`setsockopt ${what}`, `fd ${fd}`, "ICMP socket", libc.errno());
}

/** The filter value that passes only `types` (every other bit set). */
function filterOf(family: 4 | 6): Uint8Array {
  const words = new Uint32Array(family === 4 ? 1 : 8).fill(0xffffffff);
  for (const t of WANTED[family]) words[t >> 5] = (words[t >> 5] ?? 0) & ~(1 << (t & 31));
  return new Uint8Array(words.buffer);
}

export interface IcmpDatagram {
  readonly bytes: Uint8Array;
  /** The sender's address (4 or 16 bytes), if the kernel gave one. */
  readonly src: Uint8Array | undefined;
}

export class IcmpSocket {
  private readonly reader = new libc.MsgReader(RECV_BUFFER_BYTES, 64);
  private closed = false;

  private constructor(
    readonly family: 4 | 6,
    readonly fd: number,
  ) {}

  /** Opens a non-blocking raw socket; throws AgentError (E_NOT_ROOT without CAP_NET_RAW). */
  static open(family: 4 | 6): IcmpSocket {
    const fd = libc.socket(
      family === 4 ? L.AF_INET : L.AF_INET6,
      L.SOCK_RAW | L.SOCK_NONBLOCK,
      family === 4 ? IPPROTO_ICMP : L.IPPROTO_ICMPV6,
      `ICMP${family === 6 ? "v6" : ""} socket`,
    );
    try {
      // Less to queue and to decode: loopback, for one, also delivers our own requests.
      if (family === 4) setopt(fd, SOL_RAW, ICMP_FILTER, filterOf(4), "ICMP_FILTER");
      else setopt(fd, L.IPPROTO_ICMPV6, ICMPV6_FILTER, filterOf(6), "ICMPV6_FILTER");
      try {
        setopt(fd, L.SOL_SOCKET, SO_RCVBUFFORCE, L.int32(RCVBUF_BYTES), "SO_RCVBUFFORCE");
      } catch {
        libc.setsockoptInt(fd, "SO_RCVBUF", RCVBUF_BYTES, "ICMP socket");
      }
    } catch (e) {
      libc.close(fd);
      throw e;
    }
    return new IcmpSocket(family, fd);
  }

  /** sendto(2) the ICMP message to `addr` (4 or 16 bytes); throws AgentError on failure. */
  send(message: Uint8Array, addr: Uint8Array, scopeId = 0): void {
    const sa = this.family === 4 ? L.sockaddrIn(addr) : L.sockaddrIn6(addr, scopeId);
    libc.sendto(this.fd, message, 0, sa, "ICMP echo");
  }

  /** One queued datagram, or undefined when none is (never blocks). */
  recv(): IcmpDatagram | undefined {
    const d = this.reader.recv(this.fd, "ICMP socket");
    if (d === undefined) return undefined;
    return { bytes: d.bytes, src: d.src?.addr };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc.close(this.fd);
  }
}
