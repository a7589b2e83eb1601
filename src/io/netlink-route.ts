/**
 * virtual_routes / static_routes through rtnl_route (keepalived/vrrp/vrrp_iproute.c
 * netlink_route): the same request keepalived sends, built by libnl.
 */
import type { NlPtr } from "../../native/libnl.ts";
import { AgentError } from "../errors.ts";
import {
  CHANGED,
  familyOf,
  ifindexOf,
  type NetChange,
  NLE,
  NLM_F_APPEND,
  NLM_F_EXCL,
  NlScope,
  nlAddr,
  nlCheck,
  nlSocket,
  prefixOf,
  unchanged,
  unsupported,
} from "./netlink-core.ts";
import { protocolNumber, routeTypeNumber, scopeNumber, tableNumber } from "./netlink-names.ts";

/** One `nexthop` of a multipath route (config Nexthop). */
export interface NetNexthop {
  readonly via?: string;
  readonly dev?: string;
  /** 1-256 as written; the kernel stores weight - 1 (rtnh_hops). */
  readonly weight?: number;
  readonly onlink?: true;
}

/**
 * The route-line record (config RouteLine: src/config/lines/route-model.ts) as this layer
 * reads it; RouteLine is assignable to it. Options not listed here are refused with
 * "not supported yet: OPTION" rather than silently dropped.
 */
export interface NetRoute {
  readonly type?: string | number;
  readonly to: string;
  readonly src?: string;
  readonly from?: string;
  readonly via?: string;
  readonly dev?: string;
  readonly table?: number | string;
  readonly metric?: number;
  readonly scope?: string | number;
  readonly protocol?: number | string;
  readonly tos?: number | string;
  readonly onlink?: true;
  readonly family?: "inet" | "inet6";
  readonly mode?: "add" | "append" | "prepend";
  readonly no_track?: true;
  readonly track_group?: string;
  readonly nexthop?: readonly NetNexthop[];
}

/** RTAX_* metrics (uapi linux/rtnetlink.h) for the RouteLine options of the same name. */
const RTAX: Readonly<Record<string, number>> = {
  mtu: 2,
  window: 3,
  rtt: 4,
  rttvar: 5,
  ssthresh: 6,
  cwnd: 7,
  advmss: 8,
  reordering: 9,
  hoplimit: 10,
  initcwnd: 11,
  features: 12,
  rto_min: 13,
  initrwnd: 14,
  quickack: 15,
  fastopen_no_cookie: 17,
};
const RTAX_LOCK = 1;
const RTAX_FEATURE_ECN = 1;

const RTPROT_KEEPALIVED = 18;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_NOWHERE = 255;
const RT_TABLE_MAIN = 254;
const RTN_UNSPEC = 0;
const ROUTE_UNICAST = 1;
const RTNH_F_ONLINK = 4;

const HANDLED = new Set([
  ...["type", "to", "src", "from", "via", "dev", "table", "metric", "scope", "protocol"],
  ...["tos", "onlink", "family", "mode", "no_track", "track_group", "nexthop"],
  ...Object.keys(RTAX),
  ...Object.keys(RTAX).map((k) => `${k}_lock`),
]);
const NH_HANDLED = new Set(["via", "dev", "weight", "onlink"]);

function describe(r: NetRoute): string {
  const parts = [`route ${r.to}`];
  if (r.via !== undefined) parts.push(`via ${r.via}`);
  if (r.dev !== undefined) parts.push(`dev ${r.dev}`);
  if (r.table !== undefined) parts.push(`table ${r.table}`);
  return parts.join(" ");
}

/**
 * Adds the route. Like keepalived: protocol keepalived (18) unless `no_track` with its own
 * protocol, scope universe unless given, and `ip route prepend` semantics unless the line says
 * add (NLM_F_EXCL) or append. An identical route already there is success.
 */
export function addRoute(r: NetRoute): NetChange {
  const what = `add ${describe(r)}`;
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const route = buildRoute(s, r, what, true);
  if (!route) throw new AgentError("E_INTERFACE", `${what}: no such interface`, r.dev);
  const flags = r.mode === "add" ? NLM_F_EXCL : r.mode === "append" ? NLM_F_APPEND : 0;
  const rc = nl.rtnl_route_add(sk, route, flags);
  if (rc === -NLE.EXIST) return unchanged("present");
  nlCheck(rc, what, r.dev);
  return CHANGED;
}

/** Deletes the route; one that is not there (or whose interface is gone) is success. */
export function deleteRoute(r: NetRoute): NetChange {
  const what = `delete ${describe(r)}`;
  const { nl, sk } = nlSocket();
  using s = new NlScope();
  const route = buildRoute(s, r, what, false);
  if (!route) return unchanged("no-interface");
  const rc = nl.rtnl_route_delete(sk, route, 0);
  if (rc === -NLE.OBJ_NOTFOUND) return unchanged("absent");
  nlCheck(rc, what, r.dev);
  return CHANGED;
}

/** The rtnl_route for `r`, or null if an interface it names does not exist. */
function buildRoute(s: NlScope, r: NetRoute, what: string, add: boolean): NlPtr | null {
  refuseUnsupported(r, what);
  const { nl } = nlSocket();
  const dst = prefixOf(r.to, what);
  const route = s.own(nl.rtnl_route_alloc(), nl.rtnl_route_put);
  if (!route) throw new AgentError("E_INTERFACE", `${what}: out of memory`);
  const family = familyOf(dst.addr);
  nlCheck(nl.rtnl_route_set_family(route, family), what);
  nlCheck(nl.rtnl_route_set_dst(route, nlAddr(s, dst.addr, dst.len)), what);
  nl.rtnl_route_set_table(
    route,
    r.table === undefined ? RT_TABLE_MAIN : tableNumber(r.table, what),
  );
  const keepProto = r.no_track && r.protocol !== undefined;
  nl.rtnl_route_set_protocol(
    route,
    keepProto ? protocolNumber(r.protocol!, what) : RTPROT_KEEPALIVED,
  );
  const scope = r.scope !== undefined ? scopeNumber(r.scope, what) : undefined;
  // A delete with scope nowhere / type unspec matches the route whatever they are (kernel
  // fib_table_delete), which is what keepalived sends.
  nl.rtnl_route_set_scope(route, scope ?? (add ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE));
  const type = r.type !== undefined ? routeTypeNumber(r.type, what) : undefined;
  nlCheck(nl.rtnl_route_set_type(route, type ?? (add ? ROUTE_UNICAST : RTN_UNSPEC)), what);
  if (r.metric !== undefined) nl.rtnl_route_set_priority(route, r.metric);
  if (typeof r.tos === "number") nl.rtnl_route_set_tos(route, r.tos);
  if (r.src !== undefined) {
    const src = prefixOf(r.src, what);
    nlCheck(nl.rtnl_route_set_pref_src(route, nlAddr(s, src.addr)), `${what} src ${r.src}`);
  }
  if (r.from !== undefined) {
    const from = prefixOf(r.from, what);
    nlCheck(nl.rtnl_route_set_src(route, nlAddr(s, from.addr, from.len)), `${what} from`);
  }
  setMetrics(route, r, what);
  return addNexthops(route, r, family, what) ? route : null;
}

function refuseUnsupported(r: NetRoute, what: string): void {
  for (const [k, v] of Object.entries(r))
    if (v !== undefined && !HANDLED.has(k)) throw unsupported(k, what);
  if (typeof r.tos === "string") throw unsupported(`tos name '${r.tos}'`, what);
  for (const nh of r.nexthop ?? [])
    for (const [k, v] of Object.entries(nh))
      if (v !== undefined && !NH_HANDLED.has(k)) throw unsupported(`nexthop ${k}`, what);
}

function setMetrics(route: NlPtr, r: NetRoute, what: string): void {
  const { nl } = nlSocket();
  const fields = r as unknown as Readonly<Record<string, unknown>>;
  let lock = 0;
  for (const [key, rtax] of Object.entries(RTAX)) {
    const v = fields[key];
    if (v === undefined) continue;
    const n = key === "features" ? (v === "ecn" ? RTAX_FEATURE_ECN : Number.NaN) : v;
    if (typeof n !== "number" || !Number.isInteger(n)) throw unsupported(`${key} ${v}`, what);
    nlCheck(nl.rtnl_route_set_metric(route, rtax, n), `${what} ${key}`);
    if (fields[`${key}_lock`] === true) lock |= 1 << rtax;
  }
  if (lock !== 0) nlCheck(nl.rtnl_route_set_metric(route, RTAX_LOCK, lock), `${what} lock`);
}

/**
 * The single nexthop (via / dev / onlink on the line) or the multipath list. Returns false if
 * a named interface does not exist. The route owns each nexthop once added (rtnl_route_put
 * frees them); one that fails before being added is freed here.
 */
function addNexthops(route: NlPtr, r: NetRoute, family: number, what: string): boolean {
  const hops: NetNexthop[] = r.nexthop?.length
    ? [...r.nexthop]
    : r.via !== undefined || r.dev !== undefined
      ? [{ ...pick(r) }]
      : [];
  const { nl } = nlSocket();
  for (const h of hops) {
    const ifindex = h.dev === undefined ? 0 : ifindexOf(h.dev);
    if (ifindex === undefined) return false;
    const nh = nl.rtnl_route_nh_alloc();
    if (!nh) throw new AgentError("E_INTERFACE", `${what}: out of memory`);
    try {
      if (ifindex) nl.rtnl_route_nh_set_ifindex(nh, ifindex);
      if (h.via !== undefined) setGateway(nh, h.via, family, what);
      if (h.weight !== undefined) nl.rtnl_route_nh_set_weight(nh, h.weight - 1);
      if (h.onlink || r.onlink) nl.rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
    } catch (e) {
      nl.rtnl_route_nh_free(nh);
      throw e;
    }
    nl.rtnl_route_add_nexthop(route, nh);
  }
  return true;
}

function pick(r: NetRoute): NetNexthop {
  return {
    ...(r.via !== undefined ? { via: r.via } : {}),
    ...(r.dev !== undefined ? { dev: r.dev } : {}),
  };
}

/** rtnl_route_nh_set_gateway takes its own reference, so the scope's copy is released. */
function setGateway(nh: NlPtr, via: string, family: number, what: string): void {
  const { nl } = nlSocket();
  using s = new NlScope();
  const gw = prefixOf(via, what);
  // keepalived would send RTA_VIA for a gateway of the other family (IPv4 via IPv6).
  if (familyOf(gw.addr) !== family) throw unsupported(`via ${via} of another family`, what);
  nl.rtnl_route_nh_set_gateway(nh, nlAddr(s, gw.addr));
}
