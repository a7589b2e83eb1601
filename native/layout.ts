/**
 * C struct layouts and constants for the socket calls in libc.ts, as checked offsets.
 *
 * Only Linux on x86-64 and aarch64 (both LP64, both using the generic socket ABI) is
 * supported; the values were read from glibc 2.36 / Linux uapi headers with offsetof() and
 * sizeof(), and the relations between them are asserted when this module loads, so a typo
 * fails at startup instead of corrupting a syscall argument. No FFI here: this file only
 * encodes and decodes byte arrays, so tests can check it anywhere.
 */

if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64"))
  throw new Error(
    `native/layout: struct layouts are only defined for Linux x86-64 and aarch64, not ${process.platform}/${process.arch}`,
  );

/** Address families, socket types and protocols (socket(2), man 7 raw, man 7 packet). */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_PACKET = 17;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const IPPROTO_IP = 0;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_VRRP = 112;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;

/** setsockopt levels and names (man 7 socket, man 7 ip, man 7 ipv6). */
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_BINDTODEVICE = 25;
export const SO_ATTACH_FILTER = 26;
export const IP_TOS = 1;
export const IP_TTL = 2;
export const IP_HDRINCL = 3;
export const IP_PKTINFO = 8;
export const IP_RECVTTL = 12;
export const IP_FREEBIND = 15;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IP_MULTICAST_ALL = 49;
export const IPV6_CHECKSUM = 7;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_JOIN_GROUP = 20;
export const IPV6_MULTICAST_ALL = 29;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const IPV6_TCLASS = 67;
export const IPV6_FREEBIND = 78;

/** send/recv flags, poll events, fcntl, eventfd, ioctl requests. */
export const MSG_DONTROUTE = 0x4;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const O_NONBLOCK = 0o4000;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
export const SIOCGIFADDR = 0x8915;
export const SIOCGIFHWADDR = 0x8927;
export const IFNAMSIZ = 16;

/** errno values the callers branch on (asm-generic/errno-base.h, errno.h). */
export const EPERM = 1;
export const EINTR = 4;
export const EAGAIN = 11;
export const EACCES = 13;
export const ENODEV = 19;
export const EADDRNOTAVAIL = 99;

export const SOCKADDR_IN = { size: 16, family: 0, port: 2, addr: 4 } as const;
export const SOCKADDR_IN6 = {
  size: 28,
  family: 0,
  port: 2,
  flowinfo: 4,
  addr: 8,
  scopeId: 24,
} as const;
/** struct sockaddr_ll (man 7 packet). */
export const SOCKADDR_LL = {
  size: 20,
  family: 0,
  protocol: 2,
  ifindex: 4,
  hatype: 8,
  pkttype: 10,
  halen: 11,
  addr: 12,
} as const;
export const SOCKADDR_STORAGE = { size: 128 } as const;
export const IOVEC = { size: 16, base: 0, len: 8 } as const;
export const MSGHDR = {
  size: 56,
  name: 0,
  namelen: 8,
  iov: 16,
  iovlen: 24,
  control: 32,
  controllen: 40,
  flags: 48,
} as const;
export const CMSGHDR = { size: 16, len: 0, level: 8, type: 12 } as const;
export const IP_MREQN = { size: 12, multiaddr: 0, address: 4, ifindex: 8 } as const;
export const IPV6_MREQ = { size: 20, multiaddr: 0, ifindex: 16 } as const;
export const POLLFD = { size: 8, fd: 0, events: 4, revents: 6 } as const;
export const IN_PKTINFO = { size: 12, ifindex: 0, specDst: 4, addr: 8 } as const;
export const IN6_PKTINFO = { size: 20, addr: 0, ifindex: 16 } as const;
/** struct ifreq: name, then a 24-byte union (ifr_addr / ifr_hwaddr are a struct sockaddr). */
export const IFREQ = { size: 40, name: 0, sockaddr: 16, saFamily: 16, saData: 18 } as const;
/** struct sock_fprog / sock_filter (classic BPF, man 7 socket SO_ATTACH_FILTER). */
export const SOCK_FPROG = { size: 16, len: 0, filter: 8 } as const;
export const SOCK_FILTER = { size: 8, code: 0, jt: 2, jf: 3, k: 4 } as const;

/** CMSG_ALIGN / CMSG_SPACE / CMSG_LEN from <sys/socket.h>: cmsgs align to sizeof(size_t). */
export function cmsgAlign(n: number): number {
  return (n + 7) & ~7;
}
export function cmsgSpace(n: number): number {
  return cmsgAlign(CMSGHDR.size) + cmsgAlign(n);
}
export function cmsgLen(n: number): number {
  return cmsgAlign(CMSGHDR.size) + n;
}

// Every field must lie inside its struct: catches a mistyped offset or size at load time.
function check(
  name: string,
  s: Readonly<Record<string, number>>,
  lens: Record<string, number>,
): void {
  const size = s.size ?? 0;
  for (const [field, len] of Object.entries(lens)) {
    const off = s[field];
    if (off === undefined || off < 0 || off + len > size)
      throw new Error(`native/layout: ${name}.${field} at ${off}+${len} exceeds size ${size}`);
  }
}
check("sockaddr_in", SOCKADDR_IN, { family: 2, port: 2, addr: 4 });
check("sockaddr_in6", SOCKADDR_IN6, { family: 2, port: 2, flowinfo: 4, addr: 16, scopeId: 4 });
check("sockaddr_ll", SOCKADDR_LL, { protocol: 2, ifindex: 4, hatype: 2, halen: 1, addr: 8 });
check("iovec", IOVEC, { base: 8, len: 8 });
check("msghdr", MSGHDR, { name: 8, namelen: 4, iov: 8, iovlen: 8, control: 8, controllen: 8 });
check("cmsghdr", CMSGHDR, { len: 8, level: 4, type: 4 });
check("ip_mreqn", IP_MREQN, { multiaddr: 4, address: 4, ifindex: 4 });
check("ipv6_mreq", IPV6_MREQ, { multiaddr: 16, ifindex: 4 });
check("pollfd", POLLFD, { fd: 4, events: 2, revents: 2 });
check("in_pktinfo", IN_PKTINFO, { ifindex: 4, specDst: 4, addr: 4 });
check("in6_pktinfo", IN6_PKTINFO, { addr: 16, ifindex: 4 });
check("ifreq", IFREQ, { name: IFNAMSIZ, saFamily: 2, saData: 14 });
check("sock_fprog", SOCK_FPROG, { len: 2, filter: 8 });
if (cmsgSpace(4) !== 24 || cmsgLen(4) !== 20 || cmsgSpace(IN6_PKTINFO.size) !== 40)
  throw new Error("native/layout: CMSG arithmetic disagrees with glibc");

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function expectLen(what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new Error(`native/layout: ${what} needs ${n} bytes, got ${b.length}`);
}

/** struct sockaddr_in for `addr` (4 bytes, network order), port 0 unless given. */
export function sockaddrIn(addr: Uint8Array, port = 0): Uint8Array {
  expectLen("sockaddr_in address", addr, 4);
  const b = new Uint8Array(SOCKADDR_IN.size);
  const v = view(b);
  v.setUint16(SOCKADDR_IN.family, AF_INET, true);
  v.setUint16(SOCKADDR_IN.port, port, false);
  b.set(addr, SOCKADDR_IN.addr);
  return b;
}

/** struct sockaddr_in6; `scopeId` is the interface index for link-local and ff02:: addresses. */
export function sockaddrIn6(addr: Uint8Array, scopeId = 0, port = 0): Uint8Array {
  expectLen("sockaddr_in6 address", addr, 16);
  const b = new Uint8Array(SOCKADDR_IN6.size);
  const v = view(b);
  v.setUint16(SOCKADDR_IN6.family, AF_INET6, true);
  v.setUint16(SOCKADDR_IN6.port, port, false);
  b.set(addr, SOCKADDR_IN6.addr);
  v.setUint32(SOCKADDR_IN6.scopeId, scopeId, true);
  return b;
}

/** struct sockaddr_ll naming the outgoing interface of an AF_PACKET frame (man 7 packet). */
export function sockaddrLl(ifindex: number, protocol: number, mac: Uint8Array): Uint8Array {
  const b = new Uint8Array(SOCKADDR_LL.size);
  const v = view(b);
  v.setUint16(SOCKADDR_LL.family, AF_PACKET, true);
  v.setUint16(SOCKADDR_LL.protocol, protocol, false);
  v.setInt32(SOCKADDR_LL.ifindex, ifindex, true);
  b[SOCKADDR_LL.halen] = mac.length;
  b.set(mac.subarray(0, 8), SOCKADDR_LL.addr);
  return b;
}

/** A decoded sockaddr_in / sockaddr_in6: address bytes and, for IPv6, the scope id. */
export interface SockAddr {
  readonly family: 4 | 6;
  readonly addr: Uint8Array;
  readonly scopeId: number;
}

/** Decodes the `len` bytes of a sockaddr filled in by the kernel; undefined for other families. */
export function decodeSockaddr(b: Uint8Array, len: number): SockAddr | undefined {
  if (len < 2) return undefined;
  const v = view(b);
  const family = v.getUint16(0, true);
  if (family === AF_INET && len >= SOCKADDR_IN.size)
    return { family: 4, addr: b.slice(SOCKADDR_IN.addr, SOCKADDR_IN.addr + 4), scopeId: 0 };
  if (family === AF_INET6 && len >= SOCKADDR_IN6.size)
    return {
      family: 6,
      addr: b.slice(SOCKADDR_IN6.addr, SOCKADDR_IN6.addr + 16),
      scopeId: v.getUint32(SOCKADDR_IN6.scopeId, true),
    };
  return undefined;
}

/** struct ip_mreqn for IP_ADD_MEMBERSHIP / IP_MULTICAST_IF: group (or 0.0.0.0) and ifindex. */
export function ipMreqn(group: Uint8Array, ifindex: number): Uint8Array {
  expectLen("ip_mreqn group", group, 4);
  const b = new Uint8Array(IP_MREQN.size);
  b.set(group, IP_MREQN.multiaddr);
  view(b).setInt32(IP_MREQN.ifindex, ifindex, true);
  return b;
}

/** struct ipv6_mreq for IPV6_JOIN_GROUP. */
export function ipv6Mreq(group: Uint8Array, ifindex: number): Uint8Array {
  expectLen("ipv6_mreq group", group, 16);
  const b = new Uint8Array(IPV6_MREQ.size);
  b.set(group, IPV6_MREQ.multiaddr);
  view(b).setUint32(IPV6_MREQ.ifindex, ifindex, true);
  return b;
}

/** One control message: level, type and its data, padded to CMSG_SPACE. */
export interface Cmsg {
  readonly level: number;
  readonly type: number;
  readonly data: Uint8Array;
}

/** Serializes control messages for sendmsg (each CMSG_LEN long, CMSG_SPACE apart). */
export function encodeCmsgs(msgs: readonly Cmsg[]): Uint8Array {
  const total = msgs.reduce((n, m) => n + cmsgSpace(m.data.length), 0);
  const b = new Uint8Array(total);
  const v = view(b);
  let off = 0;
  for (const m of msgs) {
    v.setBigUint64(off + CMSGHDR.len, BigInt(cmsgLen(m.data.length)), true);
    v.setInt32(off + CMSGHDR.level, m.level, true);
    v.setInt32(off + CMSGHDR.type, m.type, true);
    b.set(m.data, off + cmsgAlign(CMSGHDR.size));
    off += cmsgSpace(m.data.length);
  }
  return b;
}

/** Walks the first `len` bytes of a control buffer filled by recvmsg (CMSG_FIRSTHDR/NXTHDR). */
export function decodeCmsgs(b: Uint8Array, len: number): Cmsg[] {
  const out: Cmsg[] = [];
  const v = view(b);
  let off = 0;
  while (off + CMSGHDR.size <= len) {
    const cmsgLength = Number(v.getBigUint64(off + CMSGHDR.len, true));
    if (cmsgLength < CMSGHDR.size || off + cmsgLength > len) break;
    out.push({
      level: v.getInt32(off + CMSGHDR.level, true),
      type: v.getInt32(off + CMSGHDR.type, true),
      data: b.slice(off + CMSGHDR.size, off + cmsgLength),
    });
    off += cmsgAlign(cmsgLength);
  }
  return out;
}

/** A little-endian C int, as IP_TTL / IPV6_HOPLIMIT carry it. */
export function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  view(b).setInt32(0, n, true);
  return b;
}

export function readInt32(b: Uint8Array, off = 0): number {
  return view(b).getInt32(off, true);
}

/** struct in6_pktinfo: source (or destination on receive) address and interface index. */
export function in6Pktinfo(addr: Uint8Array, ifindex: number): Uint8Array {
  expectLen("in6_pktinfo address", addr, 16);
  const b = new Uint8Array(IN6_PKTINFO.size);
  b.set(addr, IN6_PKTINFO.addr);
  view(b).setUint32(IN6_PKTINFO.ifindex, ifindex, true);
  return b;
}

/** struct ifreq with only the name set (ioctl SIOCGIF*); names are at most IFNAMSIZ-1 bytes. */
export function ifreq(ifname: string): Uint8Array {
  const name = new TextEncoder().encode(ifname);
  if (name.length === 0 || name.length >= IFNAMSIZ)
    throw new Error(`native/layout: interface name "${ifname}" is not 1–15 bytes`);
  const b = new Uint8Array(IFREQ.size);
  b.set(name, IFREQ.name);
  return b;
}

/** A NUL-terminated C string in a fresh buffer, for arguments such as SO_BINDTODEVICE. */
export function cString(s: string): Uint8Array {
  const enc = new TextEncoder().encode(s);
  const b = new Uint8Array(enc.length + 1);
  b.set(enc);
  return b;
}

export function writePointer(b: Uint8Array, off: number, address: number): void {
  view(b).setBigUint64(off, BigInt(address), true);
}

export function writeSize(b: Uint8Array, off: number, n: number): void {
  view(b).setBigUint64(off, BigInt(n), true);
}

/** The socket options this agent sets, by name, so errors can say which one failed. */
export const SOCKOPTS = {
  SO_RCVBUF: [SOL_SOCKET, SO_RCVBUF],
  SO_BINDTODEVICE: [SOL_SOCKET, SO_BINDTODEVICE],
  SO_ATTACH_FILTER: [SOL_SOCKET, SO_ATTACH_FILTER],
  IP_TOS: [IPPROTO_IP, IP_TOS],
  IP_HDRINCL: [IPPROTO_IP, IP_HDRINCL],
  IP_PKTINFO: [IPPROTO_IP, IP_PKTINFO],
  IP_RECVTTL: [IPPROTO_IP, IP_RECVTTL],
  IP_FREEBIND: [IPPROTO_IP, IP_FREEBIND],
  IP_MULTICAST_IF: [IPPROTO_IP, IP_MULTICAST_IF],
  IP_MULTICAST_LOOP: [IPPROTO_IP, IP_MULTICAST_LOOP],
  IP_ADD_MEMBERSHIP: [IPPROTO_IP, IP_ADD_MEMBERSHIP],
  IP_MULTICAST_ALL: [IPPROTO_IP, IP_MULTICAST_ALL],
  IPV6_CHECKSUM: [IPPROTO_IPV6, IPV6_CHECKSUM],
  IPV6_UNICAST_HOPS: [IPPROTO_IPV6, IPV6_UNICAST_HOPS],
  IPV6_MULTICAST_IF: [IPPROTO_IPV6, IPV6_MULTICAST_IF],
  IPV6_MULTICAST_HOPS: [IPPROTO_IPV6, IPV6_MULTICAST_HOPS],
  IPV6_MULTICAST_LOOP: [IPPROTO_IPV6, IPV6_MULTICAST_LOOP],
  IPV6_JOIN_GROUP: [IPPROTO_IPV6, IPV6_JOIN_GROUP],
  IPV6_MULTICAST_ALL: [IPPROTO_IPV6, IPV6_MULTICAST_ALL],
  IPV6_RECVPKTINFO: [IPPROTO_IPV6, IPV6_RECVPKTINFO],
  IPV6_RECVHOPLIMIT: [IPPROTO_IPV6, IPV6_RECVHOPLIMIT],
  IPV6_TCLASS: [IPPROTO_IPV6, IPV6_TCLASS],
  IPV6_FREEBIND: [IPPROTO_IPV6, IPV6_FREEBIND],
} as const satisfies Record<string, readonly [number, number]>;

export type SockOptName = keyof typeof SOCKOPTS;
