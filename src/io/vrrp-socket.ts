/**
 * VRRP raw sockets, opened as keepalived opens them (vrrp.c open_vrrp_send_socket /
 * open_vrrp_read_socket): one pair per (interface, family, unicast|multicast), a send socket
 * that never queues anything and a read socket the receive Worker polls.
 *
 * IPv4: IP_HDRINCL, so the caller supplies the IP header (TOS 0xC0, TTL, id 0, src, dst;
 * man 7 raw: the kernel fills in the header checksum and a zero id). IPv6: the kernel builds
 * the header and computes the VRRP checksum (IPV6_CHECKSUM offset 6, RFC 5798 §5.2.8); the
 * source and outgoing interface travel with each packet in IPV6_PKTINFO, as keepalived's
 * vrrp_build_ancillary_data does.
 */
import * as L from "../../native/layout.ts";
import * as libc from "../../native/libc.ts";
import * as netif from "../../native/netif.ts";
import { formatIp, type IpAddr, isLinkLocal, isMulticast, parseIp } from "../core/net/ip.ts";
import { AgentError } from "../errors.ts";

export const VRRP_GROUP4 = "224.0.0.18";
export const VRRP_GROUP6 = "ff02::12";
/** RFC 5798 §5.1.1.3 / §5.1.2.3: multicast adverts go out with TTL / hop limit 255. */
export const VRRP_HOP_LIMIT = 255;
/** TOS / traffic class 0xC0 (CS6, internetwork control), as keepalived's if_setsockopt_priority. */
const TOS_INTERNETWORK_CONTROL = 0xc0;
/** Offset of the checksum in the VRRP header, for IPV6_CHECKSUM (man 7 ipv6). */
const VRRP_CHECKSUM_OFFSET = 6;

export interface VrrpSocketOptions {
  readonly ifname: string;
  readonly family: 4 | 6;
  /** Multicast group (mcast_dst_ip); default 224.0.0.18 / ff02::12. Unused for unicast. */
  readonly group?: string | IpAddr;
  /** True for an instance with unicast_peer: no group, bind to the source address. */
  readonly unicast: boolean;
  /** unicast_src_ip / mcast_src_ip; default the interface's primary IPv4 or IPv6 link-local. */
  readonly sourceAddress?: string | IpAddr;
  /**
   * IPv6 unicast hop limit (unicast_ttl); without it the kernel default applies, as in
   * keepalived. IPv4 carries its TTL in the caller's header.
   */
  readonly ttl?: number;
  /** IP protocol number: 112, or 51 for IPv4 with legacy AH authentication. */
  readonly protocol?: number;
}

export interface VrrpSocket {
  readonly ifname: string;
  readonly ifindex: number;
  readonly family: 4 | 6;
  readonly unicast: boolean;
  /** The group joined; undefined for unicast. */
  readonly group: IpAddr | undefined;
  /** The address adverts are sent from (the IPv4 encoder must put it in its header). */
  readonly source: IpAddr;
  /** The read socket, for Receiver.add. Remove it from the Receiver before close(). */
  readonly fd: number;
  /** Sends one advert (IPv4: IP header included) to `dst`; returns the bytes sent. */
  send(bytes: Uint8Array, dst: IpAddr | string): number;
  close(): void;
}

function toAddr(a: string | IpAddr, family: 4 | 6, what: string, ifname: string): IpAddr {
  const addr = typeof a === "string" ? parseIp(a) : a;
  if (!addr || addr.family !== family)
    throw new AgentError(
      "E_SOCKET",
      `${what} ${typeof a === "string" ? a : formatIp(a)} is not an IPv${family} address`,
      ifname,
    );
  return addr;
}

/** The configured source, else the interface's primary IPv4 / first usable link-local. */
function chooseSource(o: VrrpSocketOptions): IpAddr {
  if (o.sourceAddress !== undefined)
    return toAddr(o.sourceAddress, o.family, "source address", o.ifname);
  const bytes = o.family === 4 ? netif.interfaceIpv4(o.ifname) : netif.interfaceLinkLocal(o.ifname);
  if (!bytes)
    throw new AgentError(
      "E_INTERFACE",
      `interface ${o.ifname} has no ${o.family === 4 ? "IPv4 address" : "usable IPv6 link-local address"} to send VRRP from`,
      o.ifname,
    );
  return { family: o.family, bytes };
}

/** sockaddr for `a`; link-local and link-scope multicast IPv6 need the interface as scope. */
function sockaddrFor(a: IpAddr, ifindex: number): Uint8Array {
  if (a.family === 4) return L.sockaddrIn(a.bytes);
  const linkScope = isLinkLocal(a) || (isMulticast(a) && (a.bytes[1]! & 0x0f) === 2);
  return L.sockaddrIn6(a.bytes, linkScope ? ifindex : 0);
}

/** Runs `setup` on a fresh raw socket, closing it if any step throws. */
function withSocket(
  family: 4 | 6,
  protocol: number,
  what: string,
  setup: (fd: number) => void,
): number {
  const fd = libc.socket(
    family === 4 ? L.AF_INET : L.AF_INET6,
    L.SOCK_RAW | L.SOCK_NONBLOCK,
    protocol,
    what,
  );
  try {
    setup(fd);
  } catch (e) {
    libc.close(fd);
    throw e;
  }
  return fd;
}

/** IP(V6)_MULTICAST_ALL 0: only groups joined on this socket (IPv6 needs Linux 4.20). */
function multicastAllOff(fd: number, family: 4 | 6, ifname: string): void {
  try {
    libc.setsockoptInt(fd, family === 4 ? "IP_MULTICAST_ALL" : "IPV6_MULTICAST_ALL", 0, ifname);
  } catch (e) {
    if (family === 4 || libc.errnoOf(e) !== "ENOPROTOOPT") throw e;
  }
}

interface Ctx {
  readonly o: VrrpSocketOptions;
  readonly ifindex: number;
  readonly group: IpAddr | undefined;
  readonly source: IpAddr;
  readonly protocol: number;
}

/** The send socket: deaf (SO_RCVBUF 0 and a drop-all filter), bound to the interface. */
function openSendSocket(c: Ctx): number {
  const { ifname, family, unicast } = c.o;
  return withSocket(family, c.protocol, ifname, (fd) => {
    libc.setsockoptInt(fd, "SO_RCVBUF", 0, ifname);
    multicastAllOff(fd, family, ifname);
    if (family === 4) {
      libc.setsockoptInt(fd, "IP_HDRINCL", 1, ifname);
    } else {
      libc.setsockoptInt(fd, "IPV6_CHECKSUM", VRRP_CHECKSUM_OFFSET, ifname);
      if (!unicast) libc.setsockoptInt(fd, "IPV6_MULTICAST_HOPS", VRRP_HOP_LIMIT, ifname);
      else if (c.o.ttl !== undefined) libc.setsockoptInt(fd, "IPV6_UNICAST_HOPS", c.o.ttl, ifname);
    }
    libc.setsockoptBuf(fd, "SO_BINDTODEVICE", L.cString(ifname), ifname);
    if (!unicast) {
      if (family === 4)
        libc.setsockoptBuf(fd, "IP_MULTICAST_IF", L.ipMreqn(new Uint8Array(4), c.ifindex), ifname);
      else libc.setsockoptInt(fd, "IPV6_MULTICAST_IF", c.ifindex, ifname);
      // RFC 5798 §6.4: a router must not process its own adverts; keepalived turns loop off.
      libc.setsockoptInt(fd, family === 4 ? "IP_MULTICAST_LOOP" : "IPV6_MULTICAST_LOOP", 0, ifname);
    }
    libc.setsockoptInt(
      fd,
      family === 4 ? "IP_TOS" : "IPV6_TCLASS",
      TOS_INTERNETWORK_CONTROL,
      ifname,
    );
    libc.attachDropAllFilter(fd, ifname);
  });
}

/**
 * The read socket: joins the group and binds to it (so unicast to us is not queued here),
 * or for unicast binds to the source address (IP_FREEBIND: it may not exist yet), then
 * SO_BINDTODEVICE so packets arriving on any other interface stay out.
 */
function openReadSocket(c: Ctx): number {
  const { ifname, family } = c.o;
  return withSocket(family, c.protocol, ifname, (fd) => {
    multicastAllOff(fd, family, ifname);
    if (c.group) {
      const g = c.group;
      if (family === 4)
        libc.setsockoptBuf(fd, "IP_ADD_MEMBERSHIP", L.ipMreqn(g.bytes, c.ifindex), ifname);
      else libc.setsockoptBuf(fd, "IPV6_JOIN_GROUP", L.ipv6Mreq(g.bytes, c.ifindex), ifname);
      libc.bind(fd, sockaddrFor(g, c.ifindex), `${ifname} ${formatIp(g)}`);
    } else {
      libc.setsockoptInt(fd, family === 4 ? "IP_FREEBIND" : "IPV6_FREEBIND", 1, ifname);
      libc.bind(fd, sockaddrFor(c.source, c.ifindex), `${ifname} ${formatIp(c.source)}`);
    }
    if (family === 4) {
      // Not in keepalived (it reads the IP header): gives the Worker ifindex, dst and TTL alike.
      libc.setsockoptInt(fd, "IP_PKTINFO", 1, ifname);
      libc.setsockoptInt(fd, "IP_RECVTTL", 1, ifname);
    } else {
      // The hop limit is not in the data of an IPv6 raw socket (man 7 ipv6): ask for it.
      libc.setsockoptInt(fd, "IPV6_RECVHOPLIMIT", 1, ifname);
      libc.setsockoptInt(fd, "IPV6_RECVPKTINFO", 1, ifname);
    }
    libc.setsockoptBuf(fd, "SO_BINDTODEVICE", L.cString(ifname), ifname);
    // The kernel verifies the checksum on receipt and drops bad packets.
    if (family === 6) libc.setsockoptInt(fd, "IPV6_CHECKSUM", VRRP_CHECKSUM_OFFSET, ifname);
  });
}

function resolveCtx(o: VrrpSocketOptions): Ctx {
  const ifindex = netif.ifNameToIndex(o.ifname);
  const protocol = o.protocol ?? L.IPPROTO_VRRP;
  if (o.family === 6 && protocol !== L.IPPROTO_VRRP)
    throw new AgentError("E_SOCKET", `IPv6 VRRP uses protocol 112, not ${protocol}`, o.ifname);
  const group = o.unicast
    ? undefined
    : toAddr(o.group ?? (o.family === 4 ? VRRP_GROUP4 : VRRP_GROUP6), o.family, "group", o.ifname);
  if (group && !isMulticast(group))
    throw new AgentError("E_SOCKET", `group ${formatIp(group)} is not multicast`, o.ifname);
  return { o, ifindex, group, source: chooseSource(o), protocol };
}

/** Opens the VRRP send and read sockets for one interface, family and mode. */
export function openVrrpSocket(o: VrrpSocketOptions): VrrpSocket {
  const c = resolveCtx(o);
  const readFd = openReadSocket(c);
  let sendFd: number;
  try {
    sendFd = openSendSocket(c);
  } catch (e) {
    libc.close(readFd);
    throw e;
  }
  const writer = new libc.MsgWriter();
  // IPV6_PKTINFO: the source address and outgoing interface of every packet (RFC 3542 §6).
  const control =
    o.family === 6
      ? L.encodeCmsgs([
          {
            level: L.IPPROTO_IPV6,
            type: L.IPV6_PKTINFO,
            data: L.in6Pktinfo(c.source.bytes, c.ifindex),
          },
        ])
      : new Uint8Array(0);
  // Multicast goes out with MSG_DONTROUTE (on-link only), unicast is routed: as keepalived.
  const flags = o.unicast ? 0 : L.MSG_DONTROUTE;
  let closed = false;
  return {
    ifname: o.ifname,
    ifindex: c.ifindex,
    family: o.family,
    unicast: o.unicast,
    group: c.group,
    source: c.source,
    fd: readFd,
    send(bytes, dst) {
      if (closed) throw new AgentError("E_SOCKET", "send on a closed VRRP socket", o.ifname);
      const to = toAddr(dst, o.family, "destination", o.ifname);
      const name = sockaddrFor(to, c.ifindex);
      const subject = `${o.ifname} ${formatIp(to)}`;
      if (o.family === 4) return libc.sendto(sendFd, bytes, flags, name, subject);
      return writer.send(sendFd, bytes, name, control, flags, subject);
    },
    close() {
      if (closed) return;
      closed = true;
      libc.close(sendFd);
      libc.close(readFd);
    },
  };
}
