/**
 * Interfaces through rtnl_link: what track_interface needs to know about a link, and the VMAC
 * life cycle (keepalived/vrrp/vrrp_vmac.c): a macvlan in private mode carrying the VRRP MAC
 * 00:00:5e:00:01:VRID (RFC 5798 §7.3), created on the parent, set up, deleted at shutdown.
 */
import type { NlPtr } from "../../native/libnl.ts";
import { AgentError } from "../errors.ts";
import { OPERSTATES, type OperState } from "./link-events.ts";
import {
  AF_LLC,
  CHANGED,
  getLink,
  type NetChange,
  NLE,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NlScope,
  nlCheck,
  nlSocket,
  readCString,
  readMac,
  unchanged,
} from "./netlink-core.ts";

export type { OperState };

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_LOWER_UP = 0x10000;

/** MACVLAN_MODE_* (uapi linux/if_link.h). keepalived's VMAC is always private. */
const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;
export type MacvlanMode = keyof typeof MACVLAN_MODES;

/** IN6_ADDR_GEN_MODE_NONE: no kernel link-local on an IPv6 VMAC (keepalived adds its own). */
const IN6_ADDR_GEN_MODE_NONE = 1;

export interface LinkInfo {
  readonly ifindex: number;
  readonly name: string;
  /** Link-layer address, lower-case aa:bb:cc:dd:ee:ff; undefined for links without one. */
  readonly mac?: string;
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  /** IFF_RUNNING: operationally up (carrier and not dormant). */
  readonly running: boolean;
  /** IFF_LOWER_UP: the driver signals carrier. */
  readonly lowerUp: boolean;
  readonly operstate: OperState;
  readonly mtu: number;
  /** rtnl link kind ("veth", "macvlan", ...); undefined for plain devices (lo, physical). */
  readonly kind?: string;
  /** IFLA_LINK: the parent's ifindex for macvlan/veth, else undefined. */
  readonly parentIfindex?: number;
  /** Only for kind macvlan. */
  readonly macvlanMode?: MacvlanMode | number;
  readonly flags: number;
}

/** The link called `ifname` as the kernel sees it now, or undefined if there is none. */
export function linkInfo(ifname: string): LinkInfo | undefined {
  using s = new NlScope();
  const link = getLink(s, ifname);
  return link ? readLink(link) : undefined;
}

function readLink(link: NlPtr): LinkInfo {
  const { nl } = nlSocket();
  const flags = nl.rtnl_link_get_flags(link);
  const kind = readCString(nl.rtnl_link_get_type(link));
  const parent = nl.rtnl_link_get_link(link);
  const mac = readMac(nl.rtnl_link_get_addr(link));
  const mode = kind === "macvlan" ? nl.rtnl_link_macvlan_get_mode(link) : undefined;
  const modeName = Object.entries(MACVLAN_MODES).find(([, v]) => v === mode)?.[0];
  return {
    ifindex: nl.rtnl_link_get_ifindex(link),
    name: readCString(nl.rtnl_link_get_name(link)) ?? "",
    ...(mac !== undefined ? { mac } : {}),
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
    operstate: OPERSTATES[nl.rtnl_link_get_operstate(link)] ?? "unknown",
    mtu: nl.rtnl_link_get_mtu(link),
    ...(kind !== undefined ? { kind } : {}),
    ...(parent > 0 ? { parentIfindex: parent } : {}),
    ...(mode !== undefined ? { macvlanMode: (modeName as MacvlanMode | undefined) ?? mode } : {}),
    flags,
  };
}

export interface MacvlanSpec {
  readonly parent: string;
  readonly name: string;
  /** aa:bb:cc:dd:ee:ff, e.g. the VRRP virtual MAC 00:00:5e:00:01:VRID. */
  readonly mac: string;
  readonly mode: MacvlanMode;
  /** IPv6 VMAC: stop the kernel generating a link-local (keepalived does, see §2.12). */
  readonly ipv6AddrGenNone?: boolean;
}

function macBytes(mac: string, what: string): Uint8Array {
  const parts = mac.split(":");
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p)))
    throw new AgentError("E_CONFIG_INVALID", `${what}: '${mac}' is not a MAC address`, mac);
  return Uint8Array.from(parts, (p) => Number.parseInt(p, 16));
}

/**
 * Creates the macvlan `name` on `parent` with `mac`, in the parent's link group (as keepalived
 * does). It is left down: setLinkUp after the sysctls are set. If a macvlan of that name on that
 * parent with that MAC already exists (a previous run), that is success; any other link of
 * that name is an error — we never take over an interface we did not make.
 */
export function createMacvlan(spec: MacvlanSpec): NetChange {
  const what = `create macvlan ${spec.name} on ${spec.parent}`;
  const mac = macBytes(spec.mac, what);
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const parent = getLink(s, spec.parent);
  if (!parent) throw new AgentError("E_INTERFACE", `${what}: no such interface`, spec.parent);
  const parentIndex = nl.rtnl_link_get_ifindex(parent);
  const existing = linkInfo(spec.name);
  if (existing) return matchExisting(existing, spec, parentIndex, what);
  const link = s.own(nl.rtnl_link_macvlan_alloc(), nl.rtnl_link_put);
  if (!link) throw new AgentError("E_INTERFACE", `${what}: out of memory`);
  const name = new TextEncoder().encode(`${spec.name}\0`);
  nl.rtnl_link_set_name(link, name);
  nl.rtnl_link_set_link(link, parentIndex);
  const addr = s.own(nl.nl_addr_build(AF_LLC, mac, mac.length), nl.nl_addr_put);
  if (!addr) throw new AgentError("E_INTERFACE", `${what}: out of memory`);
  nl.rtnl_link_set_addr(link, addr);
  nlCheck(nl.rtnl_link_macvlan_set_mode(link, MACVLAN_MODES[spec.mode]), `${what} mode`);
  const group = nl.rtnl_link_get_group(parent);
  if (group !== 0) nl.rtnl_link_set_group(link, group);
  const rc = nl.rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
  if (rc === -NLE.EXIST) {
    const raced = linkInfo(spec.name);
    if (raced) return matchExisting(raced, spec, parentIndex, what);
  }
  nlCheck(rc, what, spec.name);
  if (spec.ipv6AddrGenNone) {
    try {
      setAddrGenNone(spec.name, what);
    } catch (e) {
      deleteLink(spec.name, { kind: "macvlan" }); // don't leave a half-made VMAC behind
      throw e;
    }
  }
  return CHANGED;
}

/**
 * IFLA_INET6_ADDR_GEN_MODE none, as a change after creation: the kernel refuses IFLA_AF_SPEC
 * in the RTM_NEWLINK that creates the link (EAFNOSUPPORT, seen on 6.18; `ip link add ...
 * addrgenmode none` fails the same way).
 */
function setAddrGenNone(name: string, what: string): void {
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const orig = getLink(s, name);
  if (!orig) throw new AgentError("E_INTERFACE", `${what}: ${name} vanished`, name);
  const change = s.own(nl.rtnl_link_alloc(), nl.rtnl_link_put);
  if (!change) throw new AgentError("E_INTERFACE", `${what}: out of memory`);
  nlCheck(nl.rtnl_link_inet6_set_addr_gen_mode(change, IN6_ADDR_GEN_MODE_NONE), what);
  nlCheck(nl.rtnl_link_change(sk, orig, change, 0), `${what} addrgenmode none`, name);
}

function matchExisting(
  l: LinkInfo,
  spec: MacvlanSpec,
  parentIndex: number,
  what: string,
): NetChange {
  const ok =
    l.kind === "macvlan" &&
    l.parentIfindex === parentIndex &&
    l.mac === spec.mac.toLowerCase() &&
    l.macvlanMode === spec.mode;
  if (ok) return unchanged("present");
  const is = `${l.kind ?? "device"} mac ${l.mac ?? "none"} mode ${l.macvlanMode ?? "-"}`;
  throw new AgentError(
    "E_INTERFACE",
    `${what}: ${spec.name} already exists as a different interface (${is}); not touching it`,
    spec.name,
  );
}

/** Sets IFF_UP on `name`; already up is success. */
export function setLinkUp(name: string): NetChange {
  return setUp(name, true);
}

/** Clears IFF_UP on `name`; already down is success. */
export function setLinkDown(name: string): NetChange {
  return setUp(name, false);
}

function setUp(name: string, up: boolean): NetChange {
  const what = `set link ${name} ${up ? "up" : "down"}`;
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const orig = getLink(s, name);
  if (!orig) throw new AgentError("E_INTERFACE", `${what}: no such interface`, name);
  if (((nl.rtnl_link_get_flags(orig) & IFF_UP) !== 0) === up) return unchanged("already");
  const change = s.own(nl.rtnl_link_alloc(), nl.rtnl_link_put);
  if (!change) throw new AgentError("E_INTERFACE", `${what}: out of memory`);
  if (up) nl.rtnl_link_set_flags(change, IFF_UP);
  else nl.rtnl_link_unset_flags(change, IFF_UP);
  nlCheck(nl.rtnl_link_change(sk, orig, change, 0), what, name);
  return CHANGED;
}

/**
 * Deletes the link `name`; one that does not exist is success. With `kind`, refuses to delete
 * a link of another kind, so a misconfigured VMAC name can never remove eth0.
 */
export function deleteLink(name: string, opts: { kind?: string } = {}): NetChange {
  const what = `delete link ${name}`;
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const link = getLink(s, name);
  if (!link) return unchanged("absent");
  const kind = readCString(nl.rtnl_link_get_type(link));
  if (opts.kind !== undefined && kind !== opts.kind)
    throw new AgentError(
      "E_INTERFACE",
      `${what}: it is ${kind ?? "a plain device"}, not ${opts.kind}; not deleting it`,
      name,
    );
  const rc = nl.rtnl_link_delete(sk, link);
  if (rc === -NLE.NODEV || rc === -NLE.OBJ_NOTFOUND) return unchanged("absent");
  nlCheck(rc, what, name);
  return CHANGED;
}

/** RFC 5798 §7.3 virtual router MAC: 00-00-5E-00-01-{VRID} (IPv4), 00-00-5E-00-02-{VRID} (IPv6). */
export function vrrpMac(vrid: number, family: 4 | 6): string {
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255)
    throw new AgentError("E_CONFIG_INVALID", `VRID ${vrid} is not in 1-255`);
  return `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid.toString(16).padStart(2, "0")}`;
}
