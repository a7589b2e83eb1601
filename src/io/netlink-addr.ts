/**
 * Virtual and static addresses (keepalived/vrrp/vrrp_ipaddress.c netlink_ipaddress) through
 * rtnl_addr: add, delete, list, and "which of these are present" for startup cleanup.
 */
import type { NlPtr } from "../../native/libnl.ts";
import { formatIp, type IpFamily, maskHostBits, parseIp } from "../core/net/ip.ts";
import { AgentError } from "../errors.ts";
import {
  CHANGED,
  familyOf,
  ifindexOf,
  type NetChange,
  NLE,
  NlScope,
  nlAddr,
  nlCheck,
  nlSocket,
  prefixOf,
  readCString,
  readIp,
  requireIfindex,
  unchanged,
  withOutPtr,
} from "./netlink-core.ts";
import { scopeNumber } from "./netlink-names.ts";

/**
 * The address-line record (config AddressLine: src/config/lines/address.ts) as this layer
 * reads it; io may not import config, and AddressLine is assignable to this type.
 */
export interface NetAddress {
  readonly address: string;
  readonly brd?: string;
  readonly dev?: string;
  readonly scope?: string | number;
  readonly label?: string;
  readonly peer?: string;
  readonly home?: true;
  /** keepalived's `-nodad`: do NOT set IFA_F_NODAD, so the kernel runs DAD (see addAddress). */
  readonly "-nodad"?: true;
  readonly mngtmpaddr?: true;
  readonly noprefixroute?: true;
  readonly autojoin?: true;
  readonly preferred_lft?: number | "forever";
}

/** Linux ifaddr flags (uapi linux/if_addr.h), with iproute2's names for listings. */
const IFA_F = {
  secondary: 0x01,
  nodad: 0x02,
  optimistic: 0x04,
  dadfailed: 0x08,
  home: 0x10,
  deprecated: 0x20,
  tentative: 0x40,
  permanent: 0x80,
  mngtmpaddr: 0x100,
  noprefixroute: 0x200,
  autojoin: 0x400,
} as const;

/** Lifetime meaning "forever" (INFINITY_LIFE_TIME). */
const FOREVER = 0xffffffff;

export interface InterfaceAddress {
  readonly ifindex: number;
  readonly family: IpFamily;
  /** The local address, "ip/len". */
  readonly address: string;
  readonly peer?: string;
  readonly brd?: string;
  readonly label?: string;
  readonly scope: number;
  readonly flags: number;
  /** iproute2's names of the set flags (nodad, deprecated, permanent, ...). */
  readonly flagNames: readonly string[];
  /** Remaining seconds; 0xffffffff = forever. */
  readonly preferredLftS: number;
  readonly validLftS: number;
}

const devOf = (a: NetAddress, defaultDev: string): string => a.dev ?? defaultDev;
const describe = (a: NetAddress, dev: string): string => `${a.address} on ${dev}`;

/**
 * Adds the address. Like keepalived: IPv6 gets IFA_F_NODAD unless the line says `-nodad`, and
 * preferred_lft (default 0 for /128, i.e. deprecated so it is never picked as a source address,
 * forever otherwise) with valid_lft forever. An address that is already there is success.
 */
export function addAddress(a: NetAddress, defaultDev: string): NetChange {
  const dev = devOf(a, defaultDev);
  const what = `add address ${describe(a, dev)}`;
  const ifindex = requireIfindex(dev, what);
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const o = buildAddr(s, a, ifindex, what);
  addOnlyAttrs(o, s, a, what);
  const rc = nl.rtnl_addr_add(sk, o, 0);
  if (rc === -NLE.EXIST) return unchanged("present");
  nlCheck(rc, what, dev);
  return CHANGED;
}

/** Deletes the address; one that is not there (or whose interface is gone) is success. */
export function deleteAddress(a: NetAddress, defaultDev: string): NetChange {
  const dev = devOf(a, defaultDev);
  const what = `delete address ${describe(a, dev)}`;
  const ifindex = ifindexOf(dev);
  if (ifindex === undefined) return unchanged("no-interface");
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const o = buildAddr(s, a, ifindex, what);
  const rc = nl.rtnl_addr_delete(sk, o, 0);
  if (rc === -NLE.NOADDR || rc === -NLE.OBJ_NOTFOUND) return unchanged("absent");
  nlCheck(rc, what, dev);
  return CHANGED;
}

/** What identifies the address to the kernel: ifindex, family, local/prefix, peer. */
function buildAddr(s: NlScope, a: NetAddress, ifindex: number, what: string): NlPtr {
  const { nl } = nlSocket();
  const { addr, len } = prefixOf(a.address, what);
  const o = s.own(nl.rtnl_addr_alloc(), nl.rtnl_addr_put);
  if (!o) throw new AgentError("E_INTERFACE", `${what}: out of memory`);
  nl.rtnl_addr_set_ifindex(o, ifindex);
  nl.rtnl_addr_set_family(o, familyOf(addr));
  nlCheck(nl.rtnl_addr_set_local(o, nlAddr(s, addr, len)), what);
  if (a.peer !== undefined) {
    // keepalived: the prefix length of an address with a peer is the peer's.
    const peer = prefixOf(a.peer, what);
    nlCheck(nl.rtnl_addr_set_peer(o, nlAddr(s, peer.addr, peer.len)), `${what} peer ${a.peer}`);
  }
  return o;
}

/** Attributes that only matter when adding (the kernel ignores them when matching a delete). */
function addOnlyAttrs(o: NlPtr, s: NlScope, a: NetAddress, what: string): void {
  const { nl } = nlSocket();
  const { addr, len } = prefixOf(a.address, what);
  if (a.brd !== undefined) {
    const brd =
      a.brd === "+" || a.brd === "-"
        ? maskHostBits({ ...addr, len }, a.brd === "+")
        : parseIp(a.brd);
    if (!brd) throw new AgentError("E_CONFIG_INVALID", `${what}: bad broadcast ${a.brd}`, a.brd);
    nlCheck(nl.rtnl_addr_set_broadcast(o, nlAddr(s, brd)), `${what} brd ${a.brd}`);
  }
  if (a.scope !== undefined) nl.rtnl_addr_set_scope(o, scopeNumber(a.scope, what));
  if (a.label !== undefined) {
    const label = new TextEncoder().encode(`${a.label}\0`);
    nlCheck(nl.rtnl_addr_set_label(o, label), `${what} label ${a.label}`);
  }
  let flags = 0;
  if (a.home) flags |= IFA_F.home;
  if (a.mngtmpaddr) flags |= IFA_F.mngtmpaddr;
  if (a.noprefixroute) flags |= IFA_F.noprefixroute;
  if (a.autojoin) flags |= IFA_F.autojoin;
  if (addr.family === 6) {
    if (!a["-nodad"]) flags |= IFA_F.nodad;
    const lft = a.preferred_lft ?? (len === 128 ? 0 : "forever");
    if (lft !== "forever") {
      nl.rtnl_addr_set_preferred_lifetime(o, lft);
      nl.rtnl_addr_set_valid_lifetime(o, FOREVER);
    }
  }
  if (flags !== 0) nl.rtnl_addr_set_flags(o, flags);
}

/** The addresses on `ifname` (all of them if family is omitted); [] if it does not exist. */
export function listAddresses(ifname: string, family?: IpFamily): InterfaceAddress[] {
  const ifindex = ifindexOf(ifname);
  if (ifindex === undefined) return [];
  return dumpAddresses().filter(
    (x) => x.ifindex === ifindex && (family === undefined || x.family === family),
  );
}

/** Every address in the namespace: one RTM_GETADDR dump into a libnl cache, then freed. */
function dumpAddresses(): InterfaceAddress[] {
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const r = withOutPtr((out) => nl.rtnl_addr_alloc_cache(sk, out));
  nlCheck(r.rc, "list addresses");
  s.own(r.ptr, nl.nl_cache_free);
  const out: InterfaceAddress[] = [];
  for (let o = r.ptr && nl.nl_cache_get_first(r.ptr); o; o = nl.nl_cache_get_next(o)) {
    const x = readAddr(o);
    if (x) out.push(x);
  }
  return out;
}

function readAddr(o: NlPtr): InterfaceAddress | undefined {
  const { nl } = nlSocket();
  const local = readIp(nl.rtnl_addr_get_local(o));
  if (!local) return undefined;
  const len = nl.rtnl_addr_get_prefixlen(o);
  const peer = readIp(nl.rtnl_addr_get_peer(o));
  const brd = readIp(nl.rtnl_addr_get_broadcast(o));
  const label = readCString(nl.rtnl_addr_get_label(o));
  const flags = nl.rtnl_addr_get_flags(o);
  return {
    ifindex: nl.rtnl_addr_get_ifindex(o),
    family: local.addr.family,
    address: `${formatIp(local.addr)}/${len}`,
    ...(peer ? { peer: formatIp(peer.addr) } : {}),
    ...(brd ? { brd: formatIp(brd.addr) } : {}),
    ...(label !== undefined ? { label } : {}),
    scope: nl.rtnl_addr_get_scope(o),
    flags,
    flagNames: Object.entries(IFA_F)
      .filter(([, bit]) => (flags & bit) !== 0)
      .map(([name]) => name),
    preferredLftS: nl.rtnl_addr_get_preferred_lifetime(o),
    validLftS: nl.rtnl_addr_get_valid_lifetime(o),
  };
}

/**
 * Which of `addrs` (each on its own dev, else `defaultDev`) are configured right now, matched
 * on interface, address and prefix length — for startup cleanup of VIPs a previous run left.
 */
export function findAddresses<A extends NetAddress>(
  defaultDev: string,
  addrs: readonly A[],
): { present: A[]; absent: A[] } {
  const have = new Set(dumpAddresses().map((x) => `${x.ifindex} ${x.address}`));
  const present: A[] = [];
  const absent: A[] = [];
  const indexes = new Map<string, number | undefined>();
  for (const a of addrs) {
    const dev = devOf(a, defaultDev);
    if (!indexes.has(dev)) indexes.set(dev, ifindexOf(dev));
    const ifindex = indexes.get(dev);
    const { addr, len } = prefixOf(a.address, `find address ${a.address}`);
    const key = `${ifindex} ${formatIp(addr)}/${len}`;
    (ifindex !== undefined && have.has(key) ? present : absent).push(a);
  }
  return { present, absent };
}
