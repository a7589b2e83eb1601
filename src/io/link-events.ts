/**
 * Decoding of rtnetlink notifications (RTM_NEWLINK/DELLINK, RTM_NEWADDR/DELADDR) into the
 * events track_interface and VIP tracking need. Pure: bytes in, records out. The layouts are
 * the kernel's stable ABI (uapi linux/netlink.h, rtnetlink.h, if_link.h, if_addr.h), all in
 * host byte order, which on every Linux target Bun supports is little-endian.
 */
import { formatIp, type IpFamily } from "../core/net/ip.ts";

export type OperState =
  | "unknown"
  | "notpresent"
  | "down"
  | "lowerlayerdown"
  | "testing"
  | "dormant"
  | "up";
/** RFC 2863 operational states in the kernel's IF_OPER_* order. */
export const OPERSTATES: readonly OperState[] = [
  "unknown",
  "notpresent",
  "down",
  "lowerlayerdown",
  "testing",
  "dormant",
  "up",
];

export type LinkEvent =
  | {
      readonly kind: "link";
      readonly action: "new" | "del";
      readonly ifindex: number;
      readonly ifname?: string;
      /** ifi_flags (IFF_*) and the bits that changed (ifi_change). */
      readonly flags: number;
      readonly change: number;
      readonly up: boolean;
      readonly running: boolean;
      readonly lowerUp: boolean;
      readonly operstate?: OperState;
    }
  | {
      readonly kind: "addr";
      readonly action: "new" | "del";
      readonly ifindex: number;
      readonly family: IpFamily;
      /** "ip/len" of the local address. */
      readonly address: string;
      readonly label?: string;
      /** IFA_F_* (from IFA_FLAGS when present: the header field has only 8 bits). */
      readonly flags: number;
    }
  /** The socket buffer overflowed and events were lost: re-read the state (linkInfo etc). */
  | { readonly kind: "overrun" };

const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLMSG_OVERRUN = 4;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;
const IFLA_IFNAME = 3;
const IFLA_OPERSTATE = 16;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_FLAGS = 8;
const AF_INET = 2;
const AF_INET6 = 10;
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_LOWER_UP = 0x10000;
/** nla_type carries NLA_F_NESTED / NLA_F_NET_BYTEORDER in its top bits. */
const NLA_TYPE_MASK = 0x3fff;

const align4 = (n: number): number => (n + 3) & ~3;

/** The attributes (type → payload view) after a fixed header, last one wins. */
function attrs(buf: Uint8Array, start: number, end: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = start;
  while (off + 4 <= end) {
    const len = dv.getUint16(off, true);
    if (len < 4 || off + len > end) break; // malformed: stop, keep what we have
    out.set(dv.getUint16(off + 2, true) & NLA_TYPE_MASK, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

function cString(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  const nul = b.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? b : b.subarray(0, nul));
}

function decodeLink(buf: Uint8Array, off: number, end: number, type: number): LinkEvent {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const ifindex = dv.getInt32(off + 4, true);
  const flags = dv.getUint32(off + 8, true);
  const change = dv.getUint32(off + 12, true);
  const a = attrs(buf, off + IFINFOMSG_LEN, end);
  const ifname = cString(a.get(IFLA_IFNAME));
  const op = a.get(IFLA_OPERSTATE)?.[0];
  const operstate = op === undefined ? undefined : (OPERSTATES[op] ?? "unknown");
  return {
    kind: "link",
    action: type === RTM_NEWLINK ? "new" : "del",
    ifindex,
    ...(ifname !== undefined ? { ifname } : {}),
    flags,
    change,
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
    ...(operstate !== undefined ? { operstate } : {}),
  };
}

function decodeAddr(
  buf: Uint8Array,
  off: number,
  end: number,
  type: number,
): LinkEvent | undefined {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const af = buf[off];
  const family: IpFamily | undefined = af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
  if (family === undefined) return undefined;
  const len = buf[off + 1]!;
  const a = attrs(buf, off + IFADDRMSG_LEN, end);
  // IPv4 sends IFA_LOCAL (IFA_ADDRESS is the peer); IPv6 sends only IFA_ADDRESS.
  const raw = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
  if (!raw || raw.length !== (family === 4 ? 4 : 16)) return undefined;
  const fl = a.get(IFA_FLAGS);
  const flags =
    fl?.length === 4 ? new DataView(fl.buffer, fl.byteOffset).getUint32(0, true) : buf[off + 2]!;
  const label = cString(a.get(IFA_LABEL));
  return {
    kind: "addr",
    action: type === RTM_NEWADDR ? "new" : "del",
    ifindex: dv.getUint32(off + 4, true),
    family,
    address: `${formatIp({ family, bytes: raw.slice() })}/${len}`,
    ...(label !== undefined ? { label } : {}),
    flags,
  };
}

/** Every event in one datagram from the socket; other message types are skipped. */
export function decodeNotifications(buf: Uint8Array): LinkEvent[] {
  const out: LinkEvent[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = dv.getUint32(off, true);
    const type = dv.getUint16(off + 4, true);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    const body = off + NLMSG_HDRLEN;
    const end = off + len;
    if (type === NLMSG_OVERRUN) out.push({ kind: "overrun" });
    else if ((type === RTM_NEWLINK || type === RTM_DELLINK) && end - body >= IFINFOMSG_LEN)
      out.push(decodeLink(buf, body, end, type));
    else if ((type === RTM_NEWADDR || type === RTM_DELADDR) && end - body >= IFADDRMSG_LEN) {
      const e = decodeAddr(buf, body, end, type);
      if (e) out.push(e);
    } else if (type === NLMSG_ERROR) {
      // not expected on a notification-only socket; nothing to deliver
    }
    off += align4(len);
  }
  return out;
}
